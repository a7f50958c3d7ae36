/**
 * What a view checks of its tasks' arguments before it sends any: that
 * every value arrives as it left.
 *
 * @module
 */

import {
  ANY_ENGINE,
  type CrossingRules,
  ENGINE_PROCESS,
} from "../transport/crossable.ts";
import { checkCrossable } from "../transport/crossing_check.ts";

/**
 * How a view's tasks take their arguments, so that a refused value is named
 * as the caller wrote it.
 *
 * @example
 * ```ts
 * import type { ArgumentLayout } from "./check_arguments.ts";
 * const chunks: ArgumentLayout = { items: [3, 3, 2] }; // a map of 8 items
 * ```
 */
export interface ArgumentLayout {
  /**
   * A map's items per task: each task's arguments are then slices of the
   * sequences, one per sequence, and `items` says where each starts.
   */
  items?: readonly number[];
  /** The tasks set globals: their one argument is a `push` namespace. */
  pushed?: boolean;
  /**
   * `false` when some engine the tasks go to is an engine process, which
   * shares no memory with the client: a `SharedArrayBuffer` is refused at
   * the call then. Unknown (a load-balanced view) counts as `true`; the
   * engine process refuses it when the task is sent.
   */
  sharedMemory?: boolean;
}

/** The layout of tasks that take plain arguments. */
const PLAIN: ArgumentLayout = {};

/**
 * Refuses, before any task is sent, a value that would not arrive as it
 * left (`transport/crossable.ts`): a `TypeError` that names where it is,
 * what it is, what crosses and what to do. Every view checks its tasks
 * here, so the call throws and nothing runs, as for a function that cannot
 * be shipped.
 *
 * @example
 * ```ts
 * import { checkArguments } from "./check_arguments.ts";
 * checkArguments([[1, "two", { three: [3] }]]); // fine
 * try {
 *   checkArguments([[1, AbortSignal.timeout(10)]]);
 * } catch (error) {
 *   console.log((error as Error).message); // argument 2 is an AbortSignal, ...
 * }
 * ```
 */
export function checkArguments(
  argsPerTask: readonly (readonly unknown[])[],
  layout: ArgumentLayout = PLAIN,
): void {
  const { items, pushed } = layout;
  const rules = layout.sharedMemory === false ? ENGINE_PROCESS : ANY_ENGINE;
  let start = 0;
  let previous: readonly unknown[] | undefined;
  // A loop, not a closure: a tiny task is checked on every call.
  for (let task = 0; task < argsPerTask.length; task++) {
    const args = argsPerTask[task];
    const first = start;
    if (items) start += items[task];
    // A view's tasks often share one argument list: check it once.
    if (args === previous) continue;
    previous = args;
    if (items) {
      checkItems(args, first, args.length > 1, rules);
    } else if (pushed) {
      const namespace = args[0] as Record<string, unknown>;
      for (const name of Object.keys(namespace)) {
        checkCrossable(
          namespace[name],
          `the value pushed as "${name}"`,
          rules,
        );
      }
    } else {
      for (let i = 0; i < args.length; i++) {
        checkCrossable(args[i], `argument ${i + 1}`, rules);
      }
    }
  }
}

/** A map's slices: items are numbered as in the whole sequence. */
function checkItems(
  slices: readonly unknown[],
  start: number,
  several: boolean,
  rules: CrossingRules,
): void {
  slices.forEach((slice, k) => {
    if (ArrayBuffer.isView(slice)) return; // Numbers only.
    const seq = slice as ArrayLike<unknown>;
    const of = several ? ` of sequence ${k + 1}` : "";
    for (let i = 0; i < seq.length; i++) {
      checkCrossable(seq[i], `item ${start + i}${of}`, rules);
    }
  });
}
