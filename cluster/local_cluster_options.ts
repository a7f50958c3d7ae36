/**
 * `LocalClusterOptions`: how a `LocalCluster` runs its engines (restarts,
 * heartbeat, timeouts, admission). Re-exported by local_cluster.ts.
 *
 * @module
 */

import type { EngineEvent } from "./engine_types.ts";
import type { RestartPolicy } from "./supervisor.ts";
import type { AdmissionOptions } from "./admission.ts";

/**
 * How a `LocalCluster` runs its engines.
 *
 * @example
 * ```ts
 * import type { LocalClusterOptions } from "./local_cluster_options.ts";
 * const options: LocalClusterOptions = {
 *   heartbeatMs: 500,
 *   admission: { listen: {}, joinable: true },
 * };
 * ```
 */
export interface LocalClusterOptions {
  /** How dead engines are restarted; see `RestartPolicy`. */
  restart?: RestartPolicy;
  /** Heartbeat period in ms. */
  heartbeatMs?: number;
  /** How long each engine has to start and register, in ms. */
  startTimeoutMs?: number;
  /** How long a task waits while no engine it may run on is up, in ms. */
  noEngineTimeoutMs?: number;
  /** Hears every engine event from the very start. */
  onEngineEvent?: (event: EngineEvent) => void;
  /** How engines are started and let in (Workers, processes, TCP). */
  admission?: AdmissionOptions;
}
