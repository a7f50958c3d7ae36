/**
 * An engine actor as the seam shows it: the snapshot `Cluster.engines()`
 * gives, memory included.
 *
 * @module
 */

import type { EngineStatus } from "./cluster.ts";
import type { EngineActor } from "./engine_actor.ts";
import type { EngineKind } from "./supervisor.ts";

/**
 * `engine`'s status now; `kind` is what its supervisor started it as.
 *
 * @example
 * ```ts
 * import { engineStatus } from "./engine_status.ts";
 * import type { EngineActor } from "./engine_actor.ts";
 * const line = (e: EngineActor) => engineStatus(e, "worker").state;
 * ```
 */
export function engineStatus(
  engine: EngineActor,
  kind: EngineKind,
): EngineStatus {
  // A stopped engine (retired, scaled down, given up) has no memory left:
  // its last figures would be summed with the living engines' forever.
  const memory = engine.state === "stopped" ? undefined : engine.memory;
  return {
    engineId: engine.engineId,
    kind,
    state: engine.state,
    restarts: engine.restarts,
    tasksDone: engine.tasksDone,
    currentTaskId: engine.currentTaskId,
    load: engine.load,
    deathReason: engine.deathReason,
    ...engine.where,
    ...(memory && { heapBytes: memory.heapBytes }),
    ...(memory?.rssBytes !== undefined && { rssBytes: memory.rssBytes }),
  };
}
