/**
 * Shared test scaffolding: a client that is always closed, a check that no
 * engine thread outlives it (Deno's sanitizers do not see Workers), and the
 * small waits and checks that every test file needs, defined once so that a
 * hang or a wrong outcome fails the same way everywhere.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type Client,
  type ClientOptions,
  type EngineEvent,
  engineId,
  type RestartPolicy,
} from "../mod.ts";
import { CLIENT_SIDES, type ClientSide, withClientOn } from "./client_sides.ts";
import { guard, until } from "./waits.ts";

// Where every test file has always found them: one import for the basics.
export {
  type ClientSide,
  withClient,
  withClientOn,
  withController,
} from "./client_sides.ts";
export { errorOf, guard, sleep, until } from "./waits.ts";

/**
 * What a suite's test names start with: the engine kind, and "connected"
 * before it on a connected client, so that a failure names both.
 *
 * @example
 * ```ts
 * import { suiteKind } from "./helpers.ts";
 * console.log(suiteKind("worker", "connected")); // "connected worker"
 * ```
 */
export function suiteKind(kind: EngineKind, side: ClientSide): string {
  return side === "embedded" ? kind : `connected ${kind}`;
}

/** `[0, 1, …, n - 1]`: engine ids and task inputs read best as a range. */
export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** Everything `iterable` yields, once it ends: for checking a whole stream. */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/**
 * A latch in shared memory that the client opens: a Worker task holding it
 * keeps its engine occupied for exactly as long as the test needs, however
 * slow the machine (no race between a task's duration and the test's
 * timers).
 */
export function latch(): { sab: SharedArrayBuffer; open(): void } {
  const sab = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
  return { sab, open: () => void Atomics.store(new Int32Array(sab), 0, 1) };
}

/**
 * Runs `body` with a new temporary directory (for latch and connection
 * files), removed afterwards whatever happens.
 */
export async function withTempDir(
  body: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "troupe_test_" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * How a test that needs something this machine may lack is declared: when
 * `missing` says what is missing, one line on stderr (which deno test shows
 * as the file's pre-test output) names the file, what is missing and
 * `install` (how to get it), and the test's name says why it is skipped, so
 * that `ignored (0ms)` never stands alone.
 *
 * @example
 * ```ts
 * import { skipUnless } from "./helpers.ts";
 * const skip = skipUnless("x_test.ts", undefined, "apt-get install x");
 * Deno.test({ name: "uses x" + skip.because, ignore: skip.ignore, fn() {} });
 * ```
 */
export function skipUnless(
  file: string,
  missing: string | undefined,
  install: string,
): { ignore: boolean; because: string } {
  if (missing === undefined) return { ignore: false, because: "" };
  console.warn(`${file}: skipped, ${missing}; ${install}`);
  return { ignore: true, because: ` (skipped: ${missing})` };
}

/**
 * Runs the tests of `file` (under tests/) whose names contain `filter` in
 * a `deno test` of their own, `env` (and NO_COLOR) set over this
 * process's environment, within 60 s: how a test sees what `skipUnless`
 * says when what it needs is missing. `out` is stdout, `all` stdout and
 * stderr.
 *
 * @example
 * ```ts
 * import { runTestsApart } from "./helpers.ts";
 * async function skipsWithoutX(): Promise<boolean> {
 *   const run = await runTestsApart("x_test.ts", "uses x", { X: "none" });
 *   return run.code === 0 && run.out.includes("1 ignored");
 * }
 * ```
 */
export async function runTestsApart(
  file: string,
  filter: string,
  env: Record<string, string>,
): Promise<{ code: number; out: string; all: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "test",
      "--allow-all",
      "--frozen",
      "--no-check",
      "--filter",
      filter,
      `tests/${file}`,
    ],
    cwd: new URL("../", import.meta.url),
    env: { ...env, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code, out: decode(stdout), all: decode(stdout) + decode(stderr) };
}

/** The kinds of engine a client starts itself: Worker threads or processes. */
export type EngineKind = "worker" | "process";

/**
 * Every kind of engine a client starts itself, for suites that must pass on
 * each (one `Deno.test` per kind, so that a failure names the kind).
 *
 * @example
 * ```ts
 * import { ENGINE_KINDS } from "./helpers.ts";
 * for (const kind of ENGINE_KINDS) console.log(kind);
 * ```
 */
export const ENGINE_KINDS: readonly EngineKind[] = ["worker", "process"];

/**
 * Client options that start `n` engines of `kind` and nothing else.
 *
 * @example
 * ```ts
 * import { engines, withClient } from "./helpers.ts";
 * await withClient(engines("worker", 1), async (client) => {
 *   console.log(client.engines()[0].kind); // "worker"
 * });
 * ```
 */
export function engines(kind: EngineKind, n: number): ClientOptions {
  return kind === "worker" ? { workers: n } : { workers: 0, processes: n };
}

/**
 * Records a client's engine events until `stop()`; `has(type, id)` says
 * whether engine `id` had an event of `type` (events that already happened
 * count, so there is no race between an action and the check).
 *
 * @example
 * ```ts
 * import { recordEvents, withClient } from "./helpers.ts";
 * await withClient({ workers: 1 }, async (client) => {
 *   const rec = recordEvents(client);
 *   console.log(rec.has("died", 0)); // false
 *   rec.stop();
 * });
 * ```
 */
export function recordEvents(client: Client): {
  events: EngineEvent[];
  stop: () => void;
  has: (type: EngineEvent["type"], id: number) => boolean;
} {
  const events: EngineEvent[] = [];
  const stop = client.onEngineEvent((e) => events.push(e));
  return {
    events,
    stop,
    has: (type, id) => events.some((e) => e.type === type && e.engineId === id),
  };
}

/**
 * Asserts the end of a death mid-task on a client of engines 0 and 1: engine
 * 0 died under a task while `other`, on engine 1, was held; `other` still
 * ends with "released" once let go, engine 0 alone died and is restarted
 * under its id (once more than `restarts[0]`, still of `kind`), engine 1
 * not. `up` runs before the ids are checked (a wait for the engines to be
 * idle, say): by default none, so the ids are checked as the restart is
 * told.
 *
 * @example
 * ```ts ignore
 * import { assertRestartedAlone, recordEvents } from "./helpers.ts";
 * const rec = recordEvents(client);
 * await assertRestartedAlone(client, rec, other, { restarts, kind: "worker" });
 * ```
 */
export async function assertRestartedAlone(
  client: Client,
  rec: ReturnType<typeof recordEvents>,
  other: PromiseLike<unknown>,
  before: { restarts: readonly number[]; kind: EngineKind },
  { up = () => Promise.resolve(), ms = 20_000 }: {
    up?: () => Promise<void>;
    ms?: number;
  } = {},
): Promise<void> {
  assert.equal(
    await guard(other, "the other engine's task", ms),
    "released",
  );
  await until(
    () => rec.has("restarted", 0),
    "engine 0 to be restarted",
    ms,
  );
  assert.ok(rec.has("died", 0));
  assert.ok(!rec.has("died", 1), "engine 1 died too");
  await up();
  assert.deepEqual(client.ids, [0, 1]);
  const status = client.engines();
  assert.equal(status[0].restarts, before.restarts[0] + 1);
  assert.equal(status[0].kind, before.kind);
  assert.equal(status[1].restarts, before.restarts[1]);
}

/**
 * Asserts that a normal task on every engine still gives the right answer:
 * what a test checks after something went wrong on an engine.
 *
 * @example
 * ```ts
 * import { stillWorks, withClient } from "./helpers.ts";
 * await withClient({ workers: 2 }, async (client) => {
 *   await stillWorks(client);
 * });
 * ```
 */
export async function stillWorks(client: Client): Promise<void> {
  const ids = client.ids;
  assert.deepEqual(
    await client.view().applySync((x: number) => x + engineId, 100),
    ids.map((id) => 100 + id),
  );
}

/** What each step of an engine-kind suite is given by {@linkcode eachEngineKind}. */
export interface EngineKindContext {
  /** The `Deno.test` of this kind, for `t.step`. */
  t: Deno.TestContext;
  /** The client the suite's steps share (its engines are ids `0…n-1`). */
  client: Client;
  /** The kind of engine the client started. */
  kind: EngineKind;
  /** Whether the client is embedded or connected to a controller. */
  side: ClientSide;
  /** A temporary directory (latch and marker files), removed afterwards. */
  dir: string;
}

/**
 * Registers one `Deno.test` per engine kind and client side, named
 * `"<name> on <n> <kind> engines"` on an embedded client and
 * `"<name> on <n> connected <kind> engines"` on one connected to a
 * controller of them (`withClientOn`), whose `steps` share one client of
 * `n` engines of that kind (with `options` added, a restart policy say) and
 * a temporary directory: the view API is the same either way, checked by
 * the same steps. It asserts first that the client has engines `0…n-1`,
 * all of that kind: a step never runs on a cluster other than the one it
 * names. One place for the setup that every view suite needs, so that a
 * suite file holds only its steps.
 *
 * @example
 * ```ts ignore
 * import { eachEngineKind } from "./helpers.ts";
 * eachEngineKind("DirectView push", 2, async ({ t, client }) => {
 *   await t.step("push", () => client.view().push({ a: 1 }));
 * });
 * ```
 */
export function eachEngineKind(
  name: string,
  n: number,
  steps: (context: EngineKindContext) => Promise<void>,
  options: Partial<ClientOptions> = {},
): void {
  for (const side of CLIENT_SIDES) {
    for (const kind of ENGINE_KINDS) {
      Deno.test(`${name} on ${n} ${suiteKind(kind, side)} engines`, async (t) => {
        await withTempDir(async (dir) => {
          await withClientOn(
            side,
            { ...engines(kind, n), ...options },
            async (client) => {
              assert.deepEqual(client.ids, range(n));
              assert.deepEqual(
                client.engines().map((e) => e.kind),
                range(n).map(() => kind),
              );
              await steps({ t, client, kind, side, dir });
            },
          );
        });
      });
    }
  }
}

/**
 * A restart policy that always brings an engine back at once (100 restarts
 * a minute, 1 to 5 ms apart): for tests whose engines die on purpose, where
 * giving an engine up or waiting for it would only hide what is tested.
 *
 * @example
 * ```ts
 * import { RESTART_AT_ONCE, withClient } from "./helpers.ts";
 * await withClient({ workers: 1, restart: RESTART_AT_ONCE }, async (client) => {
 *   console.log(client.restartPolicy.backoffMs); // 1
 * });
 * ```
 */
export const RESTART_AT_ONCE: RestartPolicy = {
  maxRestarts: 100,
  withinMs: 60_000,
  backoffMs: 1,
  maxBackoffMs: 5,
};
