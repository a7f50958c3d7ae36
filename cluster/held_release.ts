/**
 * Where a held task goes once its dependencies are met (dependencies.ts):
 * the cluster's own two ways, to its engine or to the scheduler, its route
 * moved with it so that an abort still finds it.
 *
 * @module
 */

import type { Placement, SubmittedTask, TaskListener } from "./cluster.ts";
import type { EngineActor } from "./engine_actor.ts";
import { specOf } from "./hand_out.ts";
import type { TaskObserver } from "./engine_types.ts";
import type { ScheduledTask, Scheduler } from "./scheduler.ts";
import type { Supervisor } from "./supervisor.ts";
import type { Held } from "./task_needs.ts";
import type { TaskRoutes } from "./task_routes.ts";

/**
 * What releasing needs of its cluster.
 *
 * @example
 * ```ts
 * import type { ReleaseCore } from "./held_release.ts";
 * const engines = (core: ReleaseCore) => core.supervisor.size;
 * ```
 */
export interface ReleaseCore {
  supervisor: Supervisor;
  scheduler: Scheduler;
  routes: TaskRoutes;
  /** Hands a direct task to its engine, as `submit` does. */
  toEngine(engine: EngineActor, task: SubmittedTask, to: TaskObserver): void;
  /** The error of a direct task for an engine the cluster never had. */
  noEngine(task: SubmittedTask): Error;
}

/**
 * Hands on held tasks whose dependencies are met, each already routed (its
 * listener is its route's): direct ones to their engines, balanced ones to
 * the scheduler in one message.
 *
 * @example
 * ```ts
 * import { releaseHeld } from "./held_release.ts";
 * console.log(typeof releaseHeld); // "function"
 * ```
 */
export function releaseHeld(held: readonly Held[], core: ReleaseCore): void {
  const balanced: ScheduledTask[] = [];
  for (const { task, listener } of held) {
    const { placement } = task;
    if ("engineId" in placement) {
      const engine = core.supervisor.get(placement.engineId);
      if (!engine) {
        listener.done({ ok: false, error: core.noEngine(task) });
        continue;
      }
      core.routes.reroute(task.taskId, engine);
      core.toEngine(engine, task, listener);
      continue;
    }
    core.routes.reroute(task.taskId, core.scheduler);
    const { targets } = placement.balanced;
    balanced.push(
      scheduledTask(
        task,
        placement.balanced,
        listener,
        targets && new Set(targets),
      ),
    );
  }
  if (balanced.length > 0) {
    core.scheduler.tell({ kind: "enqueue", tasks: balanced });
  }
}

/**
 * Why engine `engineId` can take no more tasks, if so (stopped, retiring,
 * or forgotten): a `follow` of a task that ran there cannot be met (an
 * engine restarted under its id is the same engine, and can).
 *
 * @example
 * ```ts
 * import { engineGone } from "./held_release.ts";
 * import { Supervisor } from "./supervisor.ts";
 * import { Registry } from "./registry.ts";
 * const supervisor = new Supervisor({ registry: new Registry() });
 * console.log(engineGone(supervisor, 3)); // is no engine of this cluster
 * supervisor.close("done");
 * ```
 */
export function engineGone(
  supervisor: Supervisor,
  engineId: number,
): string | undefined {
  const engine = supervisor.get(engineId);
  if (!engine) {
    return supervisor.forgot(engineId)
      ? "has stopped for good, long enough ago to be forgotten (an idle " +
        "pool keeps its last two stopped sets)"
      : "is no engine of this cluster";
  }
  if (engine.state === "stopped") {
    const why = engine.deathReason ??
      supervisor.retiringBecause(engineId) ?? "retired";
    return `has stopped for good (${why})`;
  }
  // A retiring engine takes no new task; it stops once it has drained.
  const retiring = supervisor.retiringBecause(engineId);
  return retiring === undefined
    ? undefined
    : `is being retired (${retiring}) and takes no new task`;
}

/**
 * `task`, of placement `balanced`, as the scheduler takes it: with its
 * observer and its set of `targets` (a call's tasks may share one).
 *
 * @example
 * ```ts
 * import { scheduledTask } from "./held_release.ts";
 * const balanced = { retries: 0 };
 * const task = scheduledTask({
 *   taskId: 1,
 *   fn: { kind: "source", source: "() => 1" },
 *   args: [],
 *   placement: { balanced },
 * }, balanced, {
 *   assigned() {}, started() {}, stream() {}, publish() {}, done() {},
 * }, undefined);
 * console.log(task.retries); // 0
 * ```
 */
export function scheduledTask(
  task: SubmittedTask,
  balanced: Extract<Placement, { balanced: unknown }>["balanced"],
  observer: TaskListener,
  targets: ReadonlySet<number> | undefined,
): ScheduledTask {
  const { retries, timeoutMs, highWaterMark } = balanced;
  return {
    ...specOf(task),
    observer,
    targets,
    retries,
    timeoutMs,
    highWaterMark,
  };
}
