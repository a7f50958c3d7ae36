/**
 * What a task the history has as unfinished, when a controller starts on
 * it, ends with: the controller before this one stopped without ending it
 * (killed or crashed), so its result is gone; it is failed, never done.
 *
 * @module
 */

import type { TaskSummary, WireError } from "../remote/wire.ts";

/**
 * The `EngineError` (as it crosses) that `task`, left `queued` or
 * `running` by the controller of pid `previousPid` (when known), ends with.
 *
 * @example
 * ```ts
 * import { lostTask } from "./lost_task.ts";
 * const error = lostTask(
 *   { taskId: 7, clientNo: 1, engineId: 0, state: "running", fn: "f", submitted: 0, publications: 0 },
 *   4242,
 * );
 * console.log(error.message);
 * // the controller stopped (pid 4242, killed or crashed) while task 7 was running on engine 0; its result was lost. Run the task again.
 * ```
 */
export function lostTask(task: TaskSummary, previousPid?: number): WireError {
  const where = task.engineId === undefined
    ? ""
    : ` on engine ${task.engineId}`;
  const who = previousPid === undefined ? "" : `pid ${previousPid}, `;
  const reason = `the controller stopped (${who}killed or crashed) while ` +
    `task ${task.taskId} was ${task.state}${where}; its result was lost`;
  return {
    name: "EngineError",
    message: `${reason}. Run the task again.`,
    fields: {
      reason,
      taskId: task.taskId,
      ...(task.engineId === undefined ? {} : { engineId: task.engineId }),
    },
  };
}

/**
 * Throws a clear `TypeError` unless `pid` is absent or a positive integer
 * (`ControllerOptions.previousPid`).
 *
 * @example
 * ```ts
 * import { checkPreviousPid } from "./lost_task.ts";
 * checkPreviousPid(4242); // fine
 * checkPreviousPid(undefined); // fine: not known
 * ```
 */
export function checkPreviousPid(pid: unknown): void {
  if (pid === undefined || (Number.isInteger(pid) && (pid as number) > 0)) {
    return;
  }
  throw new TypeError(
    "startController's previousPid is the pid of the controller that ran " +
      `on this history before (a positive integer), not ${
        JSON.stringify(pid)
      }: leave it out when it is not known`,
  );
}
