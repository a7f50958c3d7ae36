/**
 * The vocabulary of a task pipeline (task_pipeline.ts): the phases a task
 * goes through in one engine, what the pipeline holds of each, and what it
 * needs of the engine's link.
 *
 * @module
 */

import type { ToEngine } from "../protocol/messages.ts";
import type { Task } from "./engine_types.ts";

/**
 * Where one task is, as its pipeline keeps it.
 *
 * @example
 * ```ts
 * import type { TaskPhase } from "./task_phases.ts";
 * const inEngine = (p: TaskPhase) => p === "sent" || p === "running";
 * ```
 *
 * A task moves only forward through these, except that
 * tasks sent ahead of a running task that is aborted go back to `queued`
 * (the engine's new thread has none of them).
 *
 * - `queued`: held here; the engine has not seen it.
 * - `sent`: sent ahead; it waits in the engine behind the running task.
 * - `running`: the first task sent; its observer heard `started`.
 * - `cancelling`: sent ahead, then aborted: it has failed already (a busy
 *   engine could take long to confirm), and a `cancel` asks the engine to
 *   drop it. It stays in line until the engine drops it or runs it.
 * - `recalling`: sent ahead of an engine that drains, and asked back (a
 *   `cancel`) for another engine: it has heard nothing yet. Dropped, it is
 *   handed back; run (it started before the engine read the `cancel`), it
 *   ends as a `running` one.
 * - `settled`: its observer heard `done`, and it is out of the engine.
 */
export type TaskPhase =
  | "queued"
  | "sent"
  | "running"
  | "cancelling"
  | "recalling"
  | "settled";

/**
 * What the pipeline needs of the engine's link.
 *
 * @example
 * ```ts
 * import type { PipelineLink } from "./task_pipeline.ts";
 * import type { EngineLink } from "../protocol/engine_link.ts";
 * const over = (link: EngineLink): PipelineLink => ({
 *   send: (message) => link.send(message),
 *   stopRunning: () => void link.terminate(),
 * });
 * ```
 */
export interface PipelineLink {
  /** Sends one message; throws when it cannot be carried (nothing sent). */
  send(message: ToEngine): void;
  /**
   * Ends the running task, which only ending (or replacing) the engine's
   * thread can do; a `reset` or a death follows, then `threadGone`.
   */
  stopRunning(): void;
}

/**
 * One task held by a pipeline, and where it is.
 *
 * @example
 * ```ts
 * import type { Entry } from "./task_phases.ts";
 * import type { Task } from "./engine_types.ts";
 * const held = (task: Task): Entry => ({ task, phase: "queued", cancel: 0 });
 * ```
 */
export interface Entry {
  task: Task;
  phase: TaskPhase;
  /** Which `cancel` request asked for it, while `cancelling`/`recalling`. */
  cancel: number;
}
