/**
 * Errors of a call whose tasks could not be run as asked: a dependency
 * that failed or cannot be met, a view's queue that is full. Re-exported by
 * errors.ts, with troupe's other errors.
 *
 * @module
 */

import { messageOf } from "./errors.ts";

/**
 * A task did not run because a task it depends on (`after`, `follow`, or a
 * result given as an argument) failed or was aborted, or because no engine
 * can satisfy its `follow` (ipyparallel's `UnmetDependency`). `cause` is
 * the dependency's own error, when it has one.
 *
 * @example
 * ```ts
 * import { UnmetDependencyError } from "@troupe/parallel";
 * const e = new UnmetDependencyError({
 *   taskId: 5,
 *   dependency: 3,
 *   cause: new Error("boom"),
 * });
 * console.log(e.dependency, e.message);
 * ```
 */
export class UnmetDependencyError extends Error {
  /** The task that did not run. */
  readonly taskId: number;
  /** The dependency's task id: the one that failed, or could not be met. */
  readonly dependency: number;

  /**
   * Names both tasks and what to do; `why` replaces "failed" (a `follow`
   * that no engine can satisfy, which `onDependencyFailure: "run"` cannot
   * help: it says where to run, and there is nowhere), `argument` (the
   * argument's index; the message counts from 1, as the other argument
   * errors do) says the dependency was an argument (whose failure always
   * fails the task: there is no value to run with).
   */
  constructor(
    options: ErrorOptions & {
      taskId: number;
      dependency: number;
      why?: string;
      argument?: number;
    },
  ) {
    const { taskId, dependency, argument } = options;
    // A chain's message names its own link only: each quoting the next
    // would grow with the square of the chain.
    const cause = options.cause instanceof UnmetDependencyError
      ? ` (it did not run either: task ${options.cause.dependency} failed ` +
        "before it)"
      : options.cause instanceof Error
      ? ` (${messageOf(options.cause)})`
      : "";
    const what = argument === undefined
      ? `its dependency, task ${dependency},`
      : `its argument ${
        argument + 1
      } is the result of task ${dependency}, which`;
    const advice = argument !== undefined
      ? "; a failed result cannot be an argument: await it, and pass " +
        "a value of your own"
      : options.why !== undefined
      ? "; follow only tasks that ran on one engine (from a map, follow " +
        "one item: ar.item(i)), or drop follow (onDependencyFailure: " +
        '"run" cannot help: there is no engine to run it on)'
      : '; pass onDependencyFailure: "run" in the call options to run it anyway';
    super(
      `task ${taskId} did not run: ${what} ${
        options.why ?? `failed${cause}`
      }${advice}`,
      { cause: options.cause },
    );
    this.name = "UnmetDependencyError";
    this.taskId = taskId;
    this.dependency = dependency;
  }
}

/**
 * A call on a load-balanced view with `maxQueue` would have put more of the
 * view's tasks in waiting (submitted, not yet started) than the limit: it
 * was refused at once and submitted nothing (piscina's queue-full error).
 *
 * @example
 * ```ts
 * import { QueueFullError } from "@troupe/parallel";
 * const e = new QueueFullError({ maxQueue: 100, queued: 100 });
 * console.log(e.maxQueue, e.queued, e.message);
 * ```
 */
export class QueueFullError extends Error {
  /** The view's limit. */
  readonly maxQueue: number;
  /** How many of the view's tasks were waiting when the call came. */
  readonly queued: number;

  /** Says the limit, how many wait, and what to do. */
  constructor(
    options: ErrorOptions & {
      maxQueue: number;
      queued: number;
      adding?: number;
    },
  ) {
    const { maxQueue, queued, adding = 1 } = options;
    super(
      adding > maxQueue
        // Waiting cannot help a call bigger than the whole queue.
        ? `this call makes ${adding} tasks, more than maxQueue ${maxQueue}: ` +
          "raise chunkSize (fewer, bigger tasks) or maxQueue in " +
          "client.loadBalancedView({ maxQueue })"
        : `the view's queue is full: ${queued} of its tasks wait to start ` +
          `and maxQueue is ${maxQueue}, so ${adding} more task${
            adding === 1 ? "" : "s"
          } cannot be queued; await some results before submitting more, ` +
          "or raise maxQueue in client.loadBalancedView({ maxQueue })",
      { cause: options.cause },
    );
    this.name = "QueueFullError";
    this.maxQueue = maxQueue;
    this.queued = queued;
  }
}
