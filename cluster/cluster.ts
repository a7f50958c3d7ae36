/**
 * The seam between the client facade and the cluster core. Everything that
 * runs the cluster (engine actors, supervisor, scheduler, registry, engine
 * admission) sits behind `Cluster`; the client, its views and the dashboard
 * use nothing else.
 *
 * The interface is built to cross a process boundary: a standalone
 * controller runs the same core and its clients talk to it over TCP. So
 * every call that changes the cluster is a `ClusterRequest` (plain data),
 * and everything the cluster says about a task is a `TaskEvent` keyed by its
 * task id. The in-process `LocalCluster` calls a `TaskListener` directly;
 * a remote one turns events back into the same calls.
 *
 * @module
 */

import type { TaskOutcome } from "./engine_types.ts";
import type { EngineEvent, EngineState } from "./engine_types.ts";
import type { PublicationRegistry, PublicationSink } from "./registry.ts";
import type { EngineKind, RestartPolicy } from "./supervisor.ts";
import type { Publication } from "../protocol/publication.ts";
import type { TaskSpec } from "../protocol/messages.ts";
import type { ArgumentNeed, EndedTask, TaskNeeds } from "./task_needs.ts";

// The vocabulary the seam speaks, so that its users import it from here.
export type {
  ArgumentNeed,
  EndedTask,
  EngineEvent,
  EngineKind,
  EngineState,
  PublicationRegistry,
  RestartPolicy,
  TaskNeeds,
  TaskOutcome,
};

export type {
  EngineToLaunch,
  LaunchedEngine,
  Launcher,
  LaunchInfo,
  LaunchRequest,
} from "./launcher.ts";
export type { EngineStartNeeds } from "./sandbox_flags.ts";
export type {
  EnginePermissions,
  PermissionGrant,
} from "../protocol/engine_permissions.ts";

import type { QueueStatus } from "./queue_status.ts";
export type { EngineQueue, QueueStatus } from "./queue_status.ts";

import type { MetricFamily } from "../observe/metrics.ts";
export type { MetricFamily } from "../observe/metrics.ts";

/**
 * Where a task runs: on one engine (a direct view), or on whichever engine
 * the scheduler picks (a load-balanced view).
 *
 * @example
 * ```ts
 * import type { Placement } from "./cluster.ts";
 * const direct: Placement = { engineId: 0 };
 * const balanced: Placement = { balanced: { retries: 1 } };
 * ```
 */
export type Placement =
  | { engineId: number }
  | {
    balanced: {
      /** Engines it may run on; every engine when absent. */
      targets?: readonly number[];
      /** Runs left after an engine dies under it. */
      retries: number;
      /** Fails with `TimeoutError` if no engine took it within this. */
      timeoutMs?: number;
      /** Outstanding tasks an engine may have for it to get this one. */
      highWaterMark?: number;
    };
  };

/**
 * One task as the client hands it to the cluster.
 *
 * @example
 * ```ts
 * import type { SubmittedTask } from "./cluster.ts";
 * const task: SubmittedTask = {
 *   taskId: 1,
 *   fn: { kind: "source", source: "() => 42" },
 *   args: [],
 *   placement: { engineId: 0 },
 * };
 * ```
 */
export interface SubmittedTask extends TaskSpec {
  placement: Placement;
  /**
   * Tasks it waits for (`after`, `follow`, results as arguments): the
   * core holds it, counted as queued, until they end (cluster/dependencies.ts).
   */
  needs?: TaskNeeds;
}

/**
 * Hears one task's life, in order: `assigned` (each time the scheduler hands
 * it to an engine; never for a direct task), `started`, any `stream` and
 * `publish`, then `done` exactly once.
 *
 * @example
 * ```ts
 * import type { TaskListener } from "./cluster.ts";
 * const quiet: TaskListener = {
 *   assigned() {},
 *   started() {},
 *   stream() {},
 *   publish() {},
 *   done: (outcome) => console.log(outcome.ok),
 * };
 * ```
 */
export interface TaskListener extends PublicationSink {
  /** The scheduler gave the task to `engineId` (again, after a retry). */
  assigned(engineId: number): void;
  /** The task is running now. */
  started(): void;
  /** The task wrote to the console. */
  stream(name: "stdout" | "stderr", text: string): void;
  /** The task ended; called exactly once, whatever happened. */
  done(outcome: TaskOutcome): void;
}

/**
 * What a client asks of a cluster, as a message: what a remote cluster
 * sends to its controller. `LocalCluster`'s methods take the same fields.
 *
 * @example
 * ```ts
 * import type { ClusterRequest } from "./cluster.ts";
 * const abort: ClusterRequest = { kind: "abort", taskIds: [3, 4] };
 * ```
 */
export type ClusterRequest =
  | { kind: "submit"; tasks: SubmittedTask[] }
  | { kind: "abort"; taskIds: number[] }
  | { kind: "setRestartPolicy"; policy: RestartPolicy }
  | { kind: "close"; shutdown: boolean };

/**
 * What a cluster says about a task, as a message: what a controller sends
 * back to the client that submitted it. Each maps to a `TaskListener` call.
 *
 * @example
 * ```ts
 * import type { TaskEvent } from "./cluster.ts";
 * const event: TaskEvent = { kind: "started", taskId: 3 };
 * ```
 */
export type TaskEvent =
  | { kind: "assigned"; taskId: number; engineId: number }
  | { kind: "started"; taskId: number }
  | {
    kind: "stream";
    taskId: number;
    name: "stdout" | "stderr";
    text: string;
  }
  | { kind: "publish"; taskId: number; publication: Publication }
  | { kind: "done"; taskId: number; outcome: TaskOutcome };

/**
 * Calls each listener with `event`. A listener's bug must not stop
 * supervision, the other listeners, or the process (which `reportError`
 * would): it is logged. The one way both clusters, local and remote, tell
 * their engine listeners.
 *
 * @example
 * ```ts
 * import { tellEngineListeners } from "./cluster.ts";
 * tellEngineListeners([(e) => console.log(e.type)], {
 *   type: "registered",
 *   engineId: 0,
 * }); // registered
 * ```
 */
export function tellEngineListeners(
  listeners: Iterable<(event: EngineEvent) => void>,
  event: EngineEvent,
): void {
  for (const listener of listeners) {
    try {
      listener(event);
    } catch (error) {
      console.error("troupe: an engine event listener threw:", error);
    }
  }
}

/**
 * A snapshot of one engine.
 *
 * @example
 * ```ts
 * import { Client, type EngineStatus } from "@troupe/parallel";
 * const busy = (s: EngineStatus) => s.state === "busy";
 * await using client = await Client.start({ workers: 1 });
 * console.log(client.engines().filter(busy).length); // 0
 * ```
 */
export interface EngineStatus {
  /** The engine's id. */
  engineId: number;
  /** Where it runs: a thread here, a process started here, or remote. */
  kind: EngineKind;
  /** Where it is in its life. */
  state: EngineState;
  /** How often it has been restarted. */
  restarts: number;
  /** Tasks finished on it. */
  tasksDone: number;
  /** The running task, if any. */
  currentTaskId: number | undefined;
  /** Tasks waiting for it, including the running one. */
  load: number;
  /** Why it last died, if it has. */
  deathReason: string | undefined;
  /** The launcher that started it (`local`, `ssh`, `slurm`, `mpi`, ...). */
  launcher?: string;
  /** The host it runs on, as it says. */
  host?: string;
  /** Its process id there. */
  pid?: number;
  /** Its scheduler's job id (Slurm: `JOBID_INDEX`). */
  jobId?: string;
  /** Its MPI rank in the job that started it. */
  rank?: number;
  /** Its task thread's heap, in bytes, as its last heartbeat said. */
  heapBytes?: number;
  /** Its process's resident memory (an engine process's), likewise. */
  rssBytes?: number;
}

/**
 * Where TCP engines reach the cluster: what `writeConnectionFile` writes and
 * `deno run -A jsr:@troupe/parallel/engine --file` reads.
 *
 * @example
 * ```ts
 * import { Client, type ConnectionInfo } from "@troupe/parallel";
 * await using client = await Client.start({ workers: 0, listen: true });
 * const info: ConnectionInfo = client.connectionInfo;
 * console.log(info.hostname, info.port > 0); // 127.0.0.1 true
 * ```
 */
export interface ConnectionInfo {
  /** The interface the client listens on. */
  hostname: string;
  /** The port it listens on. */
  port: number;
  /** The shared key. Keep it secret. */
  key: string;
}

/**
 * The cluster as the client facade sees it. Queries answer from the
 * cluster's latest state (a remote cluster mirrors it from its events);
 * requests return at once and report through listeners.
 *
 * @example
 * ```ts
 * import type { Cluster } from "./cluster.ts";
 * function runOn(cluster: Cluster, engineId: number) {
 *   const taskId = cluster.nextTaskId();
 *   cluster.submit(
 *     [{ taskId, fn: { kind: "source", source: "() => 1" }, args: [],
 *        placement: { engineId } }],
 *     () => ({
 *       assigned() {}, started() {}, stream() {}, publish() {},
 *       done: (outcome) => console.log(outcome),
 *     }),
 *   );
 * }
 * ```
 */
export interface Cluster {
  /** Ids of the live engines, ascending. */
  ids(): number[];
  /** Whether the cluster has, or ever had, engine `engineId`. */
  has(engineId: number): boolean;
  /** A snapshot of every engine, in id order. */
  engines(): EngineStatus[];
  /**
   * Whether engine `engineId` shares memory with the client (a Worker):
   * only such engines can take a `SharedArrayBuffer`. `true` if unknown.
   */
  sharesMemory(engineId: number): boolean;
  /**
   * How many engines the cluster brings up when woken: an idle pool's
   * (`idleTimeoutMs`) next start, while it has none; else 0. Views size a
   * call's work by the larger of this and `ids().length`, so that a stopped
   * pool's first call is not planned for one engine.
   */
  plannedEngines(): number;
  /**
   * Why no load-balanced task can ever run, when that is so (no engines,
   * and none can join); views throw it at the call.
   */
  unrunnable(): string | undefined;
  /** A task id no task of this cluster has had. */
  nextTaskId(): number;
  /**
   * Hands tasks to their engines. Each task's publications reach its
   * listener from the first one on; `listenerFor` is called once per task,
   * before anything can be heard of it.
   */
  submit(
    tasks: readonly SubmittedTask[],
    listenerFor: (task: SubmittedTask, index: number) => TaskListener,
  ): void;
  /**
   * Aborts these tasks wherever they are: queued ones fail at once with a
   * `TaskAbortedError`, running ones are stopped. Unknown or finished ids
   * are ignored.
   */
  abort(taskIds: Iterable<number>): void;
  /**
   * Holds `value` once, under `id` (a fresh `nextTaskId()`), for the tasks
   * whose `refs` name it: each engine is sent it with the first such task
   * it runs in its thread's life, and keeps it until `release`. Returns at
   * once; throws when the value cannot be sent (a connected client's frame
   * limit).
   */
  put(id: number, value: unknown): void;
  /** Frees these put values, here and on every engine; unknown ids do nothing. */
  release(ids: readonly number[]): void;
  /** Calls `listener` for every engine event; returns an unsubscribe. */
  onEngineEvent(listener: (event: EngineEvent) => void): () => void;
  /**
   * Each engine's queued, running and completed tasks, and the tasks that
   * wait for an engine or for their dependencies (of every client), all
   * as the core holds them at one moment.
   */
  queueStatus(): Promise<QueueStatus>;
  /**
   * The core's metrics as plain data (`prometheusText` writes them): a
   * connected client's are its controller's, of every client.
   */
  metrics(): Promise<MetricFamily[]>;
  /**
   * Resolves once `n` engines are up; rejects with a `TimeoutError` after
   * `timeoutMs`, and at once when `n` can never be up.
   */
  waitForEngines(n: number, options?: { timeoutMs?: number }): Promise<void>;
  /**
   * Where TCP engines reach the cluster, key included; `undefined` when it
   * does not accept them.
   */
  readonly connectionInfo: ConnectionInfo | undefined;
  /** The latest publication of each engine. */
  readonly registry: PublicationRegistry;
  /**
   * The cluster's id when a controller runs it (a connected client's), so
   * that its results can be resumed by another client; none when embedded.
   */
  readonly clusterId?: string;
  /**
   * The identity of the controller's task history, when it says one: a
   * new database gives task ids out again from client 1, so a saved
   * result keeps this to be refused by a controller on another history.
   */
  readonly historyId?: string;
  /** How dead engines are restarted. */
  restartPolicy: RestartPolicy;
  /**
   * Stops every engine this cluster started and fails what they held;
   * `shutdown` also tells remote engines to exit. Safe to call twice.
   */
  close(options?: { shutdown?: boolean }): Promise<void>;
}
