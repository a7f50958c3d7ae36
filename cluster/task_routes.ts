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

  /**
   * Routes publications through `registry`, which looks them up here;
   * `onEnd` hears each task's end (the dependencies wait on it).
   */
  constructor(registry: Registry, onEnd?: EndHook) {
    registry.lookIn(this);
    this.#onEnd = onEnd;
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
   * on with: its `done` ends both routes, then tells `listener`.
   */
  add(
    taskId: number,
    route: Route | undefined,
    listener: TaskListener,
    engineId?: number,
  ): TaskListener {
    const routed = new Routed(taskId, route, listener, this.#settle);
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

/** A task's listener as the cluster hands it on: its end unroutes it. */
class Routed implements TaskListener {
  readonly taskId: number;
  route: Route | undefined;
  readonly listener: TaskListener;
  /** The engine it is on, or was last on (for a `follow` of it). */
  engineId: number | undefined;
  #settle: (routed: Routed, outcome?: TaskOutcome) => void;

  constructor(
    taskId: number,
    route: Route | undefined,
    listener: TaskListener,
    settle: (routed: Routed, outcome?: TaskOutcome) => void,
  ) {
    this.taskId = taskId;
    this.route = route;
    this.listener = listener;
    this.#settle = settle;
  }

  assigned(engineId: number): void {
    this.engineId = engineId;
    this.listener.assigned(engineId);
  }

  started(): void {
    this.listener.started();
  }

  stream(name: "stdout" | "stderr", text: string): void {
    this.listener.stream(name, text);
  }

  publish(publication: Publication): void {
    this.listener.publish(publication);
  }

  done(outcome: TaskOutcome): void {
    this.#settle(this);
    this.listener.done(outcome);
    // After the listener: the client's result is final before any
    // dependent of it is placed or failed.
    this.#settle(this, outcome);
  }
}
