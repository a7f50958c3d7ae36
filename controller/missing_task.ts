/**
 * Why a task a client asks for (`follow`, `getResult`, `resume`) is not in
 * the history, as far as the history can tell: the history writes what
 * happens every `flushMs`, so a controller killed with kill -9 loses
 * what came in its last `flushMs`; a task submitted then is in no row.
 *
 * @module
 */

import { TASK_ID_BLOCK } from "../remote/wire.ts";
import type { History } from "./history.ts";

/**
 * The message of the `RangeError` a task the history lacks ends with.
 * Above every id its block has had, in the block of a client of an
 * earlier controller, it says that, if it was submitted, that controller
 * died before its flush wrote it (its end, if it came that fast, went to
 * its client at once, not through the history); otherwise that it was
 * purged, cut by the limits, or never submitted.
 *
 * @example
 * ```ts
 * import { History } from "./history.ts";
 * import { notInHistory } from "./missing_task.ts";
 * const history = History.open({ path: ":memory:" });
 * console.log(notInHistory(2 ** 32 + 1, "sim", history));
 * // task 4294967297 is not in cluster sim's history: purged, past the history's limits (maxTasks, maxAgeMs), or never submitted
 * history.close();
 * ```
 */
export function notInHistory(
  taskId: number,
  clusterId: string,
  history: Pick<History, "used" | "clientsBefore" | "flushMs">,
  previousPid?: number,
): string {
  const missing = `task ${taskId} is not in cluster ${clusterId}'s history: `;
  const clientNo = Math.floor(taskId / TASK_ID_BLOCK);
  if (
    clientNo >= 1 && clientNo <= history.clientsBefore &&
    !history.used(taskId)
  ) {
    const who = previousPid === undefined
      ? "the controller it was submitted to"
      : `the controller it was submitted to (pid ${previousPid})`;
    return missing +
      `it is above every task id of client ${clientNo}, a client of an ` +
      `earlier controller: if it was submitted, ${who} was killed or ` +
      `crashed within ${history.flushMs} ms (the history's flush interval) ` +
      "of receiving it, before it was written. It may have run, and its " +
      "end may have reached the client that submitted it then, but nothing " +
      "of it is known here: run it again if that client has no result";
  }
  return missing +
    "purged, past the history's limits (maxTasks, maxAgeMs), or never " +
    "submitted";
}
