/**
 * The tasks' metrics: submitted, done and failed by view (and the error's
 * class), how many wait and run now, how long they waited and ran. Counted
 * by the route table (task_routes.ts), the one place that hears every
 * task's submission, start and end; each figure is a child bound once per
 * view, so a task costs a few adds and two bucket scans.
 *
 * @module
 */

import type {
  Buckets,
  Counter,
  Gauge,
  Histogram,
  MetricsRegistry,
  Tally,
} from "../observe/metrics.ts";

/** The current turn's clock reading, once taken; -1 until then. */
let turnClock = -1;
const clearTurnClock = () => void (turnClock = -1);

/**
 * `performance.now()`, read once per turn of the event loop: a read costs
 * about 90 ns (measured, Deno 2.9.6), several times a task's other
 * counting, and the tasks of one turn (a batch submitted, the dones of one
 * frame and the starts they make) share it. Off by at most the length of
 * the turn, far below the histograms' first bucket (1 ms).
 *
 * @example
 * ```ts
 * import { turnNow } from "./task_metrics.ts";
 * const a = turnNow();
 * console.log(turnNow() === a); // true
 * ```
 */
export function turnNow(): number {
  if (turnClock < 0) {
    turnClock = performance.now();
    queueMicrotask(clearTurnClock);
  }
  return turnClock;
}

/** The view a task came from: the `view` label. */
export type TaskView = "direct" | "balanced";

/**
 * The error classes a failed task is counted under (`error` label); any
 * other is `other`, so the label stays a small closed set.
 */
const ERROR_CLASSES: ReadonlySet<string> = new Set([
  "RemoteError",
  "EngineError",
  "TimeoutError",
  "TaskAbortedError",
  "UnmetDependencyError",
  "ClientClosedError",
  "RangeError",
  "TypeError",
]);

/**
 * The figures of one view, bound once.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "../observe/metrics.ts";
 * import { TaskMetrics } from "./task_metrics.ts";
 * const direct = new TaskMetrics(new MetricsRegistry()).direct;
 * direct.submitted.inc();
 * console.log(direct.submitted.value); // 1
 * ```
 */
export class ViewMetrics {
  readonly submitted: Tally;
  readonly done: Tally;
  readonly running: Tally;
  readonly queued: Tally;
  readonly duration: Buckets;
  readonly queueWait: Buckets;
  readonly #failed: Counter;
  readonly #byError = new Map<string, Tally>();
  readonly #view: TaskView;

  constructor(families: TaskFamilies, view: TaskView) {
    const labels = { view };
    this.#view = view;
    this.submitted = families.submitted.with(labels);
    this.done = families.done.with(labels);
    this.running = families.running.with(labels);
    this.queued = families.queued.with(labels);
    this.duration = families.duration.with(labels);
    this.queueWait = families.queueWait.with(labels);
    this.#failed = families.failed;
    // Every error class has a sample from the start: `increase()` cannot
    // see a series' first step from absent to 1.
    for (const name of [...ERROR_CLASSES, "other"]) this.#tally(name).inc(0);
  }

  /** Counts a failure under its error's class. */
  failed(error: Error): void {
    this.#tally(ERROR_CLASSES.has(error?.name) ? error.name : "other").inc();
  }

  #tally(name: string): Tally {
    let tally = this.#byError.get(name);
    if (tally === undefined) {
      tally = this.#failed.with({ view: this.#view, error: name });
      this.#byError.set(name, tally);
    }
    return tally;
  }
}

/** The task families of a registry. */
interface TaskFamilies {
  submitted: Counter;
  done: Counter;
  failed: Counter;
  running: Gauge;
  queued: Gauge;
  duration: Histogram;
  queueWait: Histogram;
}

/**
 * The task families, made in `registry`, and each view's figures.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "../observe/metrics.ts";
 * import { TaskMetrics } from "./task_metrics.ts";
 * const registry = new MetricsRegistry();
 * const tasks = new TaskMetrics(registry);
 * tasks.balanced.failed(new RangeError("no engine"));
 * console.log(registry.families().map((f) => f.name).includes(
 *   "troupe_tasks_failed_total",
 * )); // true
 * ```
 */
export class TaskMetrics {
  readonly direct: ViewMetrics;
  readonly balanced: ViewMetrics;

  constructor(registry: MetricsRegistry) {
    const view = ["view"];
    const families: TaskFamilies = {
      submitted: registry.counter(
        "troupe_tasks_submitted_total",
        "Tasks submitted to the core, by view.",
        view,
      ),
      done: registry.counter(
        "troupe_tasks_done_total",
        "Tasks that ended with a value, by view.",
        view,
      ),
      failed: registry.counter(
        "troupe_tasks_failed_total",
        "Tasks that ended with an error, by view and the error's class " +
          "(RemoteError, EngineError, TimeoutError, TaskAbortedError, " +
          "UnmetDependencyError, ...; other for the rest).",
        ["view", "error"],
      ),
      running: registry.gauge(
        "troupe_tasks_running",
        "Tasks running on an engine now, by view.",
        view,
      ),
      queued: registry.gauge(
        "troupe_tasks_queued",
        "Tasks submitted and not started (waiting for an engine, in an " +
          "engine's queue, or held for their dependencies), by view.",
        view,
      ),
      duration: registry.histogram(
        "troupe_task_duration_seconds",
        "How long tasks ran: from their start on an engine to their end, " +
          "by the engine's clock (the core's for one whose engine died).",
        view,
      ),
      queueWait: registry.histogram(
        "troupe_task_queue_wait_seconds",
        "How long tasks waited: from their submission to the core to " +
          "their first start.",
        view,
      ),
    };
    this.direct = new ViewMetrics(families, "direct");
    this.balanced = new ViewMetrics(families, "balanced");
    // Both views always have a sample: a rate over a view starts at 0.
    for (const v of [this.direct, this.balanced]) {
      v.submitted.inc(0);
      v.done.inc(0);
    }
  }
}
