/**
 * A launcher's engines, as the supervisor sees them: one `LinkFactory`
 * that asks the launcher for engines, batching the ones asked for in the
 * same turn (a job array, one `mpiexec`), and gives each link the handle
 * the launcher returned, so that the engine's loss ends the link and
 * ending the link stops it.
 *
 * @module
 */

import type { LinkFactory } from "../protocol/engine_link.ts";
import { messageOf } from "../protocol/errors.ts";
import { within } from "../actors/async.ts";
import type { TcpLink } from "../transport/tcp_link.ts";
import type { EngineHost } from "../transport/engine_host.ts";
import {
  type LaunchedEngine,
  type Launcher,
  type LaunchRequest,
  startThrough,
} from "./launcher.ts";

/** How long a launcher's `stop` (and an engine's end after it) may take. */
export const LAUNCH_STOP_BOUND_MS = 30_000;

/**
 * What a launch group needs of admission: a link that waits for an engine
 * with its own token, and the program engines run.
 */
export interface LaunchHost {
  /** A link for `engineId` that the engine holding `secrets` will attach. */
  expect(engineId: number): { link: TcpLink; secrets: string };
  /** The program and the address engines dial. */
  request(): Omit<LaunchRequest, "engines">;
}

/**
 * The engines of one launcher.
 *
 * @example
 * ```ts
 * import { LaunchGroup } from "./launch_group.ts";
 * import type { Launcher } from "./launcher.ts";
 * function factoryOf(launcher: Launcher, host: ConstructorParameters<typeof LaunchGroup>[1]) {
 *   return new LaunchGroup(launcher, host).spawn;
 * }
 * ```
 */
export class LaunchGroup {
  /** The launcher whose engines these are. */
  readonly launcher: Launcher;
  #host: LaunchHost;
  #batch: { engineId: number; secrets: string; link: TcpLink }[] = [];
  /** Calls of `launcher.start` that have not settled. */
  #starts = new Set<Promise<void>>();
  /** Stops asked of the launcher's handles that have not ended. */
  #stops = new Set<Promise<void>>();

  /** Engines of `launcher`, admitted through `host`. */
  constructor(launcher: Launcher, host: LaunchHost) {
    this.launcher = launcher;
    this.#host = host;
  }

  /**
   * Starts (or restarts) an engine through the launcher. The link it
   * returns waits for the engine; engines asked for in the same turn go to
   * the launcher in one `start`.
   */
  spawn: LinkFactory = (engineId) => {
    const { link, secrets } = this.#host.expect(engineId);
    link.where = { launcher: this.launcher.name };
    if (this.#batch.length === 0) queueMicrotask(() => this.#flush());
    this.#batch.push({ engineId, secrets, link });
    return link;
  };

  /**
   * Resolves once every start asked of the launcher has settled and every
   * engine it started has been stopped; then the launcher closes.
   */
  async close(): Promise<void> {
    while (this.#starts.size > 0 || this.#stops.size > 0) {
      await Promise.all([...this.#starts, ...this.#stops]);
    }
    await bounded(
      Promise.resolve(this.launcher.close?.()),
      `the ${this.launcher.name} launcher's close`,
    );
  }

  #flush(): void {
    const batch = this.#batch;
    this.#batch = [];
    const started = (async () => {
      // The request is built in there: what it needs may throw (the host's
      // name needs --allow-sys=hostname), and must fail these engines, not
      // the process from a microtask.
      const answer = await startThrough(this.launcher, () => ({
        ...this.#host.request(),
        engines: batch.map(({ engineId, secrets }) => ({ engineId, secrets })),
      }));
      if ("why" in answer) {
        for (const { link } of batch) link.own(failed(answer.why));
        return;
      }
      const { handles } = answer;
      batch.forEach(({ link }, i) => {
        const handle = handles[i];
        if (handle.info) link.where = { ...link.where, ...handle.info };
        // Closed meanwhile: the link has ended, and stops it at once.
        link.own(this.#tracked(handle));
      });
    })();
    this.#starts.add(started);
    started.finally(() => this.#starts.delete(started));
  }

  /**
   * The handle, with bounds: its `stop` is awaited by `close`, and after a
   * stop its engine counts as ended within `LAUNCH_STOP_BOUND_MS` whatever
   * the launcher says, so that no close waits forever on one.
   */
  #tracked(handle: LaunchedEngine): EngineHost {
    const stopped = Promise.withResolvers<void>();
    const what = `an engine of the ${this.launcher.name} launcher`;
    // Bounded only once stopped: a running engine may run for days.
    const ended = Promise.race([
      handle.ended,
      stopped.promise.then(async () => {
        const end = await within(handle.ended, LAUNCH_STOP_BOUND_MS);
        return end.done
          ? end.value
          : `${what} did not end within ${LAUNCH_STOP_BOUND_MS} ms of its stop`;
      }),
    ]);
    let stopping: Promise<void> | undefined;
    return {
      ended,
      get queued() {
        return handle.queued;
      },
      unref: () => handle.unref?.(),
      stop: () => {
        stopping ??= (async () => {
          stopped.resolve();
          await bounded(
            Promise.resolve().then(() => handle.stop()),
            `the stop of ${what}`,
          );
          await ended;
        })();
        this.#stops.add(stopping);
        stopping.finally(() => this.#stops.delete(stopping!));
        return stopping;
      },
    };
  }
}

/** A host that ended before it began: its launcher failed. */
function failed(why: string): EngineHost {
  return { ended: Promise.resolve(why), stop: () => Promise.resolve() };
}

/** `work`, or a warning once it has taken `LAUNCH_STOP_BOUND_MS`. */
async function bounded(work: Promise<unknown>, what: string): Promise<void> {
  const settled = work.catch((error) => {
    console.error(`troupe: ${what} failed: ${messageOf(error)}`);
  });
  if (!(await within(settled, LAUNCH_STOP_BOUND_MS)).done) {
    console.error(
      `troupe: ${what} took more than ${LAUNCH_STOP_BOUND_MS} ms; going on`,
    );
  }
}
