/**
 * How a task reaches its engine: the one message every task, direct or
 * chosen by the scheduler, goes to an engine actor with.
 *
 * @module
 */

import type { TaskSpec } from "../protocol/messages.ts";
import type { EngineActor } from "./engine_actor.ts";
import type { TaskObserver } from "./engine_types.ts";

/**
 * Hands a task to its engine: the one way every task, direct or chosen by
 * the scheduler, reaches an engine (the cluster's, and the scheduler's in
 * its unit tests and benchmark, so that they hand out tasks the same way).
 *
 * @example
 * ```ts
 * import { handOut } from "./hand_out.ts";
 * import type { SchedulerHost } from "./scheduler.ts";
 * const submit: SchedulerHost["submit"] = handOut;
 * console.log(typeof submit); // "function"
 * ```
 */
export function handOut(
  engine: EngineActor,
  task: TaskSpec,
  observer: TaskObserver,
): void {
  engine.tell({ kind: "submit", task: { ...specOf(task), observer } });
}

/**
 * The `TaskSpec` fields of `task` alone (not its placement, needs, or
 * what else a caller's type adds): one list, so that a field added to
 * `TaskSpec` reaches the engine and the scheduler alike.
 *
 * @example
 * ```ts
 * import { specOf } from "./hand_out.ts";
 * import type { SubmittedTask } from "./cluster.ts";
 * const task: SubmittedTask = {
 *   taskId: 1,
 *   fn: { kind: "source", source: "() => 1" },
 *   args: [],
 *   placement: { engineId: 0 },
 * };
 * console.log(Object.keys(specOf(task))); // ["taskId", "fn", "mode", "args", "refs"]
 * ```
 */
export function specOf(task: TaskSpec): TaskSpec {
  return {
    taskId: task.taskId,
    fn: task.fn,
    mode: task.mode,
    args: task.args,
    refs: task.refs,
  };
}
