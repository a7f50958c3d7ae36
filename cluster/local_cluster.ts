/**
 * `LocalCluster`: the cluster core in the client's own process, behind the
 * `Cluster` seam. It wires the registry, the supervisor, the scheduler and
 * admission together, and keeps what the seam needs to answer by task id:
 * where each submitted task is.
 *
 * @module
 */

import type { LinkFactory } from "../protocol/engine_link.ts";
import type {
  Cluster,
  ConnectionInfo,
  EngineStatus,
  SubmittedTask,
  TaskListener,
} from "./cluster.ts";
import { tellEngineListeners } from "./cluster.ts";
import type { EngineEvent } from "./engine_types.ts";
import { type PublicationRegistry, Registry } from "./registry.ts";
import { Scheduler } from "./scheduler.ts";
import {
  type EngineKind,
  type RestartPolicy,
  Supervisor,
} from "./supervisor.ts";
import { Admission } from "./admission.ts";
import { TaskRoutes } from "./task_routes.ts";
import { EngineCountWaits } from "./engine_count_wait.ts";
import type { Launcher } from "./launcher.ts";
import { Launches } from "./launches.ts";
import { handOut } from "./hand_out.ts";
import { type QueueStatus, queueStatusOf } from "./queue_status.ts";
import { PutStore } from "./put_store.ts";
import { Dependencies, type EndedTask } from "./dependencies.ts";
import {
  noEngineError,
  type SubmissionCore,
  submitTasks,
  toldWhenDone,
} from "./task_submission.ts";
import { engineStatus } from "./engine_status.ts";
import { engineGone, releaseHeld } from "./held_release.ts";
import { CoreMetrics } from "./core_metrics.ts";
import type { MetricFamily } from "../observe/metrics.ts";
import type { LocalClusterOptions } from "./local_cluster_options.ts";

export type { LocalClusterOptions } from "./local_cluster_options.ts";

/**
 * The cluster core, in process. Engines come from `startEngine` (Workers
 * and engine processes through admission, or any `LinkFactory`) and from
 * the TCP listener; tasks from `submit`, whose every task it routes:
 * publications to the task's listener through the registry, the task to
 * its engine or to the scheduler, and `abort` by id to wherever it is.
 *
 * @example
 * ```ts
 * import { LocalCluster } from "./local_cluster.ts";
 * // Engines do not keep the process alive (a client holds it while it
 * // waits); here a timer does.
 * const hold = setInterval(() => {}, 1000);
 * const cluster = new LocalCluster();
 * cluster.startEngine(0, "worker");
 * await cluster.waitForEngines(1, { timeoutMs: 60_000 });
 * const taskId = cluster.nextTaskId();
 * const { promise, resolve } = Promise.withResolvers<unknown>();
 * cluster.submit(
 *   [{ taskId, fn: { kind: "source", source: "() => 6 * 7" }, args: [],
 *      placement: { engineId: 0 } }],
 *   () => ({
 *     assigned() {}, started() {}, stream() {}, publish() {},
 *     done: (outcome) => resolve(outcome.ok && outcome.value),
 *   }),
 * );
 * console.log(await promise); // 42
 * await cluster.close();
 * clearInterval(hold);
 * ```
 */
export class LocalCluster implements Cluster {
  #registry = new Registry();
  #supervisor: Supervisor;
  #scheduler: Scheduler;
  #admission: Admission;
  #launches: Launches;
  #taskCounter = 0;
  #metrics = new CoreMetrics(
    () => this.engines(),
    () => this.#supervisor.all(),
  );
  /** Every submitted task that has not ended: where it is, who hears it. */
  #routes = new TaskRoutes(
    this.#registry,
    (taskId, outcome, engineId) =>
      this.#dependencies.ended(taskId, outcome, engineId),
    this.#metrics.tasks,
  );
  /** Tasks held until the tasks they need have ended. */
  #dependencies = new Dependencies({
    holds: (taskId) => this.#routes.has(taskId),
    ended: (taskId) => this.#endedTasks?.(taskId),
    place: (held) => releaseHeld(held, this.#core()),
    engineGone: (engineId) => engineGone(this.#supervisor, engineId),
  });
  #endedTasks: ((taskId: number) => EndedTask | Error | undefined) | undefined;
  #submission: SubmissionCore | undefined;
  #listeners = new Set<(event: EngineEvent) => void>();
  /** The values put once for tasks (`client.put`), until released. */
  #puts = new PutStore();
  #waits = new EngineCountWaits(
    () => this.#supervisor,
    () => this.#admission.joinable,
    () => this.#closed !== undefined,
  );
  #closed: Promise<void> | undefined;

  /** A cluster with no engines yet; the listener, if asked for, is up. */
  constructor(options: LocalClusterOptions = {}) {
    if (options.onEngineEvent) this.#listeners.add(options.onEngineEvent);
    this.#supervisor = new Supervisor({
      registry: this.#registry,
      restart: options.restart,
      heartbeatMs: options.heartbeatMs,
      startTimeoutMs: options.startTimeoutMs,
      noEngineTimeoutMs: options.noEngineTimeoutMs,
      onEvent: (event) => this.#onEngineEvent(event),
    });
    try {
      this.#admission = new Admission(this.#supervisor, {
        ...options.admission,
        counts: this.#metrics.counts,
      });
    } catch (error) {
      // A listener that cannot bind: nothing is left running (the beat).
      this.#supervisor.close("the cluster could not start");
      throw error;
    }
    this.#launches = new Launches(this.#supervisor, this.#admission);
    this.#scheduler = new Scheduler({
      engines: () => this.#supervisor.all(),
      engineCount: () => this.#supervisor.size,
      mayGainEngines: () => this.#admission.joinable,
      noEngineTimeoutMs: options.noEngineTimeoutMs,
      submit: (engine, task, observer) => handOut(engine, task, observer),
    });
  }

  /**
   * Starts engine `engineId`, and restarts it when it dies, with `spawn`:
   * by default a Worker thread or an engine process, as `kind` says.
   */
  startEngine(
    engineId: number,
    kind: Exclude<EngineKind, "remote">,
    spawn: LinkFactory = this.#admission.spawner(kind),
  ): void {
    this.#supervisor.startEngine(engineId, kind, spawn);
  }

  /**
   * Starts `launcher.engines` engines through `launcher`, which also
   * restarts them (under their ids) and, with `scale`, grows or shrinks
   * them. Returns their ids.
   */
  launch(launcher: Launcher): number[] {
    return this.#launches.add(launcher);
  }

  /** Grows or shrinks the engines of a launcher to `n`; see `Launches`. */
  scale(
    n: number,
    launcher?: Launcher,
  ): { started: number[]; retired: number[] } {
    return this.#launches.scale(n, launcher);
  }

  /**
   * Retires these engines as `scale` retires a launcher's: each finishes
   * its running task, hands back the load-balanced ones waiting for it,
   * then stops for good (a `retired` event). For engines of no launcher:
   * an idle pool (client/idle_pool.ts) stops its Workers and processes so.
   */
  retire(engineIds: Iterable<number>, reason: string): void {
    this.#supervisor.retire(engineIds, reason);
  }

  /** Forgets these engines if stopped for good; see `Supervisor.forget`. */
  forget(engineIds: Iterable<number>): number[] {
    return this.#supervisor.forget(engineIds);
  }

  /** Ids of the live engines, ascending. */
  ids(): number[] {
    return this.#supervisor.all().filter((e) => e.up).map((e) => e.engineId);
  }

  /** Whether the cluster has, or ever had, engine `engineId`. */
  has(engineId: number): boolean {
    return this.#supervisor.get(engineId) !== undefined;
  }

  /** A snapshot of every engine, in id order. */
  engines(): EngineStatus[] {
    return this.#supervisor.all().map((engine) =>
      engineStatus(engine, this.#supervisor.kindOf(engine.engineId)!)
    );
  }

  /** Whether engine `engineId` is a Worker of this process (or unknown). */
  sharesMemory(engineId: number): boolean {
    return this.#supervisor.get(engineId)?.sharesMemory ?? true;
  }

  /** A cluster that is not an idle pool has no start to come. */
  plannedEngines(): number {
    return 0;
  }

  /** Why no load-balanced task can ever run, when that is so. */
  unrunnable(): string | undefined {
    return this.#scheduler.unrunnable();
  }

  /** A task id no task of this cluster has had. */
  nextTaskId(): number {
    return ++this.#taskCounter;
  }

  /** Tasks held until the tasks they depend on end (they count as queued). */
  get waitingOnDependencies(): number {
    return this.#dependencies.size;
  }

  /**
   * Where a dependency this core no longer holds is looked up (a
   * controller's live tasks and history): a client may submit a dependent
   * after its dependency ended here, before the client heard it had.
   */
  lookUpEndedTasks(
    lookup: (taskId: number) => EndedTask | Error | undefined,
  ): void {
    this.#endedTasks = lookup;
  }

  /**
   * Routes each task (its publications to its listener first, so that none
   * is missed), then hands the direct ones to their engines and the
   * balanced ones to the scheduler, in one message.
   */
  submit(
    tasks: readonly SubmittedTask[],
    listenerFor: (task: SubmittedTask, index: number) => TaskListener,
  ): void {
    submitTasks(tasks, listenerFor, this.#core());
  }

  /** What submitting and releasing held tasks need of this cluster. */
  #core(): SubmissionCore {
    return this.#submission ??= {
      supervisor: this.#supervisor,
      scheduler: this.#scheduler,
      routes: this.#routes,
      puts: this.#puts,
      dependencies: this.#dependencies,
      toEngine: (engine, task, to) =>
        handOut(engine, task, toldWhenDone(this.#scheduler, engine, to)),
      noEngine: (task) => noEngineError(task, this.ids()),
    };
  }

  /** How many put values it holds (their memory is the user's to manage). */
  get putValues(): number {
    return this.#puts.size;
  }

  /** Holds `value` for tasks whose `refs` name `id`; see `Cluster.put`. */
  put(id: number, value: unknown): void {
    this.#puts.put(id, value);
  }

  /** Frees these put values, here and on every engine that holds them. */
  release(ids: readonly number[]): void {
    this.#puts.release(ids);
  }

  /** Aborts these tasks wherever they are; unknown or ended ids do nothing. */
  abort(taskIds: Iterable<number>): void {
    this.#routes.abort(taskIds);
  }

  /**
   * The engines' queues and the tasks no engine holds yet: the scheduler's
   * waiting line and the tasks held for their dependencies.
   */
  queueStatus(): Promise<QueueStatus> {
    const unassigned = this.#scheduler.queued + this.waitingOnDependencies;
    return Promise.resolve(queueStatusOf(this.engines(), unassigned));
  }

  /** The core's metrics, the collected ones as of now. */
  metrics(): Promise<MetricFamily[]> {
    return Promise.resolve(this.#metrics.families());
  }

  /** Calls `listener` for every engine event; returns an unsubscribe. */
  onEngineEvent(listener: (event: EngineEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Resolves once `n` engines are up. Rejects with a `TimeoutError` after
   * `timeoutMs`, and at once when `n` engines can never be up (no engine
   * can join, and too few are up, starting or restarting) or the cluster
   * closes. With `of`, only those engines count (see `EngineCountWaits`).
   */
  waitForEngines(
    n: number,
    options: { timeoutMs?: number; of?: readonly number[] } = {},
  ): Promise<void> {
    return this.#waits.wait(n, options.timeoutMs, options.of);
  }

  /** Where TCP engines reach the cluster, if it listens. */
  get connectionInfo(): ConnectionInfo | undefined {
    return this.#admission.connectionInfo;
  }

  /** The latest publication of each engine. */
  get registry(): PublicationRegistry {
    return this.#registry;
  }

  /** How dead engines are restarted. */
  get restartPolicy(): RestartPolicy {
    return this.#supervisor.policy;
  }

  /** Changes the restart policy; it applies from the next death on. */
  set restartPolicy(policy: RestartPolicy) {
    this.#supervisor.policy = policy;
  }

  /**
   * Stops every engine (their unfinished tasks fail with an `EngineError`),
   * fails queued tasks and waiters, closes the listener and ends every
   * stream; `shutdown` also tells remote engines to exit. Safe to call
   * twice.
   */
  close(options: { shutdown?: boolean } = {}): Promise<void> {
    this.#closed ??= (async () => {
      await null; // `#closed` is set before the waiters look at it.
      this.#waits.check();
      this.#dependencies.close();
      this.#scheduler.tell({ kind: "close" });
      await Promise.all([
        this.#admission.close(),
        this.#supervisor.close("the client was closed", {
          shutdown: options.shutdown,
        }),
      ]);
      // After their engines: a launcher's jobs and sessions end with them.
      await this.#launches.close();
      this.#registry.tell({ kind: "close" });
      this.#puts.clear();
    })();
    return this.#closed;
  }

  #onEngineEvent(event: EngineEvent): void {
    this.#metrics.engineEvent(event, this.#supervisor.kindOf(event.engineId));
    if (event.type === "died" || event.type === "gaveUp") {
      this.#admission.forget(event.engineId);
    }
    this.#scheduler.tell({ kind: "changed" });
    this.#waits.check();
    tellEngineListeners(this.#listeners, event);
  }
}
