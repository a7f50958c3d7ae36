/**
 * The check of the engines a view is asked for.
 *
 * @module
 */

import type { Cluster } from "../cluster/cluster.ts";

/**
 * Throws a `RangeError` for an empty list, or an engine id the cluster has
 * never had, naming the engines it has.
 *
 * @example
 * ```ts
 * import { checkTargets } from "./view_targets.ts";
 * const cluster = { has: (id: number) => id === 0, ids: () => [0] };
 * try {
 *   checkTargets(cluster, [3]);
 * } catch (error) {
 *   console.log((error as Error).message); // there is no engine 3; ...
 * }
 * ```
 */
export function checkTargets(
  cluster: Pick<Cluster, "has" | "ids">,
  ids: number[],
): void {
  if (ids.length === 0) {
    throw new RangeError("a view needs at least one engine; got []");
  }
  for (const id of ids) {
    if (!cluster.has(id)) {
      throw new RangeError(
        `there is no engine ${id}; the engines are ${
          JSON.stringify(cluster.ids())
        }`,
      );
    }
  }
}
