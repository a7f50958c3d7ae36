/**
 * `TaskRecord`: one task on one engine as the client follows it, which
 * `AsyncResult` reads.
 *
 * @module
 */

import type { TaskListener, TaskOutcome } from "../cluster/cluster.ts";
import { mergeData, type Publication } from "../protocol/publication.ts";

/** Where a task is: waiting, running, or ended one of three ways. */
export type TaskStatus = "queued" | "running" | "ok" | "error" | "aborted";

/**
 * What is known of one task on one engine (ipyparallel's `ar.metadata`).
 *
 * @example
 * ```ts
 * import { Client, type TaskMetadata } from "@troupe/parallel";
 * await using client = await Client.start({ workers: 1 });
 * const ar = client.view(0).applyAsync(() => 1);
 * await ar;
 * const m: TaskMetadata = ar.metadata;
 * console.log(m.engineId, m.status, m.completed?.toISOString()); // 0 "ok" ...
 * ```
 */
export interface TaskMetadata {
  /** The engine the task was sent to. */
  engineId: number;
  /** The task's id. */
  taskId: number;
  /** When the client accepted the task. */
  submitted: Date;
  /**
   * When the task began: the client's clock while it runs, the engine's once
   * it has ended.
   */
  started: Date | null;
  /** When the task ended, by the engine's clock (or the client's, if lost). */
  completed: Date | null;
  /** Where the task is now. */
  status: TaskStatus;
  /** Why it failed, once it has. */
  error: Error | null;
}

/**
 * One task on one engine, as the client follows it: the listener the
 * cluster tells the task's life to, publications included.
 */
export class TaskRecord implements TaskListener {
  /** The engine it runs on; -1 until the scheduler picks one. */
  engineId: number;
  /** The task's id. */
  readonly taskId: number;
  /** Made when first read or published to: most tasks publish nothing. */
  #data: Record<string, unknown> | undefined;
  stdout = "";
  stderr = "";
  outcome: TaskOutcome | undefined;
  #status: TaskStatus = "queued";
  // Times are kept as numbers: most are never looked at as Dates.
  #submitted = Date.now();
  /** Followed (`getResult`, `resume`): its submission is the history's. */
  #followed = false;
  #submittedKnown = true;
  #started: number | undefined;
  #completed: number | undefined;
  #listener: RecordListener;

  constructor(engineId: number, taskId: number, listener: RecordListener) {
    this.engineId = engineId;
    this.taskId = taskId;
    this.#listener = listener;
  }

  /** What the task published, merged key by key. */
  get data(): Record<string, unknown> {
    return this.#data ??= {};
  }

  /** What is known of the task, as a fresh object. */
  get metadata(): TaskMetadata {
    const outcome = this.outcome;
    return {
      engineId: this.engineId,
      taskId: this.taskId,
      submitted: new Date(this.#submitted),
      started: this.#started === undefined ? null : new Date(this.#started),
      completed: this.#completed === undefined
        ? null
        : new Date(this.#completed),
      status: this.#status,
      error: outcome && !outcome.ok ? outcome.error : null,
    };
  }

  /** Where the task is now. */
  get status(): TaskStatus {
    return this.#status;
  }

  /**
   * How long the task ran, in ms, once it has ended: by its engine's clock
   * (to the microsecond) when the engine said when it began and ended, by
   * the client's when the engine never said (it died under the task).
   * `undefined` while it runs, for a task that never started, and when only
   * one end is known by the engine's clock (the two clocks may differ).
   */
  get runTime(): number | undefined {
    const outcome = this.outcome;
    if (!outcome || this.#started === undefined) return undefined;
    // done() took the engine's ends where it said them, else the client's.
    const engineEnds = Number(outcome.started !== undefined) +
      Number(outcome.completed !== undefined);
    if (engineEnds === 1) return undefined;
    return this.#completed! - this.#started;
  }

  /**
   * A task this client looks up rather than submits: it was submitted
   * before, and when is not known until the history says
   * (`submittedAt`).
   */
  followed(): void {
    this.#followed = true;
    this.#submittedKnown = false;
  }

  /** When the task was submitted, ms since the epoch, as the history says. */
  submittedAt(at: number): void {
    this.#submitted = at;
    this.#submittedKnown = true;
  }

  /**
   * For a followed task that has ended: from its submission to its end, ms
   * since the epoch, by the history's times; `undefined` if the history
   * did not say when it was submitted. `null` for a task this client
   * submitted itself (its result counts by its own clock).
   */
  get historySpan():
    | { submitted: number; completed: number }
    | undefined
    | null {
    if (!this.#followed) return null;
    if (!this.#submittedKnown || this.#completed === undefined) {
      return undefined;
    }
    return { submitted: this.#submitted, completed: this.#completed };
  }

  /** The scheduler chose an engine for this task. */
  assigned(engineId: number): void {
    this.engineId = engineId;
  }

  started(): void {
    this.#status = "running";
    // The client's clock for now; the engine's replaces it when it reports.
    this.#started = Date.now();
  }

  stream(name: "stdout" | "stderr", text: string): void {
    // Named field by field: `name` comes from the engine, and no other
    // property of the record is its to write.
    if (name === "stdout") this.stdout += text;
    else if (name === "stderr") this.stderr += text;
  }

  publish(publication: Publication): void {
    // ipyparallel's `md['data'].update(...)`: merge, do not replace.
    mergeData(this.#data ??= {}, publication.data);
    this.#listener.published(publication);
  }

  done(outcome: TaskOutcome): void {
    if (this.outcome) return;
    this.outcome = outcome;
    if (outcome.started !== undefined) this.#started = outcome.started;
    this.#completed = outcome.completed ?? Date.now();
    this.#status = outcome.ok
      ? "ok"
      : outcome.error.name === "TaskAbortedError"
      ? "aborted"
      : "error";
    this.#listener.finished(this);
  }
}

/**
 * How an `AsyncResult` hears from its task records (a record is itself the
 * cluster's `TaskListener` for its task).
 */
export interface RecordListener {
  published(publication: Publication): void;
  finished(record: TaskRecord): void;
}
