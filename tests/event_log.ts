/**
 * Engine events as tests see them: an `EventLog` that records every event
 * of a client with the time and the client's state at that moment and waits
 * for the n-th event of a kind, and `engineErrorOf`, the EngineError a task
 * failed with, checked against its engine and task.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type Client,
  EngineError,
  type EngineEvent,
  type EngineStatus,
} from "../mod.ts";
import { errorOf } from "./helpers.ts";

/**
 * How long an awaited engine event may take (never a speed test): the same
 * bound as the hang guards' default.
 */
const HANG_MS = 10_000;

/**
 * The `EngineError` that `p` rejects with; checks engine and task.
 *
 * @example
 * ```ts
 * import { engineErrorOf } from "./event_log.ts";
 * import { withClient } from "./helpers.ts";
 * await withClient({ workers: 1 }, async (client) => {
 *   const e = await engineErrorOf(
 *     client.view(0).applyAsync(() => Deno.exit(3)),
 *     "the dying task",
 *   );
 *   console.log(e.reason);
 * });
 * ```
 */
export async function engineErrorOf(
  p: PromiseLike<unknown> & { taskIds: number[]; engineIds: number[] },
  what: string,
): Promise<EngineError> {
  const e = await errorOf(p, what);
  assert.ok(e instanceof EngineError, `${what}: ${e.name}: ${e.message}`);
  assert.equal(e.engineId, p.engineIds[0], what);
  assert.equal(e.taskId, p.taskIds[0], what);
  assert.equal(typeof e.reason, "string");
  assert.ok(e.reason.length > 0, `${what}: empty reason`);
  return e;
}

/**
 * An engine event, when it was heard, and the client as it was then.
 *
 * @example
 * ```ts
 * import type { Logged } from "./event_log.ts";
 * const died = (e: Logged<"died">): string => `${e.engineId}: ${e.reason}`;
 * ```
 */
export type Logged<T extends EngineEvent["type"] = EngineEvent["type"]> =
  & Extract<EngineEvent, { type: T }>
  & { at: number; ids: number[]; engines: EngineStatus[] };

/**
 * Records every engine event of a client, with the time and a snapshot of
 * `client.ids` and `client.engines()` taken inside the listener, and lets a
 * test wait for the n-th event of a kind (events that already happened
 * count, so there is no race between an action and the wait for its event).
 *
 * @example
 * ```ts
 * import { EventLog } from "./event_log.ts";
 * import { withClient } from "./helpers.ts";
 * await withClient({ workers: 1 }, async (client) => {
 *   const log = new EventLog(client);
 *   const ar = client.view(0).applyAsync(() => Deno.exit(1));
 *   const died = await log.nth(0, "died", 1);
 *   console.log(died.reason, died.ids); // engine 0 is no longer in ids
 *   await ar.wait(); // it failed with the engine
 *   log.stop();
 * });
 * ```
 */
export class EventLog {
  readonly events: Logged[] = [];
  readonly stop: () => void;
  #wake = new Set<() => void>();

  constructor(client: Client) {
    this.stop = client.onEngineEvent((event) => {
      this.events.push({
        ...event,
        at: performance.now(),
        ids: client.ids,
        engines: client.engines(),
      });
      for (const wake of [...this.#wake]) wake();
    });
  }

  /** The events of one engine, optionally of one type, in order. */
  of<T extends EngineEvent["type"]>(id: number, type?: T): Logged<T>[] {
    return this.events.filter((e) =>
      e.engineId === id && (type === undefined || e.type === type)
    ) as Logged<T>[];
  }

  /** Types of one engine's events, in order. */
  typesOf(id: number): string[] {
    return this.of(id).map((e) => e.type);
  }

  /** Resolves with engine `id`'s `n`-th (1-based) event of `type`. */
  nth<T extends EngineEvent["type"]>(
    id: number,
    type: T,
    n: number,
    timeoutMs = HANG_MS,
  ): Promise<Logged<T>> {
    const { promise, resolve, reject } = Promise.withResolvers<Logged<T>>();
    const check = () => {
      const found = this.of(id, type)[n - 1];
      if (!found) return;
      this.#wake.delete(check);
      clearTimeout(timer);
      resolve(found);
    };
    const timer = setTimeout(() => {
      this.#wake.delete(check);
      reject(
        new Error(
          `hang guard: no ${type} event #${n} for engine ${id} in ` +
            `${timeoutMs} ms; its events: ${JSON.stringify(this.typesOf(id))}`,
        ),
      );
    }, timeoutMs);
    this.#wake.add(check);
    check();
    return promise;
  }
}
