/**
 * `ResultItem`: one item of an `AsyncResult` (`ar.item(i)`), to await on
 * its own or to give a task as an argument (Ray's object refs of a map).
 *
 * @module
 */

import type { Cluster } from "../cluster/cluster.ts";
import type { AsyncResult } from "./async_result.ts";
import type { TaskRecord } from "./task_record.ts";
import { CROSSING_REFUSAL } from "../transport/crossing_refusals.ts";

/**
 * Why a result (or an item of one) nested in an argument does not cross:
 * only a top-level argument stands for its value, as Ray resolves only
 * top-level ObjectRefs.
 *
 * @example
 * ```ts
 * import { nestedResultRefusal } from "./result_item.ts";
 * console.log(nestedResultRefusal("an AsyncResult").what); // an AsyncResult
 * ```
 */
export function nestedResultRefusal(
  what: string,
): { what: string; advice: string } {
  return {
    what,
    advice: "A result stands for its value only as an argument of its own " +
      "(a top-level argument, as Ray resolves ObjectRefs): pass it as one, " +
      "e.g. lv.applyAsync((x, opts) => ..., ar, opts), not inside an " +
      "object or an array; or await it and pass the value.",
  };
}

/** What a result holds that its items and dependents read. */
export interface ResultParts {
  records: readonly TaskRecord[];
  single: boolean;
  /** Items per task, for a map. */
  items: readonly number[] | undefined;
  /** The cluster whose tasks these are, if the result says. */
  owner: Cluster | undefined;
  /** Something looks at the outcome: a failure needs no report. */
  observe(): void;
  /**
   * Calls `hook` once every task has finished (not if they have already),
   * without observing the outcome; returns what removes it. For waits over
   * many results (`client.wait`, `asCompleted`), which must leave nothing
   * on a result still pending when they return.
   */
  whenFinished(hook: () => void): () => void;
  /** How many hooks wait for the end: what a wait left behind. */
  finishedHooks(): number;
}

let door: ((result: AsyncResult<unknown>) => ResultParts) | undefined;

/**
 * Sets how a result's parts are read (`AsyncResult` does, once, from its
 * static block).
 *
 * @example
 * ```ts
 * import "./async_result.ts";
 * import { resultPartsDoor } from "./result_item.ts";
 * try {
 *   resultPartsDoor(() => ({
 *     records: [],
 *     single: true,
 *     items: undefined,
 *     owner: undefined,
 *     observe() {},
 *     whenFinished: () => () => {},
 *     finishedHooks: () => 0,
 *   }));
 * } catch (error) {
 *   console.log((error as Error).message); // the parts door is set already
 * }
 * ```
 */
export function resultPartsDoor(
  open: (result: AsyncResult<unknown>) => ResultParts,
): void {
  if (door) throw new Error("the parts door is set already");
  door = open;
}

/**
 * The records, shape and items of `result`.
 *
 * @example
 * ```ts
 * import { Client } from "@troupe/parallel";
 * import { resultParts } from "./result_item.ts";
 * await using client = await Client.start({ workers: 1 });
 * const ar = client.view(0).applyAsync(() => 1);
 * console.log(resultParts(ar).single); // true
 * await ar;
 * ```
 */
export function resultParts(result: AsyncResult<unknown>): ResultParts {
  return door!(result);
}

/**
 * One item of a result: of a map, the value at that index; of a direct
 * view's apply, that engine's value (in the view's engine order); of a
 * single task, index 0 only. Awaiting it gives that value, or throws that
 * task's error. Given as an argument of a task, it stands for the value.
 *
 * @example
 * ```ts
 * import { Client, type ResultItem } from "@troupe/parallel";
 * await using client = await Client.start({ workers: 2 });
 * const lv = client.loadBalancedView();
 * const squares = lv.mapAsync((x: number) => x * x, [1, 2, 3]);
 * const third: ResultItem<number> = squares.item(2);
 * console.log(await third); // 9
 * console.log(await lv.applyAsync((x: number) => x + 1, third)); // 10
 * ```
 */
export class ResultItem<T> implements PromiseLike<T> {
  /** The result it is an item of. */
  readonly result: AsyncResult<unknown>;
  /** Its index in that result's value. */
  readonly index: number;

  /** Made by `ar.item(index)`, which checks the index. */
  constructor(result: AsyncResult<unknown>, index: number) {
    const parts = resultParts(result);
    const length = parts.items
      ? parts.items.reduce((a, b) => a + b, 0)
      : parts.single
      ? 1
      : parts.records.length;
    if (!Number.isInteger(index) || index < 0 || index >= length) {
      throw new RangeError(
        `item(${index}): the result has ${length} item${
          length === 1 ? "" : "s"
        }; give an index from 0 to ${length - 1}`,
      );
    }
    this.result = result;
    this.index = index;
  }

  /**
   * The task that computes the item, and where the item is in its value:
   * `offset` in a map chunk's array, none for a whole task's value. For the
   * views, which turn an item into a task's needs.
   *
   * @ignore
   */
  get source(): { record: TaskRecord; offset?: number } {
    const { records, items } = resultParts(this.result);
    if (!items) return { record: records[this.index] };
    let rest = this.index;
    for (let i = 0; i < items.length; i++) {
      if (rest < items[i]) return { record: records[i], offset: rest };
      rest -= items[i];
    }
    throw new RangeError(`no item ${this.index}`);
  }

  /** Nested in an argument, it is refused: see `nestedResultRefusal`. */
  get [CROSSING_REFUSAL](): { what: string; advice: string } {
    return nestedResultRefusal(`an item of a result (item ${this.index})`);
  }

  /** Waits for the item's task, then gives the item or throws its error. */
  async get(): Promise<T> {
    resultParts(this.result).observe();
    await this.result.wait();
    const { record, offset } = this.source;
    const outcome = record.outcome!;
    if (!outcome.ok) throw outcome.error;
    return (offset === undefined
      ? outcome.value
      : (outcome.value as unknown[])[offset]) as T;
  }

  /** Awaiting an item gives what `get()` gives. */
  then<A = T, B = never>(
    onfulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.get().then(onfulfilled, onrejected);
  }
}
