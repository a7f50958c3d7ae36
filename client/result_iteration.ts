/**
 * How an `AsyncResult` iterates: its tasks' values as they arrive, in task
 * order or in the order the tasks finished.
 *
 * @module
 */

import type { TaskRecord } from "./task_record.ts";

/**
 * The values of `records` as they finish: in task order, or, given
 * `completionOrder` (the indexes of the records as they finished, which
 * grows in place), in that order. A map's task (`mapped`) gives an array of
 * values, yielded one by one. Throws the first error reached. `changed`
 * resolves when one more record has finished: a reader waits on it only
 * when the next value is not there yet.
 *
 * @example
 * ```ts
 * import { recordValues } from "./result_iteration.ts";
 * import { TaskRecord } from "./task_record.ts";
 * const record = new TaskRecord(0, 1, { published() {}, finished() {} });
 * record.done({ ok: true, value: [1, 2], started: 0, completed: 1 });
 * const seen: unknown[] = [];
 * for await (const v of recordValues([record], undefined, true, async () => {})) {
 *   seen.push(v);
 * }
 * console.log(seen); // [1, 2]
 * ```
 */
export async function* recordValues(
  records: readonly TaskRecord[],
  completionOrder: readonly number[] | undefined,
  mapped: boolean,
  changed: () => Promise<void>,
): AsyncGenerator<unknown, void, undefined> {
  let next = 0;
  while (next < records.length) {
    const index = completionOrder ? completionOrder[next] : next;
    const record = index === undefined ? undefined : records[index];
    if (!record?.outcome) {
      await changed();
      continue;
    }
    next++;
    const outcome = record.outcome;
    if (!outcome.ok) throw outcome.error;
    if (mapped) yield* outcome.value as unknown[];
    else yield outcome.value;
  }
}
