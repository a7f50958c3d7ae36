/**
 * How the core takes tasks in (`LocalCluster.submit`): each is routed
 * first (its publications to its listener, so that none is missed), then
 * a direct one goes to its engine, a balanced one to the scheduler (all of
 * a call's in one message), and one that needs other tasks is held
 * (dependencies.ts) until they end.
 *
 * @module
 */

import type { SubmittedTask, TaskListener } from "./cluster.ts";
import type { Dependencies } from "./dependencies.ts";
import type { EngineActor } from "./engine_actor.ts";
import { type ReleaseCore, scheduledTask } from "./held_release.ts";
import type { PutStore } from "./put_store.ts";
import type { ScheduledTask, Scheduler } from "./scheduler.ts";
import type { TaskObserver } from "./engine_types.ts";
import type { Held } from "./task_needs.ts";

/**
 * What submitting needs of its cluster.
 *
 * @example
 * ```ts
 * import type { SubmissionCore } from "./task_submission.ts";
 * const held = (core: SubmissionCore) => core.dependencies.size;
 * ```
 */
export interface SubmissionCore extends ReleaseCore {
  /** The values put once, which a task's `refs` name. */
  puts: PutStore;
  /** Where tasks with `needs` wait. */
  dependencies: Dependencies;
}

/**
 * Routes and hands out `tasks` (see the module's doc); `listenerFor` is
 * called once per task, before anything can be heard of it.
 *
 * @example
 * ```ts
 * import { submitTasks } from "./task_submission.ts";
 * console.log(typeof submitTasks); // "function"
 * ```
 */
export function submitTasks(
  tasks: readonly SubmittedTask[],
  listenerFor: (task: SubmittedTask, index: number) => TaskListener,
  core: SubmissionCore,
): void {
  let direct: DirectTask[] = NONE;
  const balanced: ScheduledTask[] = [];
  // A view's tasks share one placement: make its set of targets once.
  let targetList: readonly number[] | undefined;
  let targetSet: ReadonlySet<number> | undefined;
  let held: Held[] | undefined;
  // A loop, not a closure: a tiny task comes through here on every call.
  for (let index = 0; index < tasks.length; index++) {
    const task = tasks[index];
    const listener = listenerFor(task, index);
    const refused = task.refs && core.puts.take(task);
    if (refused) {
      core.routes.refused(!("engineId" in task.placement), refused);
      listener.done({ ok: false, error: refused });
      continue;
    }
    const { placement } = task;
    if (task.needs) {
      (held ??= []).push({
        task,
        listener: core.routes.add(
          task.taskId,
          core.dependencies,
          listener,
          "engineId" in placement ? placement.engineId : undefined,
        ),
      });
      continue;
    }
    if ("engineId" in placement) {
      const engine = core.supervisor.get(placement.engineId);
      if (direct === NONE) direct = [];
      direct.push([
        engine,
        task,
        core.routes.add(task.taskId, engine, listener, placement.engineId),
      ]);
      continue;
    }
    const { targets } = placement.balanced;
    if (targets !== targetList) {
      targetList = targets;
      targetSet = targets && new Set(targets);
    }
    balanced.push(
      scheduledTask(
        task,
        placement.balanced,
        core.routes.add(task.taskId, core.scheduler, listener),
        targetSet,
      ),
    );
  }
  for (const [engine, task, observer] of direct) {
    if (engine) {
      core.toEngine(engine, task, observer);
    } else {
      observer.done({ ok: false, error: core.noEngine(task) });
    }
  }
  if (balanced.length > 0) {
    core.scheduler.tell({ kind: "enqueue", tasks: balanced });
  }
  if (held) {
    for (const h of held) {
      try {
        core.dependencies.hold(h.task, h.listener);
      } catch (error) {
        // One task's needs must not leave the rest of its batch unheld.
        h.listener.done({
          ok: false,
          error: error instanceof Error ? error : new Error(String(error)),
        });
      }
    }
  }
}

/**
 * `observer`, whose `done` also tells `scheduler` that `engine`'s load
 * fell: it reads loads when told, not every engine on every pass.
 *
 * @example
 * ```ts
 * import { toldWhenDone } from "./task_submission.ts";
 * console.log(typeof toldWhenDone); // "function"
 * ```
 */
export function toldWhenDone(
  scheduler: Scheduler,
  engine: EngineActor,
  observer: TaskObserver,
): TaskObserver {
  return {
    started: () => observer.started(),
    stream: (name, text) => observer.stream(name, text),
    done: (outcome) => {
      observer.done(outcome);
      scheduler.tell({ kind: "changed", engine });
    },
  };
}

/** A direct task on its way to its engine (none: there is no such engine). */
type DirectTask = [EngineActor | undefined, SubmittedTask, TaskListener];
/** No direct task: shared, since most calls have none or only balanced. */
const NONE: DirectTask[] = [];

/**
 * Why a direct task for engine `task.placement.engineId` cannot run: the
 * cluster has no such engine (`ids` are the ones it has).
 *
 * @example
 * ```ts
 * import { noEngineError } from "./task_submission.ts";
 * const task = {
 *   taskId: 1, fn: { kind: "source" as const, source: "() => 1" }, args: [],
 *   placement: { engineId: 7 },
 * };
 * console.log(noEngineError(task, [0, 1]).message);
 * // there is no engine 7; the engines are [0,1]
 * ```
 */
export function noEngineError(
  task: SubmittedTask,
  ids: readonly number[],
): RangeError {
  const engineId = (task.placement as { engineId: number }).engineId;
  return new RangeError(
    `there is no engine ${engineId}; the engines are ${JSON.stringify(ids)}`,
  );
}
