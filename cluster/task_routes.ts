/**
 * The route table of a cluster's tasks: for every submitted task that has
 * not ended, where it is (so that an abort needs only its id) and where its
 * publications go (the registry looks them up here). Both are set up when
 * the task is submitted and both end in one place, when its listener hears
 * `done`.
 *
 * @module
 */

import type { Publication } from "../protocol/publication.ts";
import type { TaskListener } from "./cluster.ts";
import type { TaskOutcome } from "./engine_types.ts";
import type { PublicationSink, Registry, SinkTable } from "./registry.ts";
import { IdTable } from "./id_table.ts";
import { type TaskMetrics, turnNow, type ViewMetrics } from "./task_metrics.ts";

/**
 * Whatever holds a task until it ends and can abort it by id: its engine
 * actor (a direct task) or the scheduler (a load-balanced one).
 */
export interface Route {
  /** Aborts the tasks with these ids that it holds. */
  tell(message: { kind: "abort"; taskIds: ReadonlySet<number> }): void;
}

/**
 * Where each live task is and who hears it.
 *
 * @example
 * ```ts
 * import { TaskRoutes } from "./task_routes.ts";
 * import { Registry } from "./registry.ts";
 * const routes = new TaskRoutes(new Registry());
 * const aborted: number[] = [];
 * const engine = { tell: (m: { taskIds: ReadonlySet<number> }) => aborted.push(...m.taskIds) };
 * const listener = routes.add(7, engine, {
 *   assigned() {}, started() {}, stream() {}, publish() {}, done() {},
 * });
 * routes.abort([7, 8]);
 * console.log(aborted); // [7]
 * listener.done({ ok: true, value: 1, started: 0, completed: 0 });
 * console.log(routes.size); // 0
 * ```
 */
export class TaskRoutes implements SinkTable {
  /**
   * Every task not ended, by id: one table for both routes (the registry
   * once had a second, kept by a message per task each way).
   */
  #tasks = new IdTable<Routed>();
  /** Tasks of `#tasks` with a route. */
  #routed = 0;

  /** Hears every task's end after its listener, with its engine. */
  #onEnd: EndHook | undefined;
  #metrics: TaskMetrics | undefined;

  /**
   * Routes publications through `registry`, which looks them up here;
   * `onEnd` hears each task's end (the dependencies wait on it); `metrics`
   * counts every task's submission, start and end.
   */
  constructor(registry: Registry, onEnd?: EndHook, metrics?: TaskMetrics) {
    registry.lookIn(this);
    this.#onEnd = onEnd;
    this.#metrics = metrics;
  }

  /** Tasks routed and not ended. */
  get size(): number {
    return this.#routed;
  }

  /** Tasks whose publications are routed: every task not ended. */
  get watching(): number {
    return this.#tasks.size;
  }

  /** Where task `taskId`'s publications go, while it has not ended. */
  sinkOf(taskId: number): PublicationSink | undefined {
    return this.#tasks.get(taskId)?.listener;
  }

  /**
   * Routes task `taskId`: its publications to `listener` from now on, an
   * abort of its id to `route` (none: it cannot be aborted, as a task for
   * no engine, which ends at once). Returns the listener to hand the task
   * on with: its `done` ends both routes, then tells `listener`. A task
   * added without `engineId` is a load-balanced one (for its metrics).
   */
  add(
    taskId: number,
    route: Route | undefined,
    listener: TaskListener,
    engineId?: number,
  ): TaskListener {
    const view = engineId === undefined
      ? this.#metrics?.balanced
      : this.#metrics?.direct;
    const routed = new Routed(taskId, route, listener, this.#settle, view);
    routed.engineId = engineId;
    this.#tasks.set(taskId, routed);
    if (route) this.#routed++;
    return routed;
  }

  /**
   * Task `taskId` moved (a held task released to its engine or the
   * scheduler): an abort of its id goes to `route` from now on.
   */
  reroute(taskId: number, route: Route, engineId?: number): void {
    const routed = this.#tasks.get(taskId);
    if (!routed) return;
    if (!routed.route) this.#routed++;
    routed.route = route;
    if (engineId !== undefined) routed.engineId = engineId;
  }

  /**
   * A task refused before it was routed (a put value it names is gone):
   * counted as submitted and failed, as if it had been.
   */
  refused(balanced: boolean, error: Error): void {
    const view = balanced ? this.#metrics?.balanced : this.#metrics?.direct;
    if (view === undefined) return;
    view.submitted.inc();
    view.failed(error);
  }

  /** Whether task `taskId` is routed: submitted here and not ended. */
  has(taskId: number): boolean {
    return this.#tasks.get(taskId) !== undefined;
  }

  /** Where task `taskId` is, while it is routed. */
  routeOf(taskId: number): Route | undefined {
    return this.#tasks.get(taskId)?.route;
  }

  /**
   * Aborts these tasks wherever they are, one message per route; ids of
   * tasks that ended or never were do nothing.
   */
  abort(taskIds: Iterable<number>): void {
    const byRoute = new Map<Route, Set<number>>();
    for (const taskId of taskIds) {
      const route = this.#tasks.get(taskId)?.route;
      if (!route) continue;
      const ids = byRoute.get(route) ?? new Set();
      ids.add(taskId);
      byRoute.set(route, ids);
    }
    for (const [route, ids] of byRoute) {
      route.tell({ kind: "abort", taskIds: ids });
    }
  }

  /** A task ended: nothing routes to it any more. */
  #settle = (routed: Routed, outcome?: TaskOutcome): void => {
    if (outcome) {
      try {
        this.#onEnd?.(routed.taskId, outcome, routed.engineId);
      } catch (error) {
        // The dependents fail themselves (dependencies.ts); whatever still
        // throws must not reach the scheduler or engine actor that ended
        // this task: it would stop every client's tasks.
        console.error(
          `troupe: the dependents of task ${routed.taskId} threw:`,
          error,
        );
      }
      return;
    }
    // Task ids are never reused: a second `done` finds nothing to delete.
    if (this.#tasks.delete(routed.taskId) && routed.route) this.#routed--;
  };
}

/**
 * Hears a task's end, after its listener did, with the engine it was on
 * (none if it never reached one).
 */
export type EndHook = (
  taskId: number,
  outcome: TaskOutcome,
  engineId: number | undefined,
) => void;

/** Where a routed task is, for the running and queued gauges. */
const QUEUED = 0, RUNNING = 1, ENDED = 2;

/**
 * A task's listener as the cluster hands it on: its end unroutes it. It
 * also counts the task's metrics: these fields ride on an object each task
 * has anyway.
 */
class Routed implements TaskListener {
  readonly taskId: number;
  route: Route | undefined;
  readonly listener: TaskListener;
  /** The engine it is on, or was last on (for a `follow` of it). */
  engineId: number | undefined;
  #settle: (routed: Routed, outcome?: TaskOutcome) => void;
  #view: ViewMetrics | undefined;
  #where = QUEUED;
  /** When it reached the core, then (from its first start) -1. */
  #submittedAt = 0;
  /** When it last started, in ms of `turnNow()`. */
  #startedAt = 0;

  constructor(
    taskId: number,
    route: Route | undefined,
    listener: TaskListener,
    settle: (routed: Routed, outcome?: TaskOutcome) => void,
    view: ViewMetrics | undefined,
  ) {
    this.taskId = taskId;
    this.route = route;
    this.listener = listener;
    this.#settle = settle;
    this.#view = view;
    if (view) {
      view.submitted.value++;
      view.queued.value++;
      this.#submittedAt = turnNow();
    }
  }

  assigned(engineId: number): void {
    this.engineId = engineId;
    // Assigned again after it ran: its engine died, it waits once more.
    if (this.#view && this.#where === RUNNING) {
      this.#where = QUEUED;
      this.#view.running.value--;
      this.#view.queued.value++;
    }
    this.listener.assigned(engineId);
  }

  started(): void {
    const view = this.#view;
    if (view && this.#where === QUEUED) {
      this.#where = RUNNING;
      view.queued.value--;
      view.running.value++;
      this.#startedAt = turnNow();
      if (this.#submittedAt >= 0) {
        view.queueWait.observe((this.#startedAt - this.#submittedAt) / 1000);
        this.#submittedAt = -1;
      }
    }
    this.listener.started();
  }

  stream(name: "stdout" | "stderr", text: string): void {
    this.listener.stream(name, text);
  }

  publish(publication: Publication): void {
    this.listener.publish(publication);
  }

  done(outcome: TaskOutcome): void {
    if (this.#view && this.#where !== ENDED) this.#count(outcome, this.#view);
    this.#settle(this);
    this.listener.done(outcome);
    // After the listener: the client's result is final before any
    // dependent of it is placed or failed.
    this.#settle(this, outcome);
  }

  #count(outcome: TaskOutcome, view: ViewMetrics): void {
    if (this.#where === RUNNING) {
      view.running.value--;
      // The engine's own clock where it says (a value, a RemoteError): no
      // clock read here; else (it died) the core's.
      const ms =
        outcome.completed !== undefined && outcome.started !== undefined
          ? outcome.completed - outcome.started
          : turnNow() - this.#startedAt;
      view.duration.observe(Math.max(0, ms) / 1000);
    } else {
      view.queued.value--;
    }
    this.#where = ENDED;
    if (outcome.ok) view.done.value++;
    else view.failed(outcome.error);
  }
}
