/**
 * `view.remote(fn)` and `view.parallel(fn)`: a function wrapped so that
 * calling it runs on the view, as ipyparallel's `@view.remote` and
 * `@view.parallel` decorators. Both views make theirs here, from their own
 * `applyAsync` and `mapAsync`, so that a view made by `with(options)` wraps
 * with its options and nothing is copied.
 *
 * @module
 */

import type { Arguments } from "./value_ref.ts";
import { checkCallOptions } from "./call_options.ts";
import { MAP_OPTIONS } from "./load_balanced_options.ts";
import {
  checkColumns,
  isOptionsObject,
  type MapSequences,
} from "./partition.ts";
import {
  functionRef,
  markWrapper,
  type Runnable,
  type TaskFunction,
} from "./task_function.ts";

/**
 * What `view.remote(fn)` returns: called with `fn`'s arguments, it runs
 * `fn` on the view and returns what `applyAsync` returns (`R`, an
 * `AsyncResult`). Given to a view as a task function (`lv.imap(f, xs)`),
 * it stands for `fn` itself, run where that view sends it.
 *
 * @example
 * ```ts
 * import type { AsyncResult, RemoteFunction } from "@troupe/parallel";
 * import { Client } from "@troupe/parallel";
 * await using client = await Client.start({ workers: 1 });
 * type Double = (x: number) => number;
 * const f: RemoteFunction<Double, AsyncResult<number, true>> = client
 *   .loadBalancedView().remote((x: number) => x * 2);
 * console.log(await f(21)); // 42
 * ```
 */
export type RemoteFunction<F extends TaskFunction, R> = (
  ...args: Arguments<Parameters<F>>
) => R;

/**
 * What `view.parallel(fn)` returns: called with sequences (one per
 * parameter of `fn`), it maps `fn` over their items as `mapAsync` does and
 * returns its `AsyncResult` (`R`). `p.map(seq)` is the same call, so that
 * ipyparallel's `p.map(seq)` ports as it is. Unlike ipyparallel, `p(seq)`
 * also calls `fn` once per element: ipyparallel's `p(seq)` gives `fn`
 * whole sub-sequences; for that, use `dv.scatter` and `apply`.
 *
 * @example
 * ```ts
 * import type { AsyncResult, ParallelFunction } from "@troupe/parallel";
 * import { Client } from "@troupe/parallel";
 * await using client = await Client.start({ workers: 2 });
 * type Square = (x: number) => number;
 * const p: ParallelFunction<Square, AsyncResult<number[], false>> = client
 *   .view().parallel((x: number) => x * x);
 * console.log(await p([1, 2, 3])); // [1, 4, 9]
 * console.log(await p.map([4])); // [16]
 * ```
 */
export type ParallelFunction<F extends TaskFunction, R> =
  & ((...seqs: MapSequences<F>) => R)
  & {
    /** The same per-element call as `p(...seqs)` (ipyparallel's `p.map`). */
    map: (...seqs: MapSequences<F>) => R;
  };

/**
 * `fn` as a function that runs it with `apply` (a view's `applyAsync` of
 * `fn`, given the call's arguments). `fn` is checked now, as a decorator
 * would be: one that cannot be shipped throws here, not at its first call.
 * The wrapper keeps `fn`'s name. `perEngine` says that `apply` gives a
 * list, one value per engine (a direct view of several), so that the
 * wrapper cannot stand for `fn` as a task function.
 *
 * @example
 * ```ts
 * import { Client } from "@troupe/parallel";
 * import { remoteFunction } from "./view_functions.ts";
 * await using client = await Client.start({ workers: 1 });
 * const lv = client.loadBalancedView();
 * const inc = (x: number) => x + 1;
 * const remoteInc = remoteFunction((args) => lv.applyAsync(inc, ...args), inc);
 * console.log(await remoteInc(1), remoteInc.name); // 2 inc
 * ```
 */
export function remoteFunction<F extends TaskFunction, R>(
  apply: (args: Arguments<Parameters<F>>) => R,
  fn: Runnable<F>,
  perEngine = false,
): RemoteFunction<F, R> {
  functionRef(fn); // Throws now for a function that cannot be shipped.
  const wrapper = named(
    (...args: Arguments<Parameters<F>>) => apply(args),
    fn,
  );
  markWrapper(wrapper, fn, perEngine ? "remote per engine" : "remote");
  return wrapper;
}

/**
 * `fn` as a function that maps it over its sequence arguments with `map`
 * (a view's `mapAsync` of `fn`, given the call's sequences). `fn` is
 * checked now; each call checks its sequences (arrays or typed arrays,
 * of one length; not strings: `[...text]` maps over characters) before
 * anything runs, so that a plain object is never taken for a map's
 * options.
 *
 * @example
 * ```ts
 * import { parallelFunction } from "./view_functions.ts";
 * const tenfold = (x: number) => x * 10;
 * const local = parallelFunction(([xs]) => Array.from(xs, tenfold), tenfold);
 * console.log(local([1, 2]), local.map([3])); // [10, 20] [30]
 * ```
 */
export function parallelFunction<F extends TaskFunction, R>(
  map: (seqs: MapSequences<F>) => R,
  fn: Runnable<F>,
): ParallelFunction<F, R> {
  functionRef(fn);
  const call = (...seqs: MapSequences<F>): R => {
    if (seqs.length === 0) {
      throw new TypeError(
        `${nameOf(fn)} (made by view.parallel) takes one sequence per ` +
          "parameter of the function (an array or a typed array) and " +
          "maps over their items; it was called with none",
      );
    }
    checkColumns(seqs);
    return map(seqs);
  };
  markWrapper(call, fn, "parallel");
  // ipyparallel's p.map(seq) is per element, as troupe's p(seq) is.
  return Object.assign(named(call, fn), { map: call });
}

/**
 * Throws a `TypeError` unless `options` is absent or a plain object of
 * `mapAsync`'s options (a misspelt name is refused, as "parallel options"):
 * what `lv.parallel(fn, options)` takes, checked when the function is made,
 * so that a sequence given by mistake is not mapped over and a typo is not
 * found only at the first call.
 *
 * @example
 * ```ts
 * import { checkParallelOptions } from "./view_functions.ts";
 * checkParallelOptions({ chunkSize: 2 }); // fine
 * try {
 *   checkParallelOptions([1, 2]);
 * } catch (error) {
 *   console.log((error as TypeError).message.startsWith("parallel")); // true
 * }
 * ```
 */
export function checkParallelOptions(options: unknown): void {
  if (options === undefined) return;
  if (isOptionsObject(options)) {
    checkCallOptions("parallel options", options, "balanced", MAP_OPTIONS);
    return;
  }
  throw new TypeError(
    "parallel's second argument is its map options ({ chunkSize, ordered, " +
      "signal, ... }), a plain object; the sequences go to the function " +
      "it returns: lv.parallel(fn)(seq)",
  );
}

/**
 * `name` if it names a global (a non-empty string); else a `TypeError`
 * saying what `dv.set` and `dv.get` take.
 *
 * @example
 * ```ts
 * import { globalName } from "./view_functions.ts";
 * console.log(globalName("a", "set")); // a
 * ```
 */
export function globalName(name: unknown, method: "set" | "get"): string {
  if (typeof name === "string" && name !== "") return name;
  throw new TypeError(
    `${method} takes the name of a global (a non-empty string), got ${
      typeof name === "string" ? '""' : Deno.inspect(name)
    }; ${method === "set" ? "push({ a, b })" : 'pull(["a", "b"])'} ` +
      `${method === "set" ? "sets" : "reads"} several`,
  );
}

function named<W extends object>(wrapper: W, fn: unknown): W {
  return Object.defineProperty(wrapper, "name", { value: nameOf(fn) });
}

function nameOf(fn: unknown): string {
  const name = typeof fn === "function"
    ? fn.name
    : (fn as { name?: unknown } | null)?.name;
  return typeof name === "string" && name !== "" ? name : "the function";
}
