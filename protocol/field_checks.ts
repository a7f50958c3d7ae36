/**
 * The field checks that the checks of messages from engines
 * (`validate.ts`) and from clients (controller/to_controller_check.ts)
 * are made of: each says what a field must be, or nothing when it fits.
 *
 * @module
 */

/**
 * Says what is wrong with a field's value, or nothing when it fits.
 *
 * @example
 * ```ts
 * import type { Check } from "./field_checks.ts";
 * const even: Check = (v) => v === 2 ? undefined : "an even number";
 * console.log(even(3)); // an even number
 * ```
 */
export type Check = (value: unknown) => string | undefined;

/**
 * Whether `value` is an object of named values (not null, not an array).
 *
 * @example
 * ```ts
 * import { isRecord } from "./field_checks.ts";
 * console.log(isRecord({ a: 1 }), isRecord([1]), isRecord(null)); // true false false
 * ```
 */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * A string.
 *
 * @example
 * ```ts
 * import { text } from "./field_checks.ts";
 * console.log(text("x"), text(1)); // undefined a string
 * ```
 */
export function text(value: unknown): string | undefined {
  return typeof value === "string" ? undefined : "a string";
}

/**
 * A whole number >= 0.
 *
 * @example
 * ```ts
 * import { count } from "./field_checks.ts";
 * console.log(count(0), count(-1)); // undefined a whole number >= 0
 * ```
 */
export function count(value: unknown): string | undefined {
  return Number.isSafeInteger(value) && (value as number) >= 0
    ? undefined
    : "a whole number >= 0";
}

/**
 * A task id: a whole number > 0.
 *
 * @example
 * ```ts
 * import { taskId } from "./field_checks.ts";
 * console.log(taskId(1), taskId(0)); // undefined a task id, a whole number > 0
 * ```
 */
export function taskId(value: unknown): string | undefined {
  return Number.isSafeInteger(value) && (value as number) > 0
    ? undefined
    : "a task id, a whole number > 0";
}

/**
 * An object of named values.
 *
 * @example
 * ```ts
 * import { record } from "./field_checks.ts";
 * console.log(record({}), record([])); // undefined an object of named values
 * ```
 */
export function record(value: unknown): string | undefined {
  return isRecord(value) ? undefined : "an object of named values";
}

/**
 * `check`, or nothing at all.
 *
 * @example
 * ```ts
 * import { optional, text } from "./field_checks.ts";
 * console.log(optional(text)(undefined), optional(text)(1)); // undefined a string
 * ```
 */
export function optional(check: Check): Check {
  return (value) => value === undefined ? undefined : check(value);
}
