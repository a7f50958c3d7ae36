/**
 * What a client and its controller say to each other, after the handshake
 * (`transport/handshake.ts` with purpose `"client"`), one msgpack frame per
 * message (`transport/codec.ts`).
 *
 * The controller runs the same cluster core as an embedded client
 * (`LocalCluster`); this vocabulary is the `Cluster` seam's, written as
 * messages: `ClusterRequest` becomes `ToController`, `TaskEvent` comes back
 * in `events`. Errors cross as `WireError` (`wire_errors.ts`) so that a
 * client gets back the same classes (`EngineError`, `RemoteError`, ...).
 *
 * Task ids: every client gets a block of 2^32 ids of its own
 * (`taskIdBase + 1 … taskIdBase + 2^32 - 1`, `taskIdBase = clientNo * 2^32`),
 * so that ids are unique across clients and across restarts of the
 * controller (`clientNo` is kept in its history database) without a round
 * trip per task. The controller refuses a task id outside the block.
 *
 * Heartbeat: each side sends `{ t: "beat" }` in every period of the
 * controller's `heartbeatMs` (in `attached`; 1000 ms by default) in which
 * it sent nothing else. A client takes a controller silent for
 * `CONTROLLER_SILENCE_MISSES` (10) periods for gone, closes the connection
 * and fails its pending tasks with a `ControllerLostError`; a controller
 * closes the session of a client silent for its `clientTimeoutMs` (5
 * minutes: a notebook held by a long synchronous cell must keep its
 * session), and the client's tasks run on (`wire_heartbeat.ts`).
 *
 * @module
 */

import type {
  ConnectionInfo,
  EngineEvent,
  EngineStatus,
  RestartPolicy,
  SubmittedTask,
  TaskEvent,
} from "../cluster/cluster.ts";
import type { OptionNames } from "../protocol/check_options.ts";
import type { Publication } from "../protocol/publication.ts";

/** The task ids a client may use: `taskIdBase + 1 … + TASK_ID_BLOCK - 1`. */
export const TASK_ID_BLOCK: number = 2 ** 32;

/**
 * An error as it crosses: its class by name, message, stack, and the
 * fields that class carries (an `EngineError`'s `engineId`, a
 * `RemoteError`'s remote name and traceback, ...).
 *
 * @example
 * ```ts
 * import type { WireError } from "@troupe/parallel";
 * const lost: WireError = {
 *   name: "EngineError",
 *   message: "engine 0 died",
 *   fields: { engineId: 0 },
 * };
 * ```
 */
export interface WireError {
  /** The class: a troupe error's name, or a built-in's (`TypeError`). */
  name: string;
  /** The error's message, as written. */
  message: string;
  /** Its stack, where it was made. */
  stack?: string;
  /** The class's own fields, plain data. */
  fields?: Record<string, unknown>;
  /** The error's `cause`, if it is an error too. */
  cause?: WireError;
}

/**
 * A task's outcome as it crosses.
 *
 * @example
 * ```ts
 * import type { WireOutcome } from "./wire.ts";
 * const ok: WireOutcome = { ok: true, value: 42, started: 1, completed: 2 };
 * ```
 */
export type WireOutcome =
  | { ok: true; value: unknown; started: number; completed: number }
  | { ok: false; error: WireError; started?: number; completed?: number };

/**
 * What the controller says about a task: the seam's `TaskEvent`, with the
 * outcome's error as a `WireError`.
 *
 * @example
 * ```ts
 * import type { WireTaskEvent } from "./wire.ts";
 * const event: WireTaskEvent = { kind: "started", taskId: 3 };
 * ```
 */
export type WireTaskEvent =
  | Exclude<TaskEvent, { kind: "done" }>
  | { kind: "done"; taskId: number; outcome: WireOutcome };

/**
 * Which tasks a history query selects; every field narrows it.
 *
 * @example
 * ```ts
 * import type { HistoryQuery } from "@troupe/parallel";
 * const failedToday: HistoryQuery = {
 *   state: "error",
 *   since: Date.now() - 86_400_000,
 * };
 * ```
 */
export interface HistoryQuery {
  /** Only tasks in this state (or any of these). */
  state?: TaskState | TaskState[];
  /** Only tasks that ran (or were sent) to this engine. */
  engineId?: number;
  /** Only tasks submitted at or after this time (ms since the epoch). */
  since?: number;
  /** Only tasks submitted before this time. */
  until?: number;
  /** Only these tasks. */
  taskIds?: number[];
  /** At most this many, the newest first when cut. Default 10 000. */
  limit?: number;
  /**
   * Also the heavy fields: arguments, value, error, streams, merged data
   * and the publications themselves.
   */
  full?: boolean;
}

/**
 * Where a task is, as the history says: the same names as a `TaskStatus`.
 *
 * @example
 * ```ts
 * import type { TaskState } from "@troupe/parallel";
 * const finished: TaskState[] = ["ok", "error", "aborted"];
 * ```
 */
export type TaskState = "queued" | "running" | "ok" | "error" | "aborted";

/**
 * One task of the history. The heavy fields are there when the query asked
 * for them (`full`).
 *
 * @example
 * ```ts
 * import type { TaskSummary } from "@troupe/parallel";
 * const show = (t: TaskSummary) => `${t.taskId} ${t.state} on ${t.engineId}`;
 * ```
 */
export interface TaskSummary {
  /** The task's id. */
  taskId: number;
  /** The client that submitted it (its number in this cluster). */
  clientNo: number;
  /** The engine it ran or was sent to; `undefined` while still queued. */
  engineId?: number;
  /** Where the task is. */
  state: TaskState;
  /** The function, briefly: its name or the start of its source. */
  fn: string;
  /** When it was submitted, ms since the epoch. */
  submitted: number;
  /** When it began running, ms since the epoch. */
  started?: number;
  /** When it ended, ms since the epoch. */
  completed?: number;
  /** The error's class and message, when it failed. */
  errorMessage?: string;
  /** How many publications the task made (all, not only those kept). */
  publications: number;
  /** With `full`: the arguments, or why they were not kept. */
  args?: unknown[];
  /** With `full`: the value, when it ended `ok` and was kept. */
  value?: unknown;
  /** With `full`: the error, when it failed. */
  error?: WireError;
  /** With `full`: what it printed with `console.log` (cut past a limit). */
  stdout?: string;
  /** With `full`: what it printed with `console.error` (cut past a limit). */
  stderr?: string;
  /** With `full`: what it published, merged key by key. */
  data?: Record<string, unknown>;
  /** With `full`: the publications kept (the last `maxPublicationsPerTask`). */
  kept?: Publication[];
  /** Why a heavy field was not kept (too large, past a limit). */
  notKept?: string[];
}

/**
 * The names of a `HistoryQuery` (`client.query`, the history).
 *
 * @example
 * ```ts
 * import { checkOptions } from "../protocol/check_options.ts";
 * import { HISTORY_QUERY_OPTIONS } from "./wire.ts";
 * checkOptions("query", { state: "ok" }, HISTORY_QUERY_OPTIONS);
 * ```
 */
export const HISTORY_QUERY_OPTIONS: OptionNames<HistoryQuery> = {
  state: true,
  engineId: true,
  since: true,
  until: true,
  taskIds: true,
  limit: true,
  full: true,
};

/**
 * The names of a `PurgeFilter` (`client.purge`, the history).
 *
 * @example
 * ```ts
 * import { checkOptions } from "../protocol/check_options.ts";
 * import { PURGE_FILTER_OPTIONS } from "./wire.ts";
 * checkOptions("purge filter", { all: true }, PURGE_FILTER_OPTIONS);
 * ```
 */
export const PURGE_FILTER_OPTIONS: OptionNames<PurgeFilter> = {
  taskIds: true,
  before: true,
  all: true,
};

/**
 * Which finished tasks `purge` removes from the history (never an
 * unfinished one). At least one field must be given.
 *
 * @example
 * ```ts
 * import type { PurgeFilter } from "@troupe/parallel";
 * const old: PurgeFilter = { before: Date.now() - 3_600_000 };
 * ```
 */
export interface PurgeFilter {
  /** These tasks. */
  taskIds?: number[];
  /** Tasks that completed before this time (ms since the epoch). */
  before?: number;
  /** Every finished task. */
  all?: boolean;
}

/**
 * A request that has an answer: the `reply` with the same `id`.
 *
 * @example
 * ```ts
 * import type { ControllerCall } from "./wire.ts";
 * const wait: ControllerCall = { kind: "waitForEngines", n: 4, timeoutMs: 60_000 };
 * ```
 */
export type ControllerCall =
  /** Answers `undefined` once `n` engines are up. */
  | { kind: "waitForEngines"; n: number; timeoutMs?: number }
  /** Answers `undefined` once scaled (see `Client.scale`). */
  | { kind: "scale"; n: number; launcher?: string; timeoutMs?: number }
  /** Answers `undefined`. */
  | { kind: "setRestartPolicy"; policy: RestartPolicy }
  /** Answers the core's `QueueStatus` (`client.queueStatus()`). */
  | { kind: "queueStatus" }
  /** Answers the core's `MetricFamily[]` (`client.metrics()`). */
  | { kind: "metrics" }
  /** Answers every task id in the history, in submission order. */
  | { kind: "history" }
  /** Answers `TaskSummary[]`. */
  | { kind: "query"; query: HistoryQuery }
  /** Answers how many tasks were removed. */
  | { kind: "purge"; filter: PurgeFilter }
  /** Answers `undefined`, then stops the cluster and the controller. */
  | { kind: "shutdown" };

/**
 * What a client sends its controller.
 *
 * @example
 * ```ts
 * import type { ToController } from "./wire.ts";
 * const abort: ToController = { t: "abort", taskIds: [2 ** 32 + 1] };
 * ```
 */
export type ToController =
  /** Runs tasks; their events come back to this client. */
  | { t: "submit"; tasks: SubmittedTask[] }
  /** Aborts tasks, of any client. */
  | { t: "abort"; taskIds: number[] }
  /**
   * Sends this client every event of these tasks from now on, after what
   * is known of them so far (replayed: `assigned`, `started`, the streams,
   * one `publish` of the merged data, and `done` if they ended). A task
   * the history does not have ends at once with a `RangeError`.
   */
  | { t: "follow"; taskIds: number[] }
  | { t: "call"; id: number; call: ControllerCall }
  /**
   * Holds `value` in the controller's core for tasks whose `refs` name
   * `id` (an id of this client's block, `nextTaskId()`), until a `release`
   * or the end of this client's session.
   */
  | { t: "put"; id: number; value: unknown }
  /** Frees put values of this client's. */
  | { t: "release"; ids: number[] }
  /** A sign of life, in a heartbeat period in which nothing else went. */
  | { t: "beat" };

/**
 * What a controller sends a client.
 *
 * @example
 * ```ts
 * import type { FromController } from "./wire.ts";
 * const bye: FromController = { t: "closing", reason: "stopped by troupe stop" };
 * ```
 */
export type FromController =
  /** The first message after the handshake. */
  | {
    t: "attached";
    clusterId: string;
    clientNo: number;
    taskIdBase: number;
    engines: EngineStatus[];
    unrunnable?: string;
    restartPolicy: RestartPolicy;
    /**
     * The engines an idle pool's next start brings (its
     * `plannedEngines()`); absent (0) from an older troupe.
     */
    plannedEngines?: number;
    /** Where engines reach the controller (its engine key included). */
    connectionInfo?: ConnectionInfo;
    /** The names of its launchers, for `scale`. */
    launchers: string[];
    /**
     * The heartbeat period both sides keep, in ms (1000 when absent):
     * each beats in it, and judges the other's silence by it.
     */
    heartbeatMs?: number;
    /**
     * The identity of the controller's task history (made when its
     * database was created). Task ids start again at client 1 in a new
     * database, so `ar.toJSON()` keeps this, and `resume` refuses a result
     * saved from another history. Absent from a controller of an older
     * troupe.
     */
    historyId?: string;
  }
  /** Task events for this client, in order, batched per turn. */
  | { t: "events"; events: WireTaskEvent[] }
  /** The engines changed (sent after engine events and as loads change). */
  | {
    t: "engines";
    engines: EngineStatus[];
    unrunnable?: string;
    restartPolicy: RestartPolicy;
    /**
     * The engines an idle pool's next start brings (its
     * `plannedEngines()`); absent (0) from an older troupe.
     */
    plannedEngines?: number;
  }
  | { t: "engineEvent"; event: EngineEvent }
  | { t: "reply"; id: number; ok: true; value: unknown }
  | { t: "reply"; id: number; ok: false; error: WireError }
  /** The controller is stopping: the last message. */
  | { t: "closing"; reason: string }
  /** A sign of life, in a heartbeat period in which nothing else went. */
  | { t: "beat" };
