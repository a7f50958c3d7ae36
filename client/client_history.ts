/**
 * `ClientHistory`: what a client asks of its controller's task history
 * (`getResult`, `resume`, `history`, `query`, `purge`), as ipyparallel's
 * `Client` does of its hub's database. The base of `Client`; on an
 * embedded client each throws (or rejects): the history lives in a
 * controller.
 *
 * @module
 */

import type { Cluster } from "../cluster/cluster.ts";
import type { HistoryQuery, PurgeFilter } from "../remote/wire.ts";
import type { AsyncResult } from "./async_result.ts";
import type { AsyncResultJSON } from "./result_json.ts";
import {
  connectedOnly,
  historyResult,
  type HistoryTask,
  purgeHistory,
  queryHistory,
  resumedResult,
} from "./task_history.ts";
import type { FailureWatch } from "./unobserved_failures.ts";

/**
 * The task history part of a `Client`: made only as a `Client`.
 *
 * @example
 * ```ts
 * import { Client, type ClientHistory } from "@troupe/parallel";
 * import { startController } from "../controller/controller.ts";
 * const controller = await startController({ id: "h", engines: { workers: 1 } });
 * const client: ClientHistory = await Client.connect(controller.clientInfo);
 * await (client as Client).view(0).applyAsync(() => 1);
 * console.log((await client.history()).length); // 1
 * await (client as Client).shutdown();
 * await controller.closed;
 * ```
 */
export abstract class ClientHistory {
  /**
   * The client's cluster: a controller's, for the history to be there.
   *
   * @ignore
   */
  protected abstract get historyCluster(): Cluster;
  /**
   * Where a resumed result's unobserved failures are reported.
   *
   * @ignore
   */
  protected abstract get historyFailures(): FailureWatch;

  /**
   * An `AsyncResult` over tasks of the controller's history, by id
   * (ipyparallel's `get_result`): their values, in order. Plain ids carry
   * no history identity, so they cannot be checked: ids saved from a
   * controller since started on a new database (`--db :memory:`, a
   * deleted file) name whatever tasks got them there. Keep `ar.toJSON()`
   * and `resume` it to have that refused.
   */
  getResult(taskIds: number[]): AsyncResult<unknown[]> {
    const remote = connectedOnly(this.historyCluster, "getResult");
    return historyResult(remote, this.historyFailures, taskIds);
  }

  /**
   * The result `json` describes (`ar.toJSON()`, or `JSON.stringify(ar)`),
   * saved by this or another client of the same cluster: it awaits to the
   * same shape, and its `data` shows what the tasks published so far. A
   * result saved from another history of the cluster (its controller was
   * started on a new database since, so its task ids name other tasks) is
   * refused.
   */
  resume(json: AsyncResultJSON | string): AsyncResult<unknown> {
    const remote = connectedOnly(this.historyCluster, "resume");
    return resumedResult(remote, this.historyFailures, json);
  }

  /** Every task id of the controller's history, in submission order. */
  async history(): Promise<number[]> {
    const remote = connectedOnly(this.historyCluster, "history");
    return await remote.call({ kind: "history" }) as number[];
  }

  /** The tasks of the history that `query` selects (all by default). */
  async query(query: HistoryQuery = {}): Promise<HistoryTask[]> {
    return await queryHistory(
      connectedOnly(this.historyCluster, "query"),
      query,
    );
  }

  /** Removes finished tasks from the history; resolves with how many. */
  async purge(filter: PurgeFilter): Promise<number> {
    return await purgeHistory(
      connectedOnly(this.historyCluster, "purge"),
      filter,
    );
  }
}
