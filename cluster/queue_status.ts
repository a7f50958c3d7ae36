/**
 * `QueueStatus`: how many tasks each engine holds, and how many wait for
 * one, as ipyparallel's `client.queue_status()` tells.
 *
 * @module
 */

import type { EngineStatus } from "./cluster.ts";

/**
 * One engine's tasks in a `QueueStatus`.
 *
 * @example
 * ```ts
 * import type { EngineQueue } from "@troupe/parallel";
 * const idle: EngineQueue = { queued: 0, running: 0, completed: 12 };
 * ```
 */
export interface EngineQueue {
  /** Tasks given to it that wait behind the running one. */
  queued: number;
  /** 1 while it runs a task, else 0. */
  running: number;
  /** Tasks finished on it so far (its `EngineStatus.tasksDone`). */
  completed: number;
}

/**
 * What `client.queueStatus()` resolves with (ipyparallel's
 * `queue_status()`): per engine id, its tasks; and the tasks that no
 * engine holds yet, of every client of the cluster.
 *
 * @example
 * ```ts
 * import type { QueueStatus } from "@troupe/parallel";
 * const waiting = (s: QueueStatus) =>
 *   s.unassigned + Object.values(s.engines).reduce((n, e) => n + e.queued, 0);
 * ```
 */
export interface QueueStatus {
  /**
   * Each engine `engines()` lists that is not stopped (retired, given up),
   * by id: ipyparallel's lists its registered engines.
   */
  engines: Record<number, EngineQueue>;
  /**
   * Tasks waiting in the cluster for an engine (load-balanced ones the
   * scheduler has not handed out), or for the tasks they depend on.
   */
  unassigned: number;
}

/**
 * The queue status of engines in the state `engines` gives (the stopped
 * ones left out: they hold no task and never will), with `unassigned`
 * tasks waiting for an engine.
 *
 * @example
 * ```ts
 * import { queueStatusOf } from "./queue_status.ts";
 * const status = queueStatusOf([{
 *   engineId: 3, kind: "worker", state: "busy", restarts: 0, tasksDone: 5,
 *   currentTaskId: 9, load: 4, deathReason: undefined,
 * }], 2);
 * console.log(status); // { engines: { 3: { queued: 3, running: 1, completed: 5 } }, unassigned: 2 }
 * ```
 */
export function queueStatusOf(
  engines: readonly EngineStatus[],
  unassigned: number,
): QueueStatus {
  const status: QueueStatus = { engines: {}, unassigned };
  for (const engine of engines) {
    if (engine.state === "stopped") continue;
    const running = engine.currentTaskId === undefined ? 0 : 1;
    status.engines[engine.engineId] = {
      // A task is current from its start; its load counts it before.
      queued: Math.max(0, engine.load - running),
      running,
      completed: engine.tasksDone,
    };
  }
  return status;
}
