/**
 * The seed notebook's tasks (examples/publish_data.ipynb), as shipped
 * functions for tests: `publishIt`, its simulation loop, and the loop held
 * by a latch file so that a test can look while it runs. They run on the
 * engines, shipped by their source: `publishData` is in scope there; the
 * import is for the type checker.
 *
 * @module
 */

import { publishData } from "../mod.ts";

/**
 * The notebook's `publishIt`: publishes `{ a: "hi" }`.
 *
 * @example
 * ```ts
 * import type { Client } from "../mod.ts";
 * import { publishIt } from "./seed_tasks.ts";
 * async function dataOf(client: Client): Promise<unknown> {
 *   const ar = client.view().applyAsync(publishIt);
 *   await ar;
 *   return ar.data; // [{ a: "hi" }, ...], one per engine
 * }
 * ```
 */
export function publishIt(): void {
  publishData({ a: "hi" });
}

/**
 * The notebook's simulation loop: `steps` publications of
 * `{ a: Float64Array(20), i }`, `intervalMs` apart.
 *
 * @example
 * ```ts
 * import type { Client } from "../mod.ts";
 * import { simulationLoop } from "./seed_tasks.ts";
 * function run(client: Client) {
 *   return client.view().applyAsync(simulationLoop, 5, 10);
 * }
 * ```
 */
export async function simulationLoop(
  steps: number,
  intervalMs: number,
): Promise<void> {
  for (let i = 0; i < steps; i++) {
    publishData({ a: new Float64Array(20).map(() => Math.random()), i });
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * The simulation loop, held after its first step until the client creates
 * `latch` (capped at 20 s so that a broken test cannot hang an engine).
 *
 * @example
 * ```ts
 * import type { Client } from "../mod.ts";
 * import { latchedSimulation } from "./seed_tasks.ts";
 * function run(client: Client, latch: string) {
 *   return client.view().applyAsync(latchedSimulation, 3, latch);
 * }
 * ```
 */
export async function latchedSimulation(
  steps: number,
  latch: string,
): Promise<string> {
  for (let i = 0; i < steps; i++) {
    publishData({ a: new Float64Array(20).map(() => Math.random()), i });
    const end = Date.now() + 20_000;
    while (i === 0 && Date.now() < end) {
      try {
        Deno.statSync(latch);
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
  }
  return "done";
}
