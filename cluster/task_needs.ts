/**
 * What a task needs of other tasks (`SubmittedTask.needs`), and what the
 * core's dependencies (dependencies.ts) need of their cluster: plain data
 * and the host's interface.
 *
 * @module
 */

import type { SubmittedTask, TaskListener } from "./cluster.ts";
import type { TaskOutcome } from "./engine_types.ts";

/**
 * What a task needs of other tasks before it can run: plain data, so that
 * it crosses to a controller. Every id is a task submitted before this one.
 *
 * @example
 * ```ts
 * import type { TaskNeeds } from "./task_needs.ts";
 * // Run after task 3 succeeded, on the engine task 4 ran on, with task
 * // 5's value as argument 0.
 * const needs: TaskNeeds = {
 *   after: [3],
 *   follow: [4],
 *   args: [{ index: 0, tasks: [5], shape: "one" }],
 * };
 * ```
 */
export interface TaskNeeds {
  /** Tasks that must have succeeded (or just ended, with `"run"`). */
  after?: number[];
  /** Tasks that must have run, all on the engine this one then runs on. */
  follow?: number[];
  /** An engine a dependency already known to have ended ran on. */
  on?: number;
  /** That dependency's task id: the one an unmet `on` names. */
  onTask?: number;
  /** Arguments that are other tasks' values. */
  args?: ArgumentNeed[];
  /** A failed `after`/`follow` dependency fails the task (the default). */
  onFailure?: "fail" | "run";
}

/**
 * One argument made of other tasks' values: `one` is a task's value, `list`
 * their values in order (a direct view's apply), `items` their arrays
 * joined (a map's chunks); `item` then takes one element of that.
 *
 * @example
 * ```ts
 * import type { ArgumentNeed } from "./task_needs.ts";
 * // Item 2 of the chunk that task 9 computed, as argument 1.
 * const need: ArgumentNeed = { index: 1, tasks: [9], shape: "items", item: 2 };
 * ```
 */
export interface ArgumentNeed {
  index: number;
  tasks: number[];
  shape: "one" | "list" | "items";
  item?: number;
  /** Values the client had already, by position in `tasks`. */
  ready?: Record<number, unknown>;
}

/**
 * How a task the core no longer holds ended: its outcome, the engine it ran
 * on, and, when its value was not kept, why.
 *
 * @example
 * ```ts
 * import type { EndedTask } from "./task_needs.ts";
 * const ended: EndedTask = {
 *   outcome: { ok: true, value: 1, started: 0, completed: 1 },
 *   engineId: 0,
 * };
 * ```
 */
export interface EndedTask {
  outcome: TaskOutcome;
  engineId: number | undefined;
  /** The value was not kept (its size): an argument cannot be made of it. */
  valueLost?: string;
}

/**
 * What the dependencies need of their cluster.
 *
 * @example
 * ```ts
 * import type { DependencyHost } from "./task_needs.ts";
 * const host: DependencyHost = {
 *   holds: () => false,
 *   place() {},
 *   engineGone: () => undefined,
 * };
 * ```
 */
export interface DependencyHost {
  /** Whether the core holds task `taskId` (submitted, not ended). */
  holds(taskId: number): boolean;
  /**
   * How a task the core no longer holds ended (a controller's history), or
   * why that is not known; absent (an embedded client's core), such a task
   * is a broken promise of the client's and fails its dependent clearly.
   */
  ended?(taskId: number): EndedTask | Error | undefined;
  /** Hands on tasks whose needs are met, args filled in. */
  place(tasks: Held[]): void;
  /** Why engine `engineId` can take no task any more, if it cannot. */
  engineGone(engineId: number): string | undefined;
}

/** A task released to run, with the listener the core routed it to. */
export interface Held {
  task: SubmittedTask;
  listener: TaskListener;
}
