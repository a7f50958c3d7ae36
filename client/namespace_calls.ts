/**
 * What a direct view's `push` and `pull` check of what they are given, and
 * the shape of what `pull` gives back: one name, its value; a list of
 * names, an array of values; per engine on a multi-engine view, even in a
 * `CompositeError`.
 *
 * @module
 */

import { CompositeError } from "../protocol/errors.ts";
import type { AsyncResult } from "./async_result.ts";
import { namespaceCall } from "./call_signal.ts";

/**
 * Throws a `TypeError` unless `namespace` is an object of names and values
 * (not an array, not `null`), as `push` takes.
 *
 * @example
 * ```ts
 * import { checkNamespace } from "./namespace_calls.ts";
 * checkNamespace({ scale: 10 });
 * try {
 *   checkNamespace([1, 2] as unknown as Record<string, unknown>);
 * } catch (error) {
 *   console.log((error as Error).message); // push takes an object of names and values
 * }
 * ```
 */
export function checkNamespace(namespace: Record<string, unknown>): void {
  if (
    namespace === null || typeof namespace !== "object" ||
    Array.isArray(namespace)
  ) {
    throw new TypeError("push takes an object of names and values");
  }
}

/**
 * `pull(names)`: checks `names`, has `run` read them (an array of values
 * per engine, or one array when `single`), and unwraps a single name's
 * value, in the values and in a `CompositeError`'s `results` alike.
 *
 * @example
 * ```ts
 * import { Client } from "@troupe/parallel";
 * import { pullValues } from "./namespace_calls.ts";
 * await using client = await Client.start({ workers: 2 });
 * await client.view().push({ a: 1 });
 * const run = (names: string[]) =>
 *   client.view().applyAsync(
 *     (list: string[]) => list.map((n) => Reflect.get(globalThis, n)),
 *     names,
 *   );
 * console.log(await pullValues("a", run, false, undefined)); // [1, 1]
 * ```
 */
export async function pullValues(
  names: string | string[],
  run: (list: string[]) => AsyncResult<unknown, boolean>,
  single: boolean,
  signal: AbortSignal | undefined,
): Promise<unknown> {
  const list = [names].flat();
  if (list.length === 0 || list.some((n) => typeof n !== "string")) {
    throw new TypeError("pull takes a name or a list of names");
  }
  const unwrap = (v: unknown) =>
    typeof names === "string" && v !== undefined ? (v as unknown[])[0] : v;
  let values: unknown;
  try {
    values = await namespaceCall(run(list), signal);
  } catch (error) {
    if (!(error instanceof CompositeError)) throw error;
    // Keep the values the other engines gave, in the shape pull returns.
    throw new CompositeError(error.errors, error.results.map(unwrap));
  }
  return single ? unwrap(values) : (values as unknown[]).map(unwrap);
}
