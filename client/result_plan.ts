/**
 * What a view gives an `AsyncResult` (its plan), and how the result's task
 * records reach it (its listener).
 *
 * @module
 */

import type { Cluster } from "../cluster/cluster.ts";
import type { Publication } from "../protocol/publication.ts";
import type { RecordListener, TaskRecord } from "./task_record.ts";
import type { FailureWatch } from "./unobserved_failures.ts";

/**
 * How a view builds an `AsyncResult`: the tasks, and how their values make
 * the result. Built by views, not by users.
 *
 * @example
 * ```ts
 * import type { ResultPlan } from "./result_plan.ts";
 * const nothing: ResultPlan = { single: false, start: () => [], abort() {} };
 * ```
 */
export interface ResultPlan {
  /** A single-engine result: its value and its data are not wrapped. */
  single: boolean;
  /** Creates and submits the task records, reporting to `listener`. */
  start(listener: RecordListener): TaskRecord[];
  /** Stops the tasks with these ids wherever they are. */
  abort(taskIds: ReadonlySet<number>): void;
  /**
   * A map: each task returns an array of `items[i]` values, and the result
   * is all of them, in order. Absent: each task gives one value.
   */
  items?: number[];
  /** Iterate as tasks complete rather than in order (maps). */
  unordered?: boolean;
  /** Hears of a failure that nothing observed: the client's watch. */
  watch?: FailureWatch;
  /** The id of the controller's cluster the tasks run in, if one does. */
  cluster?: string;
  /** The identity of that controller's task history, if it says one. */
  historyId?: string;
  /**
   * The cluster whose tasks these are: a dependent call of another one
   * would wait on its own task of the same id (task_needs.ts).
   */
  owner?: Cluster;
}

/**
 * A result's private handlers, which only `AsyncResult` can reach: it hands
 * them over once, from its static block.
 *
 * @example
 * ```ts
 * import type { ResultDoor } from "./result_plan.ts";
 * const door: ResultDoor<{ seen: number }> = {
 *   published: (result) => void result.seen++,
 *   finished() {},
 * };
 * ```
 */
export interface ResultDoor<R> {
  published(result: R, publication: Publication): void;
  finished(result: R, record: TaskRecord): void;
}

// deno-lint-ignore no-explicit-any
let door: ResultDoor<any> | undefined;

/**
 * Sets the handlers every `ResultListener` calls (`AsyncResult` does, once).
 *
 * @example
 * ```ts
 * import "./async_result.ts"; // whose static block sets the door
 * import { resultDoor } from "./result_plan.ts";
 * // A second call is refused.
 * try {
 *   resultDoor({ published() {}, finished() {} });
 * } catch (error) {
 *   console.log((error as Error).message); // the door is set already
 * }
 * ```
 */
export function resultDoor<R>(handlers: ResultDoor<R>): void {
  if (door) throw new Error("the door of AsyncResult is set already");
  door = handlers;
}

/**
 * The listener of one result's records: one small object per result, where
 * two closures would cost three (a million results may be pending at once).
 *
 * @example
 * ```ts
 * import { AsyncResult } from "./async_result.ts";
 * import { ResultListener } from "./result_plan.ts";
 * // What AsyncResult's constructor hands its plan's start:
 * const listen = (result: AsyncResult<unknown>) => new ResultListener(result);
 * ```
 */
export class ResultListener implements RecordListener {
  #result: unknown;

  /** Reports to `result`, through the handlers `resultDoor` set. */
  constructor(result: unknown) {
    this.#result = result;
  }

  /** A record's task published. */
  published(publication: Publication): void {
    door!.published(this.#result, publication);
  }

  /** A record's task finished. */
  finished(record: TaskRecord): void {
    door!.finished(this.#result, record);
  }
}
