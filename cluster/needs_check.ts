/**
 * Whether a task's `needs` can be held at all, checked before the core
 * holds it: a need found wrong halfway through would leave the task held
 * with no one to release it (a wire client can send anything the wire
 * check lets through, and an embedded caller skips that check).
 *
 * @module
 */

import type { SubmittedTask } from "./cluster.ts";

/**
 * Why `task`'s argument needs cannot be met, or `undefined` if they can:
 * each names one of the task's arguments, `item` only of a `list` or
 * `items` value, and `ready` is a record of positions in its `tasks`.
 *
 * @example
 * ```ts
 * import { needsError } from "./needs_check.ts";
 * const error = needsError({
 *   taskId: 2, fn: { kind: "source", source: "(x) => x" }, args: [null],
 *   placement: { balanced: { retries: 0 } },
 *   needs: { args: [{ index: 5, tasks: [1], shape: "one" }] },
 * });
 * console.log(error?.message); // "task 2 needs a value for argument 5, ..."
 * ```
 */
export function needsError(task: SubmittedTask): RangeError | undefined {
  for (const arg of task.needs?.args ?? []) {
    if (
      !Number.isSafeInteger(arg.index) || arg.index < 0 ||
      arg.index >= task.args.length
    ) {
      // A far index would make a sparse array as long as it, which a
      // process engine's encoding fills in densely.
      return new RangeError(
        `task ${task.taskId} needs a value for argument ${arg.index}, ` +
          `but it has ${task.args.length} arguments: an argument's need ` +
          "names one of the task's own arguments",
      );
    }
    if (
      arg.item !== undefined &&
      (!Number.isSafeInteger(arg.item) || arg.item < 0 || arg.shape === "one")
    ) {
      return new RangeError(
        `task ${task.taskId}'s argument ${arg.index} takes item ` +
          `${arg.item} of a "${arg.shape}" value: an item is a whole ` +
          'number >= 0 of a "list" or "items" value',
      );
    }
    const { ready } = arg;
    if (ready === undefined) continue;
    const positions = typeof ready === "object" && ready !== null &&
      !Array.isArray(ready) && Object.keys(ready);
    const bad = !positions || positions.some((key) => {
      const at = Number(key);
      return !Number.isSafeInteger(at) || at < 0 || at >= arg.tasks.length ||
        String(at) !== key;
    });
    if (bad) {
      return new RangeError(
        `task ${task.taskId}'s argument ${arg.index} has values ready that ` +
          "are not a record of positions in its tasks (0 to " +
          `${arg.tasks.length - 1}): send { position: value } or none`,
      );
    }
  }
  return undefined;
}
