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
import { publishData } from "../mod.ts";

/**
 * A task that publishes `{ started: true }`, then waits (yielding) until
 * the file `latch` exists; it returns "released", or "latch never opened"
 * after 20 s so that a broken test cannot hold an engine forever.
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
export async function holdUntilFile(latch: string): Promise<string> {
  publishData({ started: true });
  const end = Date.now() + 20_000;
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
