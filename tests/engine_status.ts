/**
 * An `EngineStatus` for unit tests of what reads engines' snapshots
 * (queue status, the core's metrics): the fields a fresh engine has, with
 * the ones a test is about given.
 *
 * @module
 */

import type { EngineStatus } from "../cluster/cluster.ts";

/**
 * Engine `engineId`'s status: a fresh, idle process engine (no restarts,
 * no task, no load) but for `rest`.
 *
 * @example
 * ```ts
 * import { engineStatus } from "./engine_status.ts";
 * const busy = engineStatus(2, { state: "busy", currentTaskId: 4, load: 3 });
 * console.log(busy.kind, busy.state, busy.restarts); // process busy 0
 * ```
 */
export function engineStatus(
  engineId: number,
  rest: Partial<EngineStatus> = {},
): EngineStatus {
  return {
    engineId,
    kind: "process",
    state: "idle",
    restarts: 0,
    tasksDone: 0,
    currentTaskId: undefined,
    load: 0,
    deathReason: undefined,
    ...rest,
  };
}
