/**
 * The scheduler's vocabulary: the tasks it holds, what it needs of its
 * cluster, and the messages it handles (`scheduler.ts` re-exports them).
 *
 * @module
 */

import type { EngineActor } from "./engine_actor.ts";
import type { TaskObserver, TaskOutcome } from "./engine_types.ts";
import type { TaskSpec } from "../protocol/messages.ts";
import type { TaskListener } from "./cluster.ts";

/**
 * A task waiting for, or running on, an engine the scheduler chose.
 *
 * @example
 * ```ts
 * import type { ScheduledTask } from "./scheduler_types.ts";
 * import type { TaskListener } from "./cluster.ts";
 * const task = (observer: TaskListener): ScheduledTask => ({
 *   taskId: 1,
 *   fn: { kind: "source", source: "() => 1" },
 *   args: [],
 *   observer,
 *   retries: 0,
 * });
 * ```
 */
export interface ScheduledTask extends TaskSpec {
  /**
   * Hears the task's life: `assigned` at each hand-out, `done` once, after
   * the last retry. Its publications reach it through the registry, which
   * the cluster told to route them before the task was enqueued.
   */
  observer: TaskListener;
  /** Engines it may run on; all when absent. */
  targets?: ReadonlySet<number>;
  /** Runs left after an engine dies under it. */
  retries: number;
  /**
   * Fails with `TimeoutError` if no engine took it within this many ms of
   * its submission (or of its retry).
   */
  timeoutMs?: number;
  /**
   * Outstanding tasks an engine may have for it to be given this one; the
   * scheduler's own (adaptive by default) when absent.
   */
  highWaterMark?: number;
}

/**
 * What the scheduler needs from the cluster it schedules for.
 *
 * @example
 * ```ts
 * import type { SchedulerHost } from "./scheduler_types.ts";
 * const none: Omit<SchedulerHost, "submit"> = {
 *   engines: () => [],
 *   mayGainEngines: () => false,
 * };
 * ```
 */
export interface SchedulerHost {
  /** Every engine the cluster has, up or not. */
  engines(): EngineActor[];
  /**
   * Whether engines may yet join: the client listens for engines that
   * someone starts by hand (not only for its own processes).
   */
  mayGainEngines(): boolean;
  /**
   * How many engines the cluster has, up or not (`engines().length`,
   * without making the array); the scheduler asks on every pass.
   */
  engineCount?(): number;
  /**
   * How long a task waits while no engine it may run on is up, in ms, before
   * it fails. Defaults to `DEFAULT_NO_ENGINE_TIMEOUT_MS`.
   */
  noEngineTimeoutMs?: number;
  /**
   * Hands `task` to `engine`, with `observer` in place of the task's own:
   * the way every task reaches an engine, direct ones too.
   */
  submit(
    engine: EngineActor,
    task: ScheduledTask,
    observer: TaskObserver,
  ): void;
}

/**
 * What the scheduler handles.
 *
 * @example
 * ```ts
 * import type { SchedulerMessage } from "./scheduler_types.ts";
 * const look: SchedulerMessage = { kind: "changed" };
 * ```
 */
export type SchedulerMessage =
  | { kind: "enqueue"; tasks: ScheduledTask[] }
  | { kind: "finished"; task: ScheduledTask; outcome: TaskOutcome }
  | { kind: "handedBack"; task: ScheduledTask }
  | { kind: "abort"; taskIds: ReadonlySet<number> }
  /** `engine`'s load changed unseen (a direct task ended); all, without. */
  | { kind: "changed"; engine?: EngineActor }
  | { kind: "close" };
