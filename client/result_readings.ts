/**
 * `ResultReadings`: what an `AsyncResult` says of its tasks, read from their
 * records: their data, output, metadata, engines, times, and the shows of
 * them (`displayOutputs`, `waitInteractive`). The base of `AsyncResult`,
 * which keeps the records.
 *
 * @module
 */

import type { Cluster } from "../cluster/cluster.ts";
import type { PerEngine } from "./per_engine.ts";
import type { TaskMetadata, TaskRecord } from "./task_record.ts";
import {
  type DisplayOutputsOptions,
  outputBlocks,
  printBlocks,
} from "./result_outputs.ts";
import {
  waitInteractive,
  type WaitInteractiveOptions,
} from "./wait_interactive.ts";
import { nestedResultRefusal, resultPartsDoor } from "./result_item.ts";
import { CROSSING_REFUSAL } from "../transport/crossing_refusals.ts";

/**
 * What a result says of its tasks while and after they run: the part of
 * `AsyncResult` that reads its task records. Made only as an `AsyncResult`.
 *
 * @example
 * ```ts
 * import { Client, type ResultReadings } from "@troupe/parallel";
 * await using client = await Client.start({ workers: 1 });
 * const ar: ResultReadings<true> = client.view(0).applyAsync(() => 1);
 * await ar.wait();
 * console.log(ar.engineIds); // [0]
 * ```
 */
export abstract class ResultReadings<Single extends boolean = boolean> {
  /**
   * The records, in task order.
   *
   * @ignore
   */
  protected abstract get taskRecords(): readonly TaskRecord[];
  /**
   * A single-engine result: one task, values and data not wrapped.
   *
   * @ignore
   */
  protected abstract get singleTask(): boolean;
  /**
   * Items per task, for a map.
   *
   * @ignore
   */
  protected abstract get itemsPerTask(): readonly number[] | undefined;
  /**
   * Something looked at the outcome: a failure needs no report.
   *
   * @ignore
   */
  protected abstract observeOutcome(): void;

  /** What hears the end without observing it (`ResultParts.whenFinished`). */
  #finishedHooks: Set<() => void> | undefined;
  /** The cluster whose tasks these are (`ResultPlan.owner`). */
  #owner: Cluster | undefined;

  /**
   * Made only as an `AsyncResult`, of `owner`'s tasks.
   *
   * @ignore
   */
  constructor(owner?: Cluster) {
    this.#owner = owner;
  }

  /**
   * Every task has finished: the hooks are called, and dropped.
   *
   * @ignore
   */
  protected announceFinished(): void {
    const hooks = this.#finishedHooks;
    this.#finishedHooks = undefined;
    for (const hook of hooks ?? []) hook();
  }

  static {
    // What an item of a result, and a dependent task, read of it.
    resultPartsDoor((result) => {
      const readings = result as ResultReadings;
      return {
        records: readings.taskRecords,
        single: readings.singleTask,
        items: readings.itemsPerTask,
        owner: readings.#owner,
        observe: () => readings.observeOutcome(),
        whenFinished(hook) {
          // A fresh wrapper: the same function given twice is two hooks.
          const once = () => hook();
          (readings.#finishedHooks ??= new Set()).add(once);
          return () => void readings.#finishedHooks?.delete(once);
        },
        finishedHooks: () => readings.#finishedHooks?.size ?? 0,
      };
    });
  }

  /** Nested in an argument, it is refused: only a top-level one resolves. */
  get [CROSSING_REFUSAL](): { what: string; advice: string } {
    return nestedResultRefusal("an AsyncResult");
  }

  /** `true` once every task has finished. */
  abstract ready(): boolean;
  /** Resolves `true` once ready, or `false` if `timeoutMs` passes first. */
  abstract wait(timeoutMs?: number): Promise<boolean>;
  /** How many have finished: tasks for `apply`, items for `map`. */
  abstract get progress(): number;
  /** Milliseconds since submission; frozen once every task has finished. */
  abstract get elapsed(): number;

  /**
   * What the tasks published, merged key by key per task; live while they
   * run. A single-engine result gives the object, others an array of them
   * in task order.
   */
  get data(): PerEngine<Record<string, unknown>, Single> {
    return this.#shape((r) => r.data);
  }

  /** What the tasks printed with `console.log`, `info` and `debug`. */
  get stdout(): PerEngine<string, Single> {
    return this.#shape((r) => r.stdout);
  }

  /** What the tasks printed with `console.warn` and `console.error`. */
  get stderr(): PerEngine<string, Single> {
    return this.#shape((r) => r.stderr);
  }

  /** Per task: where it ran, when, and how it ended. A copy. */
  get metadata(): PerEngine<TaskMetadata, Single> {
    this.observeOutcome(); // It holds each task's error.
    return this.#shape((r) => r.metadata);
  }

  /**
   * Milliseconds from the submission to when this client heard the last
   * task end, by its clock (ipyparallel's `wall_time`); `undefined` until
   * every task has finished. A result looked up from the history
   * (`getResult`, `resume`) counts from the history's submission time to
   * its last task's end; `undefined` if the history did not say when its
   * tasks were submitted.
   *
   * @example
   * ```ts
   * import { Client } from "@troupe/parallel";
   * await using client = await Client.start({ workers: 2 });
   * const ar = client.view().applyAsync(() => 1);
   * console.log(ar.wallTime); // undefined
   * await ar;
   * console.log(ar.wallTime! >= ar.serialTime! / 2); // true
   * ```
   */
  get wallTime(): number | undefined {
    if (!this.ready()) return undefined;
    const records = this.taskRecords;
    // A looked-up result's own clock started at the lookup, not the submission.
    if (records.length === 0 || records[0].historySpan === null) {
      return this.elapsed;
    }
    let first = Infinity;
    let last = -Infinity;
    for (const record of records) {
      const span = record.historySpan;
      if (!span) return undefined;
      first = Math.min(first, span.submitted);
      last = Math.max(last, span.completed);
    }
    return last - first;
  }

  /**
   * The sum of the tasks' run times in ms, each by its engine's clock from
   * its start to its end (ipyparallel's `serial_time`): what one engine
   * would have taken, so `serialTime / wallTime` is the speed-up. A task
   * that never started adds nothing; `undefined` until every task has
   * finished.
   *
   * @example
   * ```ts
   * import { Client } from "@troupe/parallel";
   * await using client = await Client.start({ workers: 2 });
   * const ar = client.view().applyAsync(() => {
   *   const end = Date.now() + 20;
   *   while (Date.now() < end); // 20 ms of work on each engine
   * });
   * await ar;
   * console.log(ar.serialTime! >= 40); // true
   * ```
   */
  get serialTime(): number | undefined {
    if (!this.ready()) return undefined;
    return this.taskRecords.reduce((sum, r) => sum + (r.runTime ?? 0), 0);
  }

  /** The engines the tasks went to, in task order (-1: not yet assigned). */
  get engineIds(): number[] {
    return this.taskRecords.map((r) => r.engineId);
  }

  /** The tasks' ids, in task order. */
  get taskIds(): number[] {
    return this.taskRecords.map((r) => r.taskId);
  }

  /**
   * Prints what the tasks printed so far (ipyparallel's
   * `display_outputs()`), in task order (a direct view's engine order):
   * each task's stdout under `[stdout:<engine>]` with `console.log`, its
   * stderr under `[stderr:<engine>]` with `console.error`; `groupBy:
   * "type"` prints every stdout first. A single-engine result has no
   * headers. In a Deno notebook it is the cell's output.
   *
   * @example
   * ```ts
   * import { Client, engineId } from "@troupe/parallel";
   * await using client = await Client.start({ workers: 2 });
   * const ar = client.view().applyAsync(() => console.log(`hi from ${engineId}`));
   * await ar;
   * ar.displayOutputs(); // [stdout:0] hi from 0, then [stdout:1] hi from 1
   * ```
   */
  displayOutputs(options?: DisplayOutputsOptions): void {
    printBlocks(outputBlocks(this.taskRecords, this.singleTask, options));
  }

  /**
   * `wait(timeoutMs)` that shows the progress while it waits (ipyparallel's
   * `wait_interactive()`): in a Deno notebook one display updated in place,
   * on a terminal a bar on stderr redrawn in place, elsewhere (a log) a
   * line on stderr every 5 s and one at the end. Redrawn every `intervalMs`
   * (250 by default). Resolves `true` once done, `false` if `timeoutMs`
   * passes first (the tasks keep running).
   *
   * @example
   * ```ts
   * import { Client } from "@troupe/parallel";
   * await using client = await Client.start({ workers: 2 });
   * const ar = client.loadBalancedView().mapAsync((x: number) => x * 2, [1, 2, 3]);
   * console.log(await ar.waitInteractive({ timeoutMs: 10_000 })); // true
   * ```
   */
  waitInteractive(options?: WaitInteractiveOptions): Promise<boolean> {
    this.observeOutcome();
    const items = this.itemsPerTask;
    const total = items?.reduce((a, b) => a + b, 0) ??
      this.taskRecords.length;
    return waitInteractive(this, total, items ? "items" : "tasks", options);
  }

  #shape<V>(pick: (r: TaskRecord) => V): PerEngine<V, Single> {
    const records = this.taskRecords;
    return (this.singleTask
      ? pick(records[0])
      : records.map(pick)) as PerEngine<
        V,
        Single
      >;
  }
}
