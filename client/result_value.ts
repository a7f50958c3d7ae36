/**
 * What a finished `AsyncResult` resolves to: its tasks' outcomes made into
 * one value, or one error.
 *
 * @module
 */

import type { TaskOutcome } from "../cluster/cluster.ts";
import { CompositeError } from "../protocol/errors.ts";

/**
 * The value of finished tasks: a single task's value (or its error), the
 * values in task order, or for a map every item's value in item order (a
 * failed chunk keeps its items' places as `undefined`). When some failed,
 * a `CompositeError` holds their errors and the values that were computed.
 *
 * @example
 * ```ts
 * import { resultValue } from "./result_value.ts";
 * const ok = (value: unknown) => ({
 *   ok: true as const,
 *   value,
 *   started: 0,
 *   completed: 0,
 * });
 * console.log(resultValue([ok(1), ok(2)], false, undefined)); // [1, 2]
 * console.log(resultValue([ok([1, 2]), ok([3])], false, [2, 1])); // [1, 2, 3]
 * ```
 */
export function resultValue(
  outcomes: readonly TaskOutcome[],
  single: boolean,
  items: readonly number[] | undefined,
): unknown {
  if (single) {
    const o = outcomes[0];
    if (!o.ok) throw o.error;
    return o.value;
  }
  const errors = outcomes.flatMap((o) => o.ok ? [] : [o.error]);
  const values = items
    ? outcomes.flatMap((o, i) =>
      o.ok ? (o.value as unknown[]) : Array.from({ length: items[i] })
    )
    : outcomes.map((o) => o.ok ? o.value : undefined);
  if (errors.length > 0) {
    const of = items ? `${outcomes.length} tasks` : undefined;
    throw new CompositeError(errors, values, { of });
  }
  return values;
}

/**
 * `resultValue` of task records, which hold the outcomes: a single one is
 * read as it is, without an array of one.
 *
 * @example
 * ```ts
 * import { recordsValue } from "./result_value.ts";
 * const done = { outcome: { ok: true as const, value: 7, started: 0, completed: 0 } };
 * console.log(recordsValue([done], true, undefined)); // 7
 * ```
 */
export function recordsValue(
  records: readonly { outcome?: TaskOutcome }[],
  single: boolean,
  items: readonly number[] | undefined,
): unknown {
  if (single) {
    const outcome = records[0].outcome!;
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }
  return resultValue(records.map((r) => r.outcome!), false, items);
}
