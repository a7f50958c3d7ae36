/**
 * How long a load-balanced task waits while no engine it may run on is up,
 * and the error it fails with when that wait is over: a task never waits
 * without bound for an engine that may never be up.
 *
 * @module
 */

import type { EngineActor } from "./engine_actor.ts";
import { DEFAULT_NO_ENGINE_TIMEOUT_MS } from "./liveness.ts";
import { EngineError, noEnginesMessage } from "../protocol/errors.ts";

/** What the wait needs to know of a queued task. */
export interface WaitingTask {
  taskId: number;
  /** Engines it may run on; all when absent. */
  targets?: ReadonlySet<number>;
}

/**
 * Keeps, per queued task, since when no engine it may run on has been up,
 * and judges each task against the engines as they are: it waits while one
 * is up, or while one may come back (restarting) or join (`mayGain`) and
 * its wait is shorter than `limitMs`; otherwise it fails, at once when none
 * can come back.
 *
 * @example
 * ```ts
 * import { EngineWait } from "./engine_wait.ts";
 * const wait = new EngineWait(1000);
 * const judge = wait.look([], false);
 * console.log(judge({ taskId: 1 })?.message.startsWith("task 1")); // true
 * ```
 */
export class EngineWait<T extends WaitingTask = WaitingTask> {
  #since = new Map<T, number>();
  #limitMs: number;

  /** Tasks wait at most `limitMs` with no engine up. */
  constructor(limitMs: number = DEFAULT_NO_ENGINE_TIMEOUT_MS) {
    this.#limitMs = limitMs;
  }

  /**
   * A judge of queued tasks against `engines` as they are `now`: it gives
   * the error a task must fail with, or `undefined` while it may wait.
   */
  look(
    engines: EngineActor[],
    mayGain: boolean,
    now: number = performance.now(),
  ): (task: T) => Error | undefined {
    const up = new Set(engines.filter((e) => e.up).map((e) => e.engineId));
    const alive = new Set(
      engines.filter((e) => e.state !== "stopped").map((e) => e.engineId),
    );
    const some = (ids: Set<number>, task: T) =>
      task.targets ? [...task.targets].some((id) => ids.has(id)) : ids.size > 0;
    return (task) => {
      if (some(up, task)) {
        this.#since.delete(task);
        return undefined;
      }
      const mayCome = mayGain || some(alive, task);
      if (mayCome) {
        const since = this.#since.get(task) ?? now;
        this.#since.set(task, since);
        if (now - since < this.#limitMs) return undefined;
      }
      this.#since.delete(task);
      return noEngineLeft(task, engines, mayCome ? this.#limitMs : undefined);
    };
  }

  /** The task left the queue (handed out, aborted, timed out). */
  forget(task: T): void {
    this.#since.delete(task);
  }

  /** No task waits for an engine any more. */
  clear(): void {
    // Called on every scheduler pass; clearing a Map allocates a new table
    // even when it is empty, which showed in the profile of tiny tasks.
    if (this.#since.size > 0) this.#since.clear();
  }
}

/**
 * The error of a task that no engine is left to run: which engines it had
 * and what became of them, and how to get engines.
 */
function noEngineLeft(
  task: WaitingTask,
  engines: EngineActor[],
  waitedMs: number | undefined,
): Error {
  const mine = task.targets
    ? engines.filter((e) => task.targets!.has(e.engineId))
    : engines;
  const situation = waitedMs === undefined
    ? "no engine this task may run on is left"
    : `no engine this task may run on has been up for ${waitedMs} ms ` +
      "(noEngineTimeoutMs)";
  if (mine.length === 0) {
    return new Error(noEnginesMessage(`task ${task.taskId}: ${situation}`));
  }
  const states = mine.map((e) =>
    `engine ${e.engineId} ${e.state === "stopped" ? "given up" : e.state}`
  ).join(", ");
  const last = mine.findLast((e) => e.deathReason !== undefined) ?? mine[0];
  const died = last.deathReason === undefined
    ? ""
    : `; engine ${last.engineId} last died because ${last.deathReason}`;
  return new EngineError(`${situation}: ${states}${died}`, {
    engineId: last.engineId,
    taskId: task.taskId,
    advice: noEnginesMessage("No engine is left to run it") +
      ". Engines are given up past the restart policy's maxRestarts: " +
      "raise it to keep them.",
  });
}
