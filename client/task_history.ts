/**
 * The client's reach into its controller's task history: `getResult`,
 * `resume`, `history`, `query` and `purge`. Only a connected client
 * (`Client.connect`) has a history; an embedded one says so.
 *
 * @module
 */

import type { Cluster } from "../cluster/cluster.ts";
import { RemoteCluster } from "../remote/remote_cluster.ts";
import { taskId } from "../protocol/field_checks.ts";
import { fromWireError } from "../remote/wire_errors.ts";
import {
  HISTORY_QUERY_OPTIONS,
  type HistoryQuery,
  PURGE_FILTER_OPTIONS,
  type PurgeFilter,
  type TaskSummary,
} from "../remote/wire.ts";
import { AsyncResult } from "./async_result.ts";
import { checkOptions } from "./options.ts";
import { type AsyncResultJSON, checkResultJSON } from "./result_json.ts";
import type { ResultPlan } from "./result_plan.ts";
import { TaskRecord } from "./task_record.ts";
import type { FailureWatch } from "./unobserved_failures.ts";

/**
 * One task of the history as `client.query` gives it: a `TaskSummary`
 * whose `error` (with `full`) is an `Error` again, of its own class
 * (`EngineError`, `RemoteError`, ...).
 *
 * @example
 * ```ts
 * import type { HistoryTask } from "@troupe/parallel";
 * const failedOn = (t: HistoryTask) => t.error ? `${t.engineId}: ${t.error.message}` : "";
 * ```
 */
export type HistoryTask = Omit<TaskSummary, "error"> & { error?: Error };

/**
 * The cluster as a controller's, or the error that says the history needs
 * one.
 *
 * @example
 * ```ts
 * import { connectedOnly } from "./task_history.ts";
 * import type { Cluster } from "../cluster/cluster.ts";
 * const historyOf = (cluster: Cluster) => connectedOnly(cluster, "history");
 * ```
 */
export function connectedOnly(cluster: Cluster, what: string): RemoteCluster {
  if (cluster instanceof RemoteCluster) return cluster;
  throw new Error(
    `${what} needs a controller's cluster: the history lives in a ` +
      "controller: start one with `deno task troupe start` (or " +
      "startController) and use Client.connect",
  );
}

/**
 * An `AsyncResult` over tasks of the history (ipyparallel's `get_result`):
 * their values in order; a task the history lacks fails with the
 * controller's `RangeError`. Plain ids say nothing of the history they
 * came from, so unlike `resumedResult` only their form is checked (each a
 * task id, a whole number > 0: a `RangeError` otherwise).
 *
 * @example
 * ```ts ignore
 * import { historyResult } from "./task_history.ts";
 * const ar = historyResult(remoteCluster, failures, [2 ** 32 + 1]);
 * console.log(await ar);
 * ```
 */
export function historyResult(
  remote: RemoteCluster,
  failures: FailureWatch,
  taskIds: number[],
): AsyncResult<unknown[]> {
  if (
    !Array.isArray(taskIds) || !taskIds.every((id) => Number.isSafeInteger(id))
  ) {
    throw new TypeError(
      `getResult takes a list of task ids (ar.taskIds, client.history()), ` +
        `not ${JSON.stringify(taskIds)}`,
    );
  }
  // Checked here as the controller checks a follow: there, a bad id is a
  // malformed message, which closes the whole session.
  const at = taskIds.findIndex((id) => taskId(id) !== undefined);
  if (at >= 0) {
    throw new RangeError(
      `getResult: ${taskIds[at]} (at [${at}]) is not ${
        taskId(taskIds[at])
      }; take the ids from ar.taskIds or client.history()`,
    );
  }
  return new AsyncResult(
    followPlan(remote, failures, {
      taskIds,
      engineIds: taskIds.map(() => -1),
      single: false,
    }),
  );
}

/**
 * The result that `json` (`ar.toJSON()`, or its text) describes, followed
 * again: the same value shape and `data` shape as the original's.
 *
 * @example
 * ```ts ignore
 * import { resumedResult } from "./task_history.ts";
 * const ar = resumedResult(remoteCluster, failures, JSON.parse(saved));
 * console.log(ar.data, await ar);
 * ```
 */
export function resumedResult(
  remote: RemoteCluster,
  failures: FailureWatch,
  json: AsyncResultJSON | string,
): AsyncResult<unknown> {
  const shape = checkResultJSON(json, remote.clusterId, remote.historyId);
  return new AsyncResult(followPlan(remote, failures, shape));
}

function followPlan(
  remote: RemoteCluster,
  failures: FailureWatch,
  shape: Omit<AsyncResultJSON, "troupe" | "version" | "cluster">,
): ResultPlan {
  const { taskIds, engineIds } = shape;
  return {
    single: shape.single,
    items: shape.items,
    unordered: shape.unordered,
    watch: failures,
    cluster: remote.clusterId,
    historyId: remote.historyId,
    owner: remote,
    start: (listener) => {
      const records = taskIds.map((taskId, i) => {
        const record = new TaskRecord(engineIds[i], taskId, listener);
        record.followed();
        return record;
      });
      // The history's submission times first, so that wallTime counts from
      // the submission, not from this lookup: the follow (whose replay ends
      // finished tasks) waits one round trip for them. Without them (an
      // error, a closed connection), wallTime is undefined.
      if (taskIds.length === 0) return records;
      remote.call({
        kind: "query",
        query: { taskIds, limit: taskIds.length },
      }).then((tasks) => {
        const submitted = new Map(
          (tasks as TaskSummary[]).map((t) => [t.taskId, t.submitted]),
        );
        for (const record of records) {
          const at = submitted.get(record.taskId);
          if (at !== undefined) record.submittedAt(at);
        }
      }, () => {}).finally(() => {
        remote.follow(taskIds, (_, i) => records[i]);
      });
      return records;
    },
    abort: (ids) => remote.abort(ids),
  };
}

/**
 * The tasks the history matches, `error` brought back as an `Error` (with
 * `full`). A misspelt field of `query` is a `TypeError`.
 *
 * @example
 * ```ts ignore
 * import { queryHistory } from "./task_history.ts";
 * const failed = await queryHistory(remoteCluster, { state: "error" });
 * ```
 */
export async function queryHistory(
  remote: RemoteCluster,
  query: HistoryQuery,
): Promise<HistoryTask[]> {
  checkOptions("query", query, HISTORY_QUERY_OPTIONS);
  const tasks = await remote.call({ kind: "query", query }) as TaskSummary[];
  return tasks.map((task) =>
    task.error ? { ...task, error: fromWireError(task.error) } : task
  ) as HistoryTask[];
}

/**
 * Removes finished tasks from the history; resolves with how many. A
 * misspelt field of `filter` is a `TypeError`.
 *
 * @example
 * ```ts ignore
 * import { purgeHistory } from "./task_history.ts";
 * console.log(await purgeHistory(remoteCluster, { all: true }));
 * ```
 */
export async function purgeHistory(
  remote: RemoteCluster,
  filter: PurgeFilter,
): Promise<number> {
  checkOptions("purge filter", filter, PURGE_FILTER_OPTIONS);
  return await remote.call({ kind: "purge", filter }) as number;
}
