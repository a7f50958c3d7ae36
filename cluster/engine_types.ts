/**
 * The vocabulary of the engine actor: a task and how it ends, where an
 * engine is in its life, what happens to it, and the messages the actor
 * handles. Its pieces (the task pipeline, the liveness judgement, the actor
 * itself) and everything that drives engines speak it.
 *
 * @module
 */

import type { DeathCause, EngineLink } from "../protocol/engine_link.ts";
import type { FromEngine, TaskSpec } from "../protocol/messages.ts";

/**
 * How a task ended, as the engine actor reports it.
 *
 * @example
 * ```ts
 * import type { TaskOutcome } from "./engine_types.ts";
 * const ok: TaskOutcome = { ok: true, value: 42, started: 1, completed: 2 };
 * const lost: TaskOutcome = { ok: false, error: new Error("engine died") };
 * ```
 */
export type TaskOutcome =
  | { ok: true; value: unknown; started: number; completed: number }
  | { ok: false; error: Error; started?: number; completed?: number };

/**
 * Follows one task through its engine: `started` when it runs, any
 * `stream`, then `done` exactly once. Nothing is heard after `done`.
 *
 * @example
 * ```ts
 * import type { TaskObserver } from "./engine_types.ts";
 * const log: TaskObserver = {
 *   started: () => console.log("running"),
 *   stream: (name, text) => console.log(name, text),
 *   done: (outcome) => console.log(outcome.ok),
 * };
 * ```
 */
export interface TaskObserver {
  /** The task was handed to the engine: it is running now. */
  started(): void;
  /** The task wrote to the console. */
  stream(name: "stdout" | "stderr", text: string): void;
  /** The task ended; called exactly once, whatever happened. */
  done(outcome: TaskOutcome): void;
  /**
   * Takes back a task that has not started, from an engine that is
   * draining: instead of `done`, for tasks another engine may run (the
   * load balancer's). Tasks without it wait for their engine's return.
   */
  handBack?(): void;
}

/**
 * One unit of work for one engine: what runs, and who hears how it goes.
 *
 * @example
 * ```ts
 * import type { Task } from "./engine_types.ts";
 * const task: Task = {
 *   taskId: 1,
 *   fn: { kind: "source", source: "() => 42" },
 *   args: [],
 *   observer: { started() {}, stream() {}, done: (o) => console.log(o) },
 * };
 * ```
 */
export interface Task extends TaskSpec {
  observer: TaskObserver;
}

/**
 * Where an engine is in its life: `starting` until it says it is ready,
 * then `idle` or `busy`; `restarting` between a death and the supervisor's
 * restart; `draining` while it finishes its running tasks and takes no new
 * one (its job nears its walltime, or `client.scale` retires it);
 * `stopped` for good (given up, retired, or the client closed).
 *
 * @example
 * ```ts
 * import type { EngineState } from "@troupe/parallel";
 * const canRun = (s: EngineState) => s === "idle" || s === "busy";
 * console.log(canRun("starting")); // false
 * ```
 */
export type EngineState =
  | "starting"
  | "idle"
  | "busy"
  | "draining"
  | "restarting"
  | "stopped";

/**
 * What happens to an engine, as the client can observe it.
 *
 * @example
 * ```ts
 * import { Client, type EngineEvent } from "@troupe/parallel";
 * const log = (e: EngineEvent) =>
 *   console.log(e.type, e.engineId, "reason" in e ? e.reason : "");
 * await using client = await Client.start({ workers: 1, onEngineEvent: log });
 * ```
 */
export type EngineEvent =
  | { type: "registered"; engineId: number }
  | {
    type: "died";
    engineId: number;
    reason: string;
    /** `reason`'s class, a small closed set (the death metrics' label). */
    cause: DeathCause;
    /** `true` when troupe ended it on purpose (aborting a running task). */
    deliberate: boolean;
  }
  | { type: "restarted"; engineId: number; restarts: number }
  | { type: "draining"; engineId: number; reason: string }
  | { type: "gaveUp"; engineId: number; reason: string }
  | { type: "retired"; engineId: number; reason: string };

/**
 * What the engine actor handles.
 *
 * @example
 * ```ts
 * import type { EngineMessage } from "./engine_types.ts";
 * const abort: EngineMessage = { kind: "abort", taskIds: new Set([3]) };
 * ```
 */
export type EngineMessage =
  | { kind: "submit"; task: Task }
  | { kind: "abort"; taskIds: ReadonlySet<number> }
  | { kind: "engine"; link: EngineLink; message: FromEngine }
  | { kind: "exit"; link: EngineLink; reason: string; cause?: DeathCause }
  | { kind: "restart"; link: EngineLink }
  | { kind: "revive"; link: EngineLink }
  | { kind: "stop"; reason: string; event?: "gaveUp"; shutdown?: boolean }
  | { kind: "retire"; reason: string }
  | { kind: "heartbeat"; misses: number };
