/**
 * `IdlePool`: a `LocalCluster` whose engines start on first use and stop
 * when idle (`ClientOptions.idleTimeoutMs`, as piscina's `idleTimeout`).
 * It is the core both hosts build (client/embedded_cluster.ts), so an
 * embedded client and a controller, whose connected clients' tasks all
 * come through its `submit`, get the same pool from this one place.
 *
 * @module
 */

import type {
  Launcher,
  SubmittedTask,
  TaskListener,
} from "../cluster/cluster.ts";
import {
  LocalCluster,
  type LocalClusterOptions,
} from "../cluster/local_cluster.ts";
import { unrefTimer } from "../actors/async.ts";
import { messageOf } from "../protocol/errors.ts";
import type { StartPlan } from "./client_options.ts";
import { holdProcess } from "./keep_alive.ts";
import { settleScale } from "./scaling.ts";

/**
 * Where a pool is: `idle` with no engine (at first, and once stopped),
 * `starting` its engines, `up`, or `stopping` them after being idle.
 *
 * @example
 * ```ts
 * import type { PoolState } from "./idle_pool.ts";
 * const awake = (s: PoolState) => s === "starting" || s === "up";
 * console.log(awake("idle")); // false
 * ```
 */
export type PoolState = "idle" | "starting" | "up" | "stopping" | "closed";

/**
 * The cluster core of a client started with `idleTimeoutMs`: it starts
 * `plan`'s engines on the first load-balanced task (or `waitForEngines`,
 * or, with launchers, `scale`: Workers and processes are no launcher's),
 * and once no task has been queued or running for `idleTimeoutMs` it
 * retires them all (Workers end, processes exit, launchers' jobs end, as
 * `scale(0)` does). The next task starts a new
 * set, under new ids; the Workers and processes of the last two stops
 * stay in `engines()` as `stopped` (older ones are forgotten, so that the
 * list stays bounded), and `queueStatus()` lists no stopped engine.
 *
 * @example
 * ```ts
 * import { IdlePool } from "./idle_pool.ts";
 * import { checkStartOptions } from "./client_options.ts";
 * const plan = checkStartOptions({ workers: 1, idleTimeoutMs: 50 });
 * const pool = new IdlePool({}, plan, { idleTimeoutMs: 50 });
 * console.log(pool.state, pool.ids()); // idle []
 * await pool.waitForEngines(1, { timeoutMs: 60_000 }); // starts it
 * console.log(pool.ids()); // [0]
 * await pool.close();
 * ```
 */
export class IdlePool extends LocalCluster {
  #plan: StartPlan;
  #idleTimeoutMs: number;
  #startTimeoutMs: number;
  #state: PoolState = "idle";
  /** The engines of the latest start, to retire once idle. */
  #generation: Generation = { own: [], launched: new Map(), starts: 0 };
  /**
   * The Workers and processes of the last stopped starts, newest last:
   * `engines()` shows them as `stopped` (why, for a direct task that names
   * one) until two newer starts have stopped; then they are forgotten, so
   * that a pool that wakes and sleeps for days keeps a bounded list.
   */
  #stoppedSets: number[][] = [];
  /** The id the next engine gets: ids are never given out twice. */
  #nextId = 0;
  /** Launchers started once already: later starts scale them back up. */
  #launched = new Set<Launcher>();
  /** Tasks submitted that have not ended, of every client. */
  #outstanding = 0;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #closing = Promise.withResolvers<void>();

  /** A pool with no engine; `plan`'s engines start on first use. */
  constructor(
    options: LocalClusterOptions,
    plan: StartPlan,
    pool: { idleTimeoutMs: number; startTimeoutMs?: number },
  ) {
    super(options);
    this.#plan = plan;
    this.#idleTimeoutMs = pool.idleTimeoutMs;
    this.#startTimeoutMs = pool.startTimeoutMs ?? 60_000;
  }

  /** Where the pool is now. */
  get state(): PoolState {
    return this.#state;
  }

  /**
   * Starts the engines first if the pool is idle and a task is
   * load-balanced (a direct task names an engine, which a start would not
   * bring back), and counts every task until it ends.
   */
  override submit(
    tasks: readonly SubmittedTask[],
    listenerFor: (task: SubmittedTask, index: number) => TaskListener,
  ): void {
    if (tasks.some((task) => "balanced" in task.placement)) {
      try {
        this.#wake();
      } catch (error) {
        // Nothing started: these tasks fail with why, not as unrunnable.
        const why = new Error(
          `the idle pool could not start its engines: ${messageOf(error)}`,
          { cause: error },
        );
        tasks.forEach((task, i) =>
          listenerFor(task, i).done({ ok: false, error: why })
        );
        return;
      }
    }
    this.#disarm();
    // Counted as each listener is made: a task the core never took (it
    // threw first) must not keep the pool awake for ever.
    super.submit(tasks, (task, index) => {
      this.#outstanding++;
      return this.#counted(listenerFor(task, index));
    });
  }

  /**
   * While the pool has no engine up (idle, stopping, or starting), the
   * engines its start brings: views plan a call for them, not for one.
   */
  override plannedEngines(): number {
    if (this.#state === "up" || this.#state === "closed") return 0;
    const plan = this.#plan;
    return plan.workers + plan.processes +
      plan.launchers.reduce((n, launcher) => n + launcher.engines, 0);
  }

  /** A pool that can start its engines can run any task. */
  override unrunnable(): string | undefined {
    if (this.#state === "idle" || this.#state === "stopping") return undefined;
    return super.unrunnable();
  }

  /** Someone asking for engines wants them: an idle pool starts. */
  override waitForEngines(
    n: number,
    options: { timeoutMs?: number; of?: readonly number[] } = {},
  ): Promise<void> {
    if (n > 0) {
      try {
        this.#wake();
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return super.waitForEngines(n, options);
  }

  /**
   * An idle pool with launchers starts, so that there is a set to scale.
   * Without one, `scale` says how such a pool starts, and nothing starts:
   * Workers and processes are not a launcher's, and a scale that only
   * woke them would not make `n` engines, which is what Dask's
   * `cluster.scale(n)` means. The idle stop retires what a scale added too.
   */
  override scale(
    n: number,
    launcher?: Launcher,
  ): { started: number[]; retired: number[] } {
    if (this.#plan.launchers.length === 0) throw new Error(NO_LAUNCHER);
    const woken = this.#plan.launchers.length > 0 ? this.#wake() : [];
    const { started, retired } = super.scale(n, launcher);
    if (started.length > 0 && this.#state !== "closed") {
      this.#untilUp(started);
    }
    // What woke counts as started: the scale settles once they are up.
    const kept = woken.filter((id) => !retired.includes(id));
    return { started: [...kept, ...started], retired };
  }

  /** Clears the idle timer, then closes as a `LocalCluster` does. */
  override close(options: { shutdown?: boolean } = {}): Promise<void> {
    this.#state = "closed";
    this.#disarm();
    this.#closing.resolve();
    return super.close(options);
  }

  #counted(listener: TaskListener): TaskListener {
    return {
      assigned: (engineId) => listener.assigned(engineId),
      started: () => listener.started(),
      stream: (name, text) => listener.stream(name, text),
      publish: (publication) => listener.publish(publication),
      done: (outcome) => {
        try {
          listener.done(outcome);
        } finally {
          this.#outstanding--;
          this.#arm();
        }
      },
    };
  }

  /** Starts `plan`'s engines unless they are starting or up; their ids. */
  #wake(): number[] {
    if (this.#state !== "idle" && this.#state !== "stopping") return [];
    this.#disarm();
    const plan = this.#plan;
    const own: number[] = [];
    const launched = new Map<Launcher, number[]>();
    this.#generation = { own, launched, starts: 0 };
    this.#state = "starting";
    const next = () => {
      const id = Math.max(
        this.#nextId,
        this.engines().reduce((max, e) => Math.max(max, e.engineId), -1) + 1,
      );
      this.#nextId = id + 1;
      return id;
    };
    try {
      for (let i = 0; i < plan.workers; i++) {
        own.push(next());
        this.startEngine(own.at(-1)!, "worker");
      }
      for (let i = 0; i < plan.processes; i++) {
        own.push(next());
        this.startEngine(own.at(-1)!, "process");
      }
      for (const launcher of plan.launchers) {
        // A launcher is added once; later starts scale it back up.
        const ids = this.#launched.has(launcher)
          ? super.scale(launcher.engines, launcher).started
          : this.launch(launcher);
        this.#launched.add(launcher);
        launched.set(launcher, ids);
      }
    } catch (error) {
      // Half a start is no start: what did start stops, and the next use
      // tries again.
      this.#stopGeneration();
      throw error;
    }
    const all = [...own, ...[...launched.values()].flat()];
    this.#untilUp(all);
    return all;
  }

  /**
   * The pool is `starting` until these engines (and those of any other
   * start of this generation: a scale's) are up, or given up; then `up`,
   * and the idle timer may run. A scale's engines must not be retired as
   * idle while they start.
   */
  #untilUp(ids: readonly number[]): void {
    const generation = this.#generation;
    this.#state = "starting";
    this.#disarm();
    generation.starts++;
    const release = holdProcess(); // Someone waits for these engines.
    super.waitForEngines(ids.length, {
      timeoutMs: this.#startTimeoutMs,
      of: ids,
    }).catch(() => {
      // Each engine's own start timeout fails what waits for it.
    }).finally(() => {
      release();
      generation.starts--;
      const current = this.#generation === generation &&
        this.#state === "starting";
      if (!current || generation.starts > 0) return;
      this.#state = "up";
      this.#arm();
    });
  }

  /** Once nothing is queued or running, and the engines are up. */
  #arm(): void {
    if (this.#outstanding > 0 || this.#state !== "up") return;
    this.#disarm();
    this.#idleTimer = setTimeout(() => this.#sleep(), this.#idleTimeoutMs);
    // An idle pool must not keep the process alive.
    unrefTimer(this.#idleTimer);
  }

  #disarm(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  /** Retires the latest start's engines, as `scale(0)` would. */
  #sleep(): void {
    this.#idleTimer = undefined;
    if (this.#outstanding > 0 || this.#state !== "up") return;
    this.#stopGeneration();
  }

  #stopGeneration(): void {
    this.#state = "stopping";
    const generation = this.#generation;
    const reason = `the pool was idle for ${this.#idleTimeoutMs} ms ` +
      "(idleTimeoutMs): its engines stopped until the next load-balanced task";
    this.retire(generation.own, reason);
    const retired = [...generation.own];
    for (const launcher of generation.launched.keys()) {
      retired.push(...super.scale(0, launcher).retired);
    }
    // Bounded, as a scale is: an engine that will not stop is logged by
    // its launcher, and the pool counts as idle anyway.
    settleScale(
      this,
      [],
      retired,
      this.#startTimeoutMs,
      this.#closing.promise,
    ).catch(() => {}).finally(() => {
      this.#keepStopped(generation.own);
      if (this.#generation === generation && this.#state === "stopping") {
        this.#state = "idle";
      }
    });
  }

  /**
   * Keeps `own` (a stopped start's Workers and processes) among the last
   * two stopped sets, and forgets the engines of older ones. A launcher's
   * engines are not forgotten: it counts its engines by id.
   */
  #keepStopped(own: readonly number[]): void {
    if (own.length === 0 || this.#state === "closed") return;
    this.#stoppedSets.push([...own]);
    while (this.#stoppedSets.length > 2) {
      const old = this.#stoppedSets.shift()!;
      const left = new Set(old);
      for (const id of this.forget(old)) left.delete(id);
      // One that has not stopped yet is forgotten with the next set.
      if (left.size > 0) this.#stoppedSets[0].unshift(...left);
    }
  }
}

/** Why an idle pool of Workers and processes cannot be scaled. */
const NO_LAUNCHER = "this client has no launcher to scale: its Workers and " +
  "processes are not a launcher's. An idle pool (idleTimeoutMs) starts them " +
  "on its first load-balanced task or on await client.waitForEngines(n); to " +
  "scale, give Client.start a launch option (local({ engines }) for " +
  "processes, ssh, slurm, mpi or your own)";

/** The engines of one start of the pool, retired together once idle. */
interface Generation {
  /** Its Workers and processes. */
  own: number[];
  /** Each launcher's engines (a scale may add more: all are retired). */
  launched: Map<Launcher, number[]>;
  /** Its starts not yet settled: it is `up` once there are none. */
  starts: number;
}
