/**
 * `client.scale`'s wait: until the engines it started are up and the ones
 * it retired are stopped, or a bound passes.
 *
 * @module
 */

import type { Cluster, Launcher } from "../cluster/cluster.ts";
import type { LocalCluster } from "../cluster/local_cluster.ts";
import { RemoteCluster } from "../remote/remote_cluster.ts";
import { ClientClosedError, TimeoutError } from "../protocol/errors.ts";

/**
 * Resolves once every engine of `started` is up and every engine of
 * `retired` has stopped; rejects with a `TimeoutError` naming the ones
 * that are not after `timeoutMs`, at once with an `Error` when one of
 * `started` is given up, and with a `ClientClosedError` when `closing`
 * resolves.
 *
 * @example
 * ```ts
 * import { settleScale } from "./scaling.ts";
 * import type { Cluster, Launcher } from "../cluster/cluster.ts";
import type { LocalCluster } from "../cluster/local_cluster.ts";
import { RemoteCluster } from "../remote/remote_cluster.ts";
 * const nothing = (cluster: Cluster) =>
 *   settleScale(cluster, [], [], 1000, new Promise(() => {}));
 * ```
 */
export function settleScale(
  cluster: Pick<Cluster, "engines" | "onEngineEvent">,
  started: readonly number[],
  retired: readonly number[],
  timeoutMs: number,
  closing: Promise<void>,
): Promise<void> {
  const { promise, resolve, reject } = Promise.withResolvers<void>();
  const stateOf = () =>
    new Map(cluster.engines().map((e) => [e.engineId, e.state]));
  const pending = () => {
    const states = stateOf();
    const up = (id: number) =>
      ["idle", "busy"].includes(states.get(id) ?? "stopped");
    return {
      starting: started.filter((id) => !up(id)),
      lost: started.filter((id) => states.get(id) === "stopped"),
      stopping: retired.filter((id) => states.get(id) !== "stopped"),
    };
  };
  const end = (error?: Error) => {
    unsubscribe();
    clearTimeout(timer);
    if (error) reject(error);
    else resolve();
  };
  const check = () => {
    const { starting, lost, stopping } = pending();
    if (lost.length > 0) {
      const why = cluster.engines().find((e) => e.engineId === lost[0])
        ?.deathReason;
      end(
        new Error(
          `engine ${lost[0]} of the scale-up was given up` +
            (why ? `: it last died because ${why}` : ""),
        ),
      );
    } else if (starting.length === 0 && stopping.length === 0) end();
  };
  const unsubscribe = cluster.onEngineEvent(check);
  const timer = setTimeout(() => {
    const { starting, stopping } = pending();
    end(
      new TimeoutError(
        `scale did not settle within ${timeoutMs} ms: ` +
          [
            starting.length ? `engines ${starting.join(", ")} are not up` : "",
            stopping.length
              ? `engines ${stopping.join(", ")} have not stopped`
              : "",
          ].filter(Boolean).join("; "),
      ),
    );
  }, timeoutMs);
  closing.then(() => end(new ClientClosedError({ what: "scale" })));
  check();
  return promise;
}

/**
 * `client.scale`: on an embedded cluster, scales `launcher` (a `Launcher`)
 * and waits for it to settle (`settleScale`); on a connected client's, the
 * controller scales its launcher named `launcher`. A `Launcher` object is
 * refused there (it is code, and cannot cross), and a name on an embedded
 * cluster.
 *
 * @example
 * ```ts
 * import { scaleCluster } from "./scaling.ts";
 * import type { LocalCluster } from "../cluster/local_cluster.ts";
 * const toTwo = (cluster: LocalCluster) =>
 *   scaleCluster(cluster, 2, undefined, 60_000, new Promise(() => {}));
 * ```
 */
export async function scaleCluster(
  cluster: LocalCluster | RemoteCluster,
  n: number,
  launcher: Launcher | string | undefined,
  timeoutMs: number,
  closing: Promise<void>,
): Promise<void> {
  if (cluster instanceof RemoteCluster) {
    if (launcher !== undefined && typeof launcher !== "string") {
      throw new TypeError(
        "a connected client's scale names one of its controller's " +
          `launchers (${JSON.stringify(cluster.launchers)}), as a string: ` +
          "a Launcher object cannot cross to the controller",
      );
    }
    if (launcher === undefined && cluster.launchers.length === 0) {
      // The controller's core would say to give Client.start a launch
      // option, which means nothing to a connected client.
      throw new Error(
        `cluster ${cluster.clusterId} has no launcher to scale: its ` +
          "engines (--workers, --processes, or started by hand) are not a " +
          "launcher's; start the cluster with one to scale it, e.g. " +
          `troupe start --id ${cluster.clusterId} --engines N --launcher ` +
          "local (or ssh, slurm, mpi)" + (cluster.plannedEngines() > 0
            ? "; its idle pool starts on its first load-balanced task or " +
              "on await client.waitForEngines(n)"
            : ""),
      );
    }
    await cluster.call({ kind: "scale", n, launcher, timeoutMs });
    return;
  }
  if (typeof launcher === "string") {
    throw new TypeError(
      `a launcher is named ("${launcher}") on a connected client's ` +
        "controller only: give this client the Launcher itself",
    );
  }
  const { started, retired } = cluster.scale(n, launcher);
  await settleScale(cluster, started, retired, timeoutMs, closing);
}
