/**
 * `maxQueue`: how many of a load-balanced view's tasks may wait to start
 * (queued in the scheduler or waiting for their dependencies) at once.
 *
 * @module
 */

import { QueueFullError } from "../protocol/errors.ts";
import { type RecordListener, TaskRecord } from "./task_record.ts";
import type { TaskOutcome } from "../cluster/cluster.ts";

/**
 * The count of a view's waiting tasks against its `maxQueue`, shared by the
 * view and the views its `with()` makes. A task counts from its submission
 * until it starts, or ends without starting (aborted, timed out, failed
 * dependency).
 *
 * @example
 * ```ts
 * import { QueueLimit } from "./queue_limit.ts";
 * const limit = new QueueLimit(2);
 * limit.reserve(2);
 * try {
 *   limit.reserve(1);
 * } catch (error) {
 *   console.log((error as Error).name); // QueueFullError
 * }
 * ```
 */
export class QueueLimit {
  /** The view's limit. */
  readonly maxQueue: number;
  #queued = 0;
  #freed: PromiseWithResolvers<void> | undefined;

  /** A limit of `maxQueue` waiting tasks (checked by the view's options). */
  constructor(maxQueue: number) {
    this.maxQueue = maxQueue;
  }

  /** How many of the view's tasks wait to start now. */
  get queued(): number {
    return this.#queued;
  }

  /**
   * Counts `tasks` more as waiting, or throws a `QueueFullError` (counting
   * none) if that would pass the limit.
   */
  reserve(tasks: number): void {
    if (tasks > this.maxQueue) {
      // No wait can help: say what can.
      throw new QueueFullError({
        maxQueue: this.maxQueue,
        queued: this.#queued,
        adding: tasks,
      });
    }
    if (this.#queued + tasks > this.maxQueue) {
      throw new QueueFullError({
        maxQueue: this.maxQueue,
        queued: this.#queued,
        adding: tasks,
      });
    }
    this.#queued += tasks;
  }

  /**
   * `undefined` while one more task may be queued, else a promise that
   * settles at the next place freed (`imap` waits on it instead of
   * throwing: it is the back-pressured call).
   */
  room(): Promise<void> | undefined {
    if (this.#queued < this.maxQueue) return undefined;
    return (this.#freed ??= Promise.withResolvers()).promise;
  }

  /** A record whose start (or end) frees its place. */
  record(taskId: number, listener: RecordListener): TaskRecord {
    return new QueuedRecord(this, taskId, listener);
  }

  /** One reserved task started, or ended without starting. */
  release(): void {
    this.#queued--;
    this.#freed?.resolve();
    this.#freed = undefined;
  }

  /** Gives back the places of `records` whose submission failed. */
  cancel(records: readonly TaskRecord[]): void {
    for (const record of records) {
      if (record instanceof QueuedRecord) record.releasePlace();
    }
  }
}

/** A task record that gives back its place in the queue once. */
class QueuedRecord extends TaskRecord {
  #limit: QueueLimit | undefined;

  constructor(limit: QueueLimit, taskId: number, listener: RecordListener) {
    super(-1, taskId, listener);
    this.#limit = limit;
  }

  override started(): void {
    // Freed before anyone hears of it: a caller woken by this task may
    // submit the next one at once.
    this.#release();
    super.started();
  }

  override done(outcome: TaskOutcome): void {
    this.#release();
    super.done(outcome);
  }

  /** Frees the place, once (its task will never start). */
  releasePlace(): void {
    this.#release();
  }

  #release(): void {
    this.#limit?.release();
    this.#limit = undefined;
  }
}
