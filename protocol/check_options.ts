/**
 * Checking the names in an options object, so that a misspelt option
 * (`{ worker: 2 }`, `{ chunksize: 2 }`) is an error instead of a default
 * that silently applies.
 *
 * @module
 */

/**
 * Every option name of `T`, each set to `true`. A list declared as
 * `const NAMES: OptionNames<T> = { ... }` cannot drift from `T`: the type
 * checker rejects one that lacks a field of `T` or has one that `T` lacks.
 *
 * @example
 * ```ts
 * import type { OptionNames } from "./check_options.ts";
 * interface Sizes { width?: number; height?: number }
 * const SIZES = { width: true, height: true };
 * ```
 */
export type OptionNames<T> = { readonly [K in keyof Required<T>]: true };

/**
 * Throws a `TypeError` if `options` has a name that `known` lacks: the
 * error names the unknown option, the closest known one if one is close,
 * and all the known ones. `undefined` passes; so does anything that is not
 * an object (the caller checks values, this checks names only).
 *
 * @example
 * ```ts
 * import { checkOptions } from "./check_options.ts";
 * const known = { chunkSize: true, ordered: true } as const;
 * checkOptions("mapAsync options", { chunkSize: 2 }, known); // passes
 * try {
 *   checkOptions("mapAsync options", { chunksize: 2 }, known);
 * } catch (error) {
 *   // unknown option "chunksize" in mapAsync options (did you mean
 *   // "chunkSize"?); the known options are chunkSize, ordered
 *   console.log((error as TypeError).message);
 * }
 * ```
 */
export function checkOptions(
  what: string,
  options: unknown,
  known: Readonly<Record<string, true>>,
): void {
  if (typeof options !== "object" || options === null) return;
  const names = Object.keys(known);
  for (const name of Object.keys(options)) {
    if (Object.hasOwn(known, name)) continue;
    const close = closest(name, names);
    throw new TypeError(
      `unknown option "${name}" in ${what}` +
        (close ? ` (did you mean "${close}"?)` : "") +
        `; the known options are ${names.join(", ")}`,
    );
  }
}

/**
 * The known name nearest to `name`, if it is near enough to be a typo: what
 * "did you mean" offers, for option names here and the CLI's flags.
 *
 * @example
 * ```ts
 * import { closest } from "./check_options.ts";
 * console.log(closest("worker", ["workers", "processes"])); // workers
 * ```
 */
export function closest(
  name: string,
  names: readonly string[],
): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = name.toLowerCase();
  for (const candidate of names) {
    const other = candidate.toLowerCase();
    // A name that the other contains ("host", "timeout") is as near as one
    // typo, however many letters are missing.
    const [short, long] = lower.length < other.length
      ? [lower, other]
      : [other, lower];
    const contained = short.length >= 3 && long.includes(short);
    const d = Math.min(distance(lower, other), contained ? 1 : Infinity);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  // Half the longer name may differ: "retry" is still "retries", while
  // "bogus" is nothing.
  if (best === undefined) return undefined;
  const limit = Math.ceil(Math.max(name.length, best.length) / 2);
  return bestDistance <= limit ? best : undefined;
}

/** Levenshtein distance: edits that turn `a` into `b`. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        previous[j] + 1,
        row[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = row;
  }
  return previous[b.length];
}
