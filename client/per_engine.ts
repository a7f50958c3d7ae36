/**
 * The shape of what a result gives per engine: the value itself for a
 * single-engine view, an array otherwise.
 *
 * @module
 */

/**
 * One value for a single-engine result, an array for a multi one: one item
 * per engine for a direct view, per task for a load-balanced one.
 *
 * @example
 * ```ts
 * import { Client, type PerEngine } from "@troupe/parallel";
 * await using client = await Client.start({ workers: 2 });
 * const all: PerEngine<number, false> = await client.view().applySync(() => 1);
 * const one: PerEngine<number, true> = await client.view(0).applySync(() => 1);
 * console.log(all, one); // [1, 1] 1
 * ```
 */
export type PerEngine<V, Single extends boolean> = Single extends true ? V
  : V[];

/**
 * The same type as `PerEngine`, under its former name.
 *
 * @deprecated Use `PerEngine`; this name will be removed.
 *
 * @example
 * ```ts
 * import type { PerEngine, Shaped } from "@troupe/parallel";
 * const same: PerEngine<string, false> = ["a"] satisfies Shaped<string, false>;
 * console.log(same);
 * ```
 */
export type Shaped<V, Single extends boolean> = PerEngine<V, Single>;
