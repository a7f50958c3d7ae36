/**
 * What a held task becomes once its dependencies have ended
 * (dependencies.ts): its arguments made of their values, its placement
 * narrowed to the engine its `follow` ran on and its `timeoutMs` to what
 * is left since submission; or why it cannot run.
 *
 * @module
 */

import { UnmetDependencyError } from "../protocol/errors.ts";
import type { SubmittedTask } from "./cluster.ts";
import { needsError } from "./needs_check.ts";
import type { EndedTask } from "./task_needs.ts";

/**
 * `task` as it runs, from the ends of the tasks it read (`ends`), or the
 * `UnmetDependencyError` that fails it. `deadline` is when its balanced
 * `timeoutMs` runs out (`performance.now()` time); `engineGone` says why
 * an engine can take no task any more.
 *
 * @example
 * ```ts
 * import { placedTask } from "./held_placement.ts";
 * const task = {
 *   taskId: 2, fn: { kind: "source" as const, source: "(x) => x" }, args: [null],
 *   placement: { balanced: { retries: 0 } },
 *   needs: { args: [{ index: 0, tasks: [1], shape: "one" as const }], follow: [1] },
 * };
 * const ends = new Map([[1, {
 *   outcome: { ok: true as const, value: 7, started: 0, completed: 1 },
 *   engineId: 3,
 * }]]);
 * const placed = placedTask(task, ends, undefined, () => undefined);
 * console.log(placed); // { taskId: 2, ..., args: [7], placement: { balanced: { retries: 0, targets: [3] } } }
 * ```
 */
export function placedTask(
  task: SubmittedTask,
  ends: ReadonlyMap<number, EndedTask> | undefined,
  deadline: number | undefined,
  engineGone: (engineId: number) => string | undefined,
): SubmittedTask | Error {
  const needs = task.needs!;
  let args = task.args;
  if (needs.args) {
    // Checked at hold; again here, since an embedded caller may call this.
    const refused = needsError(task);
    if (refused) return refused;
    args = [...args];
    for (const arg of needs.args) {
      const values = arg.tasks.map((id, at) =>
        arg.ready && at in arg.ready
          ? arg.ready[at]
          : (ends!.get(id)!.outcome as { value: unknown }).value
      );
      // A map's chunks are arrays: one that is not has no items to join.
      const notList = arg.shape === "items"
        ? values.findIndex((v) => !Array.isArray(v))
        : -1;
      if (notList >= 0) {
        return new UnmetDependencyError({
          taskId: task.taskId,
          dependency: arg.tasks[notList],
          argument: arg.index,
          why: `succeeded, but its value (${
            describe(values[notList])
          }) is not an array of items`,
        });
      }
      let value = arg.shape === "one"
        ? values[0]
        : arg.shape === "list"
        ? values
        : values.flat();
      if (arg.item !== undefined) {
        // A wire client or an `ar.item(i)` of a task whose value is not
        // an array: fail this dependent alone, never the caller.
        if (!Array.isArray(value) || arg.item >= value.length) {
          return new UnmetDependencyError({
            taskId: task.taskId,
            dependency: arg.tasks[0],
            argument: arg.index,
            why: `succeeded, but its value has no item ${arg.item} (${
              Array.isArray(value)
                ? `an array of ${value.length}`
                : describe(value)
            })`,
          });
        }
        value = value[arg.item];
      }
      args[arg.index] = value;
    }
  }
  let placement = task.placement;
  if ("balanced" in placement) {
    let { timeoutMs } = placement.balanced;
    if (deadline !== undefined) {
      timeoutMs = Math.max(0, deadline - performance.now());
    }
    const engineId = followed(task, ends, engineGone);
    if (engineId instanceof Error) return engineId;
    const targets = placement.balanced.targets;
    if (
      engineId !== undefined && targets !== undefined &&
      !targets.includes(engineId)
    ) {
      return unmet(
        task,
        needs.follow?.[0] ?? task.taskId,
        `ran on engine ${engineId}, which is not among the view's ` +
          `engines (${JSON.stringify(targets)})`,
      );
    }
    placement = {
      balanced: {
        ...placement.balanced,
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
        ...(engineId === undefined ? {} : { targets: [engineId] }),
      },
    };
  }
  const { needs: _, ...rest } = task;
  return { ...rest, args, placement };
}

/** The one engine every followed task ran on, or why there is none. */
function followed(
  task: SubmittedTask,
  ends: ReadonlyMap<number, EndedTask> | undefined,
  engineGone: (engineId: number) => string | undefined,
): number | undefined | Error {
  const needs = task.needs!;
  if (!needs.follow?.length && needs.on === undefined) return undefined;
  let engineId = needs.on;
  let first: number | undefined;
  for (const id of needs.follow ?? []) {
    const ran = ends!.get(id)!.engineId;
    if (ran === undefined) return unmet(task, id, "never reached an engine");
    if (engineId !== undefined && ran !== engineId) {
      const other = first === undefined ? "a task it follows" : `task ${first}`;
      return unmet(
        task,
        id,
        `ran on engine ${ran}, and ${other} on engine ${engineId}: no ` +
          "engine is where every task it follows ran",
      );
    }
    engineId = ran;
    first ??= id;
  }
  const gone = engineGone(engineId!);
  if (gone === undefined) return engineId;
  return unmet(
    task,
    needs.onTask ?? first ?? needs.follow?.[0] ?? task.taskId,
    `ran on engine ${engineId}, which ${gone}: follow needs the engine ` +
      "that ran the task it follows",
  );
}

function describe(value: unknown): string {
  return value === null ? "null" : `a value of type ${typeof value}`;
}

function unmet(task: SubmittedTask, dependency: number, why: string): Error {
  return new UnmetDependencyError({ taskId: task.taskId, dependency, why });
}
