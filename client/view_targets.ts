/**
 * The check of the engines a view is asked for, what a direct view's
 * targets are at a call, and how a load-balanced view's optional targets
 * and options are told apart.
 *
 * @module
 */

import type { Cluster } from "../cluster/cluster.ts";
import { noEnginesMessage } from "../protocol/errors.ts";
import type { Targets } from "./direct_view.ts";
import type { LoadBalancedOptions } from "./load_balanced_view.ts";

/**
 * Throws a `RangeError` for an empty list, or an engine id the cluster has
 * not (never had, or forgot: an idle pool keeps the engines of its last
 * two stops only), naming the engines it has.
 *
 * @example
 * ```ts
 * import { checkTargets } from "./view_targets.ts";
 * const cluster = {
 *   has: (id: number) => id === 0,
 *   ids: () => [0],
 *   engines: () => [],
 * };
 * try {
 *   checkTargets(cluster, [3]);
 * } catch (error) {
 *   console.log((error as Error).message); // there is no engine 3; ...
 * }
 * ```
 */
export function checkTargets(
  cluster: Pick<Cluster, "has" | "ids" | "engines">,
  ids: number[],
): void {
  if (ids.length === 0) {
    throw new RangeError("a view needs at least one engine; got []");
  }
  for (const id of ids) {
    if (!cluster.has(id)) {
      // Ids are not given out twice: one below an engine kept was likely
      // had, and forgotten.
      const older = Number.isInteger(id) && id >= 0 &&
        cluster.engines().some((e) => e.engineId > id);
      throw new RangeError(
        `there is no engine ${id}` +
          (older
            ? " (an idle pool forgets the engines of all but its last two " +
              "stops)"
            : "") +
          `; the engines are ${JSON.stringify(cluster.ids())}`,
      );
    }
  }
}

/**
 * `loadBalancedView(targets?, options?)`'s arguments as targets (checked,
 * or `undefined` for every engine) and options: without a list, the first
 * argument is the options.
 *
 * @example
 * ```ts
 * import { balancedArguments } from "./view_targets.ts";
 * const cluster = {
 *   has: (id: number) => id === 0,
 *   ids: () => [0],
 *   engines: () => [],
 * };
 * console.log(balancedArguments(cluster, { retries: 1 }, {})); // [ undefined, { retries: 1 } ]
 * console.log(balancedArguments(cluster, [0], {})); // [ [ 0 ], {} ]
 * ```
 */
export function balancedArguments(
  cluster: Pick<Cluster, "has" | "ids" | "engines">,
  targets: number[] | LoadBalancedOptions | undefined,
  options: LoadBalancedOptions,
): [number[] | undefined, LoadBalancedOptions] {
  if (!Array.isArray(targets)) return [undefined, targets ?? options];
  checkTargets(cluster, targets);
  return [targets, options];
}

/**
 * A direct view's targets at a call: `"all"` is the engines up now, and
 * none up is an `Error` that says how to get engines.
 *
 * @example
 * ```ts
 * import { liveTargets } from "./view_targets.ts";
 * console.log(liveTargets({ ids: () => [0, 1] }, "all")); // [0, 1]
 * console.log(liveTargets({ ids: () => [0, 1] }, 1)); // 1
 * ```
 */
export function liveTargets(
  cluster: Pick<Cluster, "ids">,
  targets: Targets,
): number | number[] {
  if (targets !== "all") return targets;
  const ids = cluster.ids();
  if (ids.length === 0) {
    throw new Error(noEnginesMessage(
      "no engine is up to run this on (none was started, all are " +
        "restarting or given up, or the client's pool is idle: with " +
        "idleTimeoutMs, engines start on the first load-balanced task, " +
        "or on await client.waitForEngines(n))",
    ));
  }
  return ids;
}
