/**
 * Marker files: what a task leaves behind to prove that it ran, on any kind
 * of engine (a file outlives the engine's globals, and Worker and process
 * engines both see it), and the check the test makes.
 *
 * @module
 */

// Shipped by its source: `engineId` is in scope on the engine; the import
// is for the type checker.
import { engineId } from "../mod.ts";

/**
 * Whether a file exists, for markers that tasks leave behind.
 *
 * @example
 * ```ts
 * import { exists } from "./markers.ts";
 * console.log(exists("/no/such/file")); // false
 * ```
 */
export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * A task that leaves a marker file at `path`: proof that it ran.
 *
 * @example
 * ```ts
 * import type { Client } from "../mod.ts";
 * import { exists, markRan } from "./markers.ts";
 * async function ranOn0(client: Client, path: string): Promise<boolean> {
 *   await client.view(0).applyAsync(markRan, path);
 *   return exists(path);
 * }
 * ```
 */
export function markRan(path: string): string {
  Deno.writeTextFileSync(path, `ran on engine ${engineId}`);
  return "ran";
}
