/**
 * `ValueRef`: a value put once in the cluster (`client.put`, Ray's
 * `ray.put`, Dask's `client.scatter`) that tasks take as an argument, and
 * how a call's top-level refs become what its tasks' `refs` name.
 *
 * @module
 */

import type { Cluster } from "../cluster/cluster.ts";
import type { ArgRef } from "../protocol/messages.ts";
import type { AsyncResult } from "./async_result.ts";
import type { ResultItem } from "./result_item.ts";
import { ANY_ENGINE } from "../transport/crossable.ts";
import { checkCrossable } from "../transport/crossing_check.ts";
import { CROSSING_REFUSAL } from "../transport/crossing_refusals.ts";

/**
 * A value held once by the cluster's core (this client's, or the
 * controller's for a connected client), from `client.put(value)`. Given as
 * a top-level argument of a task (`lv.applyAsync((big, i) => big[i], ref,
 * 3)`), the task receives the value. Each engine is sent it once, with the
 * first task that takes it there, and keeps it until `release()` (an
 * engine that restarts is sent it again when it next needs it). A typed
 * array or an `ArrayBuffer` is copied once into a `SharedArrayBuffer`: every
 * Worker engine then reads that same memory (an `ArrayBuffer` arrives as
 * the `SharedArrayBuffer`), so a task that writes to it changes it for
 * every Worker engine; treat put values as read-only, as Ray's are. Engine
 * processes receive a copy.
 *
 * @example
 * ```ts
 * import { Client } from "@troupe/parallel";
 * await using client = await Client.start({ workers: 1 });
 * const ref = client.put(new Float64Array([1, 2, 3, 4]));
 * const lv = client.loadBalancedView();
 * console.log(await lv.applyAsync((big: Float64Array, i: number) => big[i], ref, 3)); // 4
 * ref.release();
 * ```
 */
export class ValueRef<T = unknown> {
  /** The value's id in its cluster (from the cluster's task ids). */
  readonly id: number;
  #cluster: Cluster;
  #released = false;
  /** Only to keep `T` in the type: a ref holds no value on this side. */
  declare readonly __value?: T;

  /** Refs come from `client.put(value)`. */
  constructor(cluster: Cluster, id: number) {
    this.#cluster = cluster;
    this.id = id;
  }

  /** Whether `release()` was called: no new task may take it. */
  get released(): boolean {
    return this.#released;
  }

  /**
   * Frees the value in the cluster and on every engine that holds it. A
   * task submitted before still gets it; a task given it after fails at
   * the call with a `TypeError`. Safe to call twice.
   *
   * @example
   * ```ts
   * import { Client } from "@troupe/parallel";
   * await using client = await Client.start({ workers: 1 });
   * const ref = client.put([1, 2, 3]);
   * ref.release();
   * console.log(ref.released); // true
   * ```
   */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#cluster.release([this.id]);
  }

  /**
   * Whether this ref was put on `cluster`: the views' check before a call.
   *
   * @ignore
   */
  belongsTo(cluster: Cluster): boolean {
    return this.#cluster === cluster;
  }

  /** Why a ref nested inside an argument is refused (it cannot cross). */
  get [CROSSING_REFUSAL](): { what: string; advice: string } {
    return {
      what: `a ValueRef (put value ${this.id})`,
      advice: "A ValueRef is resolved only as an argument of its own (a " +
        "top-level argument, as Ray resolves ObjectRefs): pass it as one, " +
        "e.g. view.applyAsync((big, opts) => ..., ref, opts), not inside " +
        "an object or an array.",
    };
  }

  /** How it shows: its id, and whether it was released. */
  toString(): string {
    return `ValueRef(${this.id}${this.#released ? ", released" : ""})`;
  }
}

/**
 * A task's arguments as a view takes them: each a value, a `ValueRef` to a
 * value of that type, or an `AsyncResult` or `ResultItem` whose value it
 * is (the task waits for it: client/task_needs.ts).
 *
 * @example
 * ```ts
 * import type { Arguments } from "@troupe/parallel";
 * type A = Arguments<[Float64Array, number]>; // [Float64Array | ValueRef<Float64Array>, number | ValueRef<number>]
 * ```
 */
export type Arguments<P extends unknown[]> = {
  [K in keyof P]:
    | P[K]
    | ValueRef<P[K]>
    // A result, or one item of one, stands for its value (dependencies).
    | AsyncResult<P[K]>
    | ResultItem<P[K]>;
};

/**
 * Puts `value` in `cluster`: checked as an argument is (a `TypeError` that
 * says what cannot cross), held by the cluster under a fresh id.
 *
 * @example
 * ```ts
 * import { Client } from "@troupe/parallel";
 * await using client = await Client.start({ workers: 1 });
 * console.log(client.put("big").id > 0); // true
 * ```
 */
export function putValue<T>(cluster: Cluster, value: T): ValueRef<T> {
  checkCrossable(value, "the value put", ANY_ENGINE);
  const id = cluster.nextTaskId();
  cluster.put(id, value);
  return new ValueRef<T>(cluster, id);
}

/**
 * The `refs` of each task of a call, its top-level `ValueRef` arguments
 * replaced in `argLists` by `null` (new lists; the caller's stay as they
 * were); `undefined` when no task takes one, which leaves `argLists` as it
 * is. Throws a `TypeError` for a ref that was released or put on another
 * client.
 *
 * @example
 * ```ts
 * import { Client } from "@troupe/parallel";
 * await using client = await Client.start({ workers: 1 });
 * const ref = client.put([1, 2]);
 * console.log(await client.view(0).applyAsync((a: number[]) => a.length, ref)); // 2
 * ```
 */
export function takeRefs(
  cluster: Cluster,
  argLists: unknown[][],
): (ArgRef[] | undefined)[] | undefined {
  let refs: (ArgRef[] | undefined)[] | undefined;
  const done = new Map<unknown[], [unknown[], ArgRef[]]>();
  for (let task = 0; task < argLists.length; task++) {
    const args = argLists[task];
    const known = done.get(args);
    if (known) {
      argLists[task] = known[0];
      (refs ??= new Array(argLists.length))[task] = known[1];
      continue;
    }
    let taken: ArgRef[] | undefined;
    let copy: unknown[] | undefined;
    for (let arg = 0; arg < args.length; arg++) {
      const ref = args[arg];
      if (!(ref instanceof ValueRef)) continue;
      checkRef(cluster, ref, arg);
      (taken ??= []).push({ arg, id: ref.id });
      (copy ??= [...args])[arg] = null;
    }
    if (taken === undefined) continue;
    done.set(args, [copy!, taken]);
    argLists[task] = copy!;
    (refs ??= new Array(argLists.length))[task] = taken;
  }
  return refs;
}

function checkRef(cluster: Cluster, ref: ValueRef, arg: number): void {
  if (!ref.belongsTo(cluster)) {
    throw new TypeError(
      `argument ${arg + 1} is ${ref}, which was put on another client: a ` +
        "put value lives in the cluster it was put on. Put it on this " +
        "client (client.put(value)) and pass that ref",
    );
  }
  if (ref.released) {
    throw new TypeError(
      `argument ${arg + 1} is ${ref}: its value was freed with release(). ` +
        "Put the value again (client.put(value)) and pass the new ref",
    );
  }
}
