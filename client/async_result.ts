/**
 * `AsyncResult`: a handle on tasks that run on engines, as in ipyparallel.
 *
 * @module
 */

import { within } from "../actors/async.ts";
import { TimeoutError } from "../protocol/errors.ts";
import type { Publication } from "../protocol/publication.ts";
import { PublicationFanout } from "./publication_fanout.ts";
import {
  inspectResult,
  notebookBundle,
  resultSummary,
} from "./async_result_display.ts";
import { dropHold, takeHold } from "./keep_alive.ts";
import { recordsValue } from "./result_value.ts";
import { recordValues } from "./result_iteration.ts";
import { ResultReadings } from "./result_readings.ts";
import { unobservedReport } from "./unobserved_failures.ts";
import type { TaskRecord } from "./task_record.ts";
import { resultDoor, ResultListener, type ResultPlan } from "./result_plan.ts";
import { ResultItem } from "./result_item.ts";
import { type AsyncResultJSON, resultJSON } from "./result_json.ts";

export type { ResultPlan } from "./result_plan.ts";

export {
  type RecordListener,
  type TaskMetadata,
  TaskRecord,
  type TaskStatus,
} from "./task_record.ts";

/** What a result holds before its records exist: nothing, shared. */
const NO_RECORDS: TaskRecord[] = [];

/**
 * The handle `applyAsync` and `mapAsync` return. Awaiting it gives the result
 * (`T`), or throws the task's error: for a single-engine view the
 * `RemoteError` or `EngineError` itself, otherwise a `CompositeError` that
 * also keeps the values that were computed.
 *
 * While the tasks run, `data` shows what they published, merged key by key
 * per engine, and it keeps the last state after they end. It is also an
 * async iterable of the results as they arrive: one per engine for `apply`,
 * one per item for `map`.
 *
 * @example
 * ```ts
 * import { Client, engineId, publishData } from "@troupe/parallel";
 * await using client = await Client.start({ workers: 2 });
 * const ar = client.view().applyAsync(() => {
 *   publishData({ step: 1 });
 *   return engineId;
 * });
 * console.log(await ar, ar.data); // [0, 1] [{ step: 1 }, { step: 1 }]
 * ```
 */
export class AsyncResult<T, Single extends boolean = boolean>
  extends ResultReadings<Single>
  implements PromiseLike<T>, AsyncIterable<unknown> {
  #records: TaskRecord[];
  /** Not the plan: its `start` holds every argument list. */
  #single: boolean;
  #unordered: boolean;
  #abort: ResultPlan["abort"];
  #watch: ResultPlan["watch"];
  /** Items per task, for a map; a task of `apply` is one. */
  #items: number[] | undefined;
  #finishedRecords = 0;
  #finishedItems = 0;
  // What follows is made only when it is needed: a million results may be
  // pending at once, and most are awaited once or never looked at.
  /** Made when something waits before the result is ready. */
  #all: PromiseWithResolvers<void> | undefined;
  /**
   * `get()`'s, settled with the value itself (no `then` of `#all`); not of
   * `T`, which would make an AsyncResult<number> no AsyncResult<unknown>.
   */
  #value: PromiseWithResolvers<unknown> | undefined;
  /** Made when an iterator waits: most results are never iterated. */
  #changed: PromiseWithResolvers<void> | undefined;
  /** Task indexes as they finished, for unordered iteration only. */
  #completionOrder: number[] | undefined;
  #submitted = performance.now();
  #elapsed: number | undefined;
  #fanout: PublicationFanout | undefined;
  /** Each record's place, for results of more than one task. */
  #indexOf: Map<TaskRecord, number> | undefined;
  /** Whether the result holds the process (until it is complete). */
  #holding = false;
  /** Something looked at the outcome: a failure needs no report. */
  #observed = false;
  #withdrawReport: (() => void) | undefined;
  /** Where the tasks run, for `toJSON`: the controller's cluster and history. */
  #home: Pick<ResultPlan, "cluster" | "historyId">;

  /**
   * Built by views, not by users: see `ResultPlan`.
   *
   * @ignore
   */
  constructor(plan: ResultPlan) {
    super(plan.owner);
    this.#single = plan.single;
    this.#unordered = plan.unordered ?? false;
    this.#abort = plan.abort;
    this.#watch = plan.watch;
    this.#home = { cluster: plan.cluster, historyId: plan.historyId };
    // Records that finish while being created find none here yet.
    this.#records = NO_RECORDS;
    if (plan.unordered) this.#completionOrder = [];
    const records = plan.start(new ResultListener(this));
    this.#records = records;
    this.#items = plan.items;
    if (records.length > 1) {
      this.#indexOf = new Map(records.map((r, i) => [r, i]));
    }
    // Records that finished while being created (a dead engine) count now.
    for (let i = 0; i < records.length; i++) {
      if (!records[i].outcome) continue;
      this.#finishedRecords++;
      this.#finishedItems += this.#items?.[i] ?? 1;
      this.#completionOrder?.push(i);
    }
    if (this.ready()) this.#complete();
    else {
      this.#holding = true;
      takeHold();
    }
  }

  /**
   * The result: waits for every task, then returns the value (or throws the
   * error). With `timeoutMs`, rejects with a `TimeoutError` if the tasks are
   * not done in time; the tasks keep running.
   */
  get(timeoutMs?: number): Promise<T> {
    this.#observe();
    if (timeoutMs === undefined || timeoutMs === Infinity) {
      // No async function in between: each would hold its frame for as
      // long as the result is pending.
      if (this.ready()) return Promise.resolve().then(() => this.#result());
      return (this.#value ??= Promise.withResolvers()).promise as Promise<T>;
    }
    return this.#getWithin(timeoutMs);
  }

  async #getWithin(timeoutMs: number): Promise<T> {
    if (!(await this.wait(timeoutMs))) {
      throw new TimeoutError(
        `the result is not ready after ${timeoutMs} ms (${this.progress} of ` +
          `${this.#total()} done); the tasks keep running: wait longer, or ` +
          "stop them with abort()",
      );
    }
    return this.#result();
  }

  /** Lets `await ar` mean `await ar.get()`. */
  then<A = T, B = never>(
    onFulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.get().then(onFulfilled, onRejected);
  }

  /**
   * As a promise's `catch`: `ar.catch(() => {})` handles or ignores a
   * failure, and the client does not report it as unobserved.
   */
  catch<B = never>(
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<T | B> {
    return this.get().catch(onRejected);
  }

  /** `true` once every task has finished. */
  ready(): boolean {
    return this.#finishedRecords === this.#records.length;
  }

  /** Resolves `true` once ready, or `false` if `timeoutMs` passes first. */
  async wait(timeoutMs?: number): Promise<boolean> {
    this.#observe();
    if (this.ready()) return true;
    return (await within(this.#allDone(), timeoutMs)).done;
  }

  /** `true` if every task succeeded. Throws if they are not all done. */
  successful(): boolean {
    this.#observe();
    if (!this.ready()) {
      throw new Error(
        "successful() needs a finished result; check ready() or await wait()",
      );
    }
    return this.#records.every((r) => r.outcome?.ok);
  }

  /** How many have finished: tasks for `apply`, items for `map`. */
  get progress(): number {
    return this.#finishedItems;
  }

  /** Milliseconds since submission; frozen once every task has finished. */
  get elapsed(): number {
    return this.#elapsed ?? performance.now() - this.#submitted;
  }

  /** @ignore */
  protected get taskRecords(): readonly TaskRecord[] {
    return this.#records;
  }

  /** @ignore */
  protected get singleTask(): boolean {
    return this.#single;
  }

  /** @ignore */
  protected get itemsPerTask(): readonly number[] | undefined {
    return this.#items;
  }

  /** @ignore */
  protected observeOutcome(): void {
    this.#observe();
  }

  /**
   * A handle on item `index` of the result (a map's item, a direct view's
   * engine in view order, or 0 of a single task): awaitable, and a task
   * argument that stands for that value. See `ResultItem`.
   */
  item(index: number): ResultItem<T extends readonly (infer I)[] ? I : T> {
    return new ResultItem(this, index);
  }

  /**
   * The tasks' publications from now on, as they arrive and never reordered;
   * ends when every task has finished. A slow reader costs bounded memory:
   * unread publications of one engine merge.
   */
  publications(): AsyncIterable<Publication> {
    const fanout = this.#fanout ??= new PublicationFanout();
    if (this.ready()) fanout.end();
    return fanout.open();
  }

  /**
   * The results as they arrive: in order, or (for `mapAsync` with
   * `ordered: false`) as tasks complete. Throws the first error reached.
   */
  [Symbol.asyncIterator](): AsyncIterator<unknown> {
    this.#observe();
    return recordValues(
      this.#records,
      this.#completionOrder,
      this.#items !== undefined,
      () => (this.#changed ??= Promise.withResolvers()).promise,
    );
  }

  /**
   * Stops the tasks: queued ones never run, running ones are stopped (a
   * Worker engine is restarted and loses its globals; a process engine
   * replaces its task thread). Both fail with `TaskAbortedError`; tasks that
   * had finished keep their result. Resolves once every task has settled.
   */
  async abort(): Promise<void> {
    this.#observe(); // The aborted tasks' failures are asked for.
    const unfinished = this.#records.filter((r) => !r.outcome);
    if (unfinished.length === 0) return;
    this.#abort(new Set(unfinished.map((r) => r.taskId)));
    await this.#allDone();
  }

  /**
   * What another client of the same controller needs to pick the result
   * up again (`client.resume(json)`); `JSON.stringify(ar)` gives it too.
   */
  toJSON(): AsyncResultJSON {
    return resultJSON({
      ...this.#home,
      taskIds: this.taskIds,
      engineIds: this.engineIds,
      single: this.#single,
      items: this.#items,
      unordered: this.#unordered,
    });
  }

  /** Names the class in `Object.prototype.toString`. */
  get [Symbol.toStringTag](): string {
    return "AsyncResult";
  }

  /**
   * How a Jupyter notebook (`deno jupyter`) shows the result: progress, each
   * task's engine and state, and its latest published data.
   */
  [Symbol.for("Jupyter.display")](): Record<string, string> {
    return notebookBundle(resultSummary(this, this.#total(), this.#records));
  }

  /**
   * What `console.log(ar)` and `Deno.inspect(ar)` print, as ipyparallel's
   * repr: `AsyncResult { pending, engines [0, 1], 1/2 done, 120 ms }`.
   */
  [Symbol.for("Deno.customInspect")](): string {
    return inspectResult(resultSummary(this, this.#total(), this.#records));
  }

  /** What Node's `util.inspect(ar)` prints: the same line. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return inspectResult(resultSummary(this, this.#total(), this.#records));
  }

  #onFinished(record: TaskRecord): void {
    const index = this.#indexOf
      ? this.#indexOf.get(record)
      : this.#records[0] === record
      ? 0
      : undefined;
    // Still being created: the constructor counts it.
    if (index === undefined) return;
    this.#finishedRecords++;
    this.#finishedItems += this.#items?.[index] ?? 1;
    this.#completionOrder?.push(index);
    this.#changed?.resolve();
    this.#changed = undefined;
    if (this.ready()) this.#complete();
  }

  #complete(): void {
    this.#elapsed ??= performance.now() - this.#submitted;
    this.#fanout?.end();
    this.announceFinished();
    this.#all?.resolve();
    if (this.#value) {
      try {
        this.#value.resolve(this.#result());
      } catch (error) {
        this.#value.reject(error);
      }
    }
    if (this.#holding) {
      this.#holding = false;
      dropHold();
    }
    const watch = this.#watch;
    if (this.#observed || !watch) return;
    const report = unobservedReport(this.#records);
    if (report) this.#withdrawReport = watch.unobserved(this, report);
  }

  #observe(): void {
    if (this.#observed) return;
    this.#observed = true;
    this.#withdrawReport?.();
    this.#withdrawReport = undefined;
  }

  #total(): number {
    return this.#items?.reduce((a, b) => a + b, 0) ?? this.#records.length;
  }

  /** Resolves once every task has finished. */
  #allDone(): Promise<void> {
    if (this.ready()) return Promise.resolve();
    return (this.#all ??= Promise.withResolvers()).promise;
  }

  #result(): T {
    return recordsValue(this.#records, this.#single, this.#items) as T;
  }

  static {
    // Its records' listener is one object per result, not two closures.
    resultDoor({
      published(result: AsyncResult<unknown>, publication: Publication) {
        result.#fanout?.push(publication);
      },
      finished(result: AsyncResult<unknown>, record: TaskRecord) {
        result.#onFinished(record);
      },
    });
  }
}
