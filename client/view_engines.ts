/**
 * How many engines a load-balanced call plans for: what sizes `mapAsync`'s
 * chunks and `imap`'s default `maxOutstanding`.
 *
 * @module
 */

import type { Cluster } from "../cluster/cluster.ts";

/**
 * The engines a view's call may spread over: its targets when it has
 * them, else the cluster's live engines, or, while an idle pool has none
 * up, the engines its start brings (so that its first call is not planned
 * for one engine: ipyparallel #743). At least 1.
 *
 * @example
 * ```ts
 * import { viewEngineCount } from "./view_engines.ts";
 * const stopped = { ids: () => [], plannedEngines: () => 3 };
 * console.log(viewEngineCount(stopped, undefined)); // 3
 * console.log(viewEngineCount(stopped, [4])); // 1
 * ```
 */
export function viewEngineCount(
  cluster: Pick<Cluster, "ids" | "plannedEngines">,
  targets: readonly number[] | undefined,
): number {
  if (targets) return Math.max(1, targets.length);
  return Math.max(1, cluster.ids().length, cluster.plannedEngines());
}
