/**
 * A latch that crosses processes: a file the test creates. A task shipped
 * to an engine process (where a SharedArrayBuffer `latch()` cannot reach)
 * holds its engine until the file exists, so that no assertion depends on
 * how fast this machine is.
 *
 * @module
 */

// Shipped by its source: `publishData` is in scope on the engine; the
// import is for the type checker.
import { type AsyncResult, type Client, publishData } from "../mod.ts";
import { guard, until } from "./waits.ts";

/**
 * A task that publishes `{ started: true }`, then waits (yielding) until
 * the file `latch` exists; it returns "released", or "latch never opened"
 * after `capMs` (20 s) so that a broken test cannot hold an engine forever.
 * A test that waits for something slow (a Slurm walltime) gives a longer
 * cap.
 *
 * @example
 * ```ts
 * import type { Client } from "../mod.ts";
 * import { holdUntilFile } from "./file_latch.ts";
 * async function holdThenRelease(client: Client, dir: string): Promise<unknown> {
 *   const held = client.view(0).applyAsync(holdUntilFile, `${dir}/go`);
 *   await Deno.writeTextFile(`${dir}/go`, "");
 *   return await held;
 * }
 * ```
 */
export async function holdUntilFile(
  latch: string,
  capMs = 20_000,
): Promise<string> {
  publishData({ started: true });
  const end = Date.now() + capMs;
  while (Date.now() < end) {
    try {
      Deno.statSync(latch);
      return "released";
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
  return "latch never opened";
}

/**
 * A latch file `name` in `dir` that the test opens: tasks wait until `path`
 * exists. Worker and process engines both see it.
 *
 * @example
 * ```ts
 * import { fileLatch } from "./file_latch.ts";
 * const dir = await Deno.makeTempDir();
 * const go = fileLatch(dir, "go");
 * go.open();
 * console.log(Deno.statSync(go.path).isFile); // true
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function fileLatch(
  dir: string,
  name: string,
): { path: string; open(): void } {
  const path = `${dir}/${name}`;
  return { path, open: () => Deno.writeTextFileSync(path, "open") };
}

/**
 * A map task that returns `x.v`, first waiting (without blocking its
 * engine, capped at 25 s) for the latch file `x.wait` if it names one: one
 * item holds its engine while the others run.
 *
 * @example
 * ```ts
 * import type { Client } from "../mod.ts";
 * import { waitThen } from "./file_latch.ts";
 * function heldMap(client: Client, latch: string) {
 *   return client.view().mapAsync(waitThen, [{ wait: latch, v: 0 }, { v: 1 }]);
 * }
 * ```
 */
export async function waitThen(
  x: { wait?: string; v: number },
): Promise<number> {
  if (x.wait) {
    const end = Date.now() + 25_000;
    for (;;) {
      try {
        Deno.statSync(x.wait);
        break;
      } catch {
        if (Date.now() > end) break;
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  }
  return x.v;
}

/**
 * A task that publishes `{ step }` (0, 1, 2, ...) every `intervalMs`
 * until the file `latch` exists, then returns the last step it
 * published: its final `ar.data` is `{ step: <its value> }`. Capped at
 * `capMs` (30 s; it returns -1 then) so that a broken test cannot hold an
 * engine forever.
 *
 * @example
 * ```ts
 * import type { Client } from "../mod.ts";
 * import { stepUntilFile } from "./file_latch.ts";
 * function steps(client: Client, latch: string) {
 *   return client.view(0).applyAsync(stepUntilFile, latch, 50);
 * }
 * ```
 */
export async function stepUntilFile(
  latch: string,
  intervalMs: number,
  capMs = 30_000,
): Promise<number> {
  const end = Date.now() + capMs;
  for (let step = 0;; step++) {
    publishData({ step });
    try {
      Deno.statSync(latch);
      return step;
    } catch {
      if (Date.now() > end) return -1;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}

/**
 * Occupies every engine of `client` with a direct `holdUntilFile` task
 * held by `latch`, and resolves once each engine is busy: load-balanced
 * tasks submitted then wait in the scheduler. `busy` is the occupiers'
 * result, boxed: an async function would await an AsyncResult it returned.
 *
 * @example
 * ```ts ignore
 * import { fileLatch, occupyAll } from "./file_latch.ts";
 * const latch = fileLatch(dir, "busy");
 * const { busy } = await occupyAll(client, latch);
 * latch.open();
 * await busy;
 * ```
 */
export async function occupyAll(
  client: Client,
  latch: { path: string },
  timeoutMs = 60_000,
): Promise<{ busy: AsyncResult<string[], false> }> {
  const busy = client.view().applyAsync(holdUntilFile, latch.path);
  await until(
    () => client.engines().every((e) => e.load > 0),
    "every engine busy",
    timeoutMs,
  );
  return { busy };
}

/**
 * Runs `body` while every engine of `client` is held busy (`occupyAll`,
 * with the latch file `name` in `dir`), so that the load-balanced tasks it
 * submits wait in the scheduler; then opens the latch and waits for the
 * occupiers, whether `body` passed or threw.
 *
 * @example
 * ```ts ignore
 * import { whileBusy } from "./file_latch.ts";
 * await whileBusy(client, dir, "queued", async () => {
 *   const ar = client.loadBalancedView({ highWaterMark: 1 }).applyAsync(() => 1);
 *   console.log(ar.metadata.status); // queued
 * });
 * ```
 */
export async function whileBusy<T>(
  client: Client,
  dir: string,
  name: string,
  body: () => Promise<T>,
  timeoutMs = 60_000,
): Promise<T> {
  const latch = fileLatch(dir, name);
  const { busy } = await occupyAll(client, latch, timeoutMs);
  try {
    return await body();
  } finally {
    latch.open();
    await guard(busy, "the occupiers", timeoutMs);
  }
}
