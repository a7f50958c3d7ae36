/**
 * Where a held task goes once its dependencies are met (dependencies.ts):
 * the cluster's own two ways, to its engine or to the scheduler, its route
 * moved with it so that an abort still finds it.
 *
 * @module
 */

import type { SubmittedTask } from "./cluster.ts";
import type { EngineActor } from "./engine_actor.ts";
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
    const { targets, retries, timeoutMs, highWaterMark } = placement.balanced;
    core.routes.reroute(task.taskId, core.scheduler);
    balanced.push({
      taskId: task.taskId,
      fn: task.fn,
      mode: task.mode,
      args: task.args,
      refs: task.refs,
      observer: listener,
      targets: targets && new Set(targets),
      retries,
      timeoutMs,
      highWaterMark,
    });
  }
  if (balanced.length > 0) {
    core.scheduler.tell({ kind: "enqueue", tasks: balanced });
  }
}

/**
 * Why engine `engineId` can take no more tasks, if so: a `follow` of a task
 * that ran there cannot be met (an engine restarted under its id is the
 * same engine, and can).
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
  if (!engine) return "is no engine of this cluster";
  return engine.state === "stopped"
    ? `has stopped for good (${engine.deathReason ?? "retired"})`
    : undefined;
}
