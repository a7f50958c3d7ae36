/**
 * The history's options: where its file is and what it keeps, checked.
 *
 * @module
 */

import { checkOptions, type OptionNames } from "../protocol/check_options.ts";
import type { HistoryLimits } from "./history_live.ts";

/**
 * Where the history is and what it keeps.
 *
 * @example
 * ```ts
 * import type { HistoryOptions } from "@troupe/parallel/controller";
 * const options: HistoryOptions = { path: ":memory:", maxTasks: 1000 };
 * ```
 */
export interface HistoryOptions {
  /** The database file; ":memory:" for none. */
  path: string;
  /** Finished tasks kept, default 100 000: the oldest finished go first. */
  maxTasks?: number;
  /** Finished tasks older than this go (by completed time); default none. */
  maxAgeMs?: number;
  /**
   * Publications kept per task, default 100: the last ones. The merged
   * data always has every key's newest value, and the count of all
   * publications is kept.
   */
  maxPublicationsPerTask?: number;
  /**
   * Default 16 MiB: arguments, a value, merged data or a publication
   * larger than this, encoded, are not stored; `notKept` says which and
   * why. An error larger than this is stored without its stacks if that
   * fits (its class and fields are what a dependent and a replay need).
   */
  maxValueBytes?: number;
  /**
   * Default 1 MiB of stdout and stderr together per task; the rest is cut,
   * with a note at the end.
   */
  maxStreamBytes?: number;
  /** Default 50: writes are buffered and flushed in one transaction. */
  flushMs?: number;
}

const OPTION_NAMES: OptionNames<HistoryOptions> = {
  path: true,
  maxTasks: true,
  maxAgeMs: true,
  maxPublicationsPerTask: true,
  maxValueBytes: true,
  maxStreamBytes: true,
  flushMs: true,
};

/**
 * `options` checked, with the defaults filled in. A misspelt option or a
 * value that is no count is a `TypeError` that says what to give.
 *
 * @example
 * ```ts
 * import { historySettings } from "./history_options.ts";
 * const { limits } = historySettings({ path: ":memory:" });
 * console.log(limits.maxTasks, limits.maxPublicationsPerTask); // 100000 100
 * ```
 */
export function historySettings(options: HistoryOptions): {
  path: string;
  limits: HistoryLimits;
  flushMs: number;
} {
  checkOptions("the history's options", options, OPTION_NAMES);
  const path = options?.path;
  if (typeof path !== "string" || path === "") {
    throw new TypeError(
      'the history needs a path: a database file, or ":memory:" for none',
    );
  }
  const limits: HistoryLimits = {
    maxTasks: count(options, "maxTasks", 100_000),
    maxAgeMs: options.maxAgeMs === undefined
      ? undefined
      : count(options, "maxAgeMs", 0),
    maxPublicationsPerTask: count(options, "maxPublicationsPerTask", 100),
    maxValueBytes: count(options, "maxValueBytes", 16 * 2 ** 20),
    maxStreamBytes: count(options, "maxStreamBytes", 2 ** 20),
  };
  const flushMs = options.flushMs ?? 50;
  if (typeof flushMs !== "number" || !(flushMs >= 0)) {
    throw new TypeError(
      `the history's flushMs must be a number of ms, 0 or more, got ${
        String(flushMs)
      }`,
    );
  }
  return { path, limits, flushMs };
}

/** A limit of `options`: a whole number, 0 or more, or its default. */
function count(
  options: HistoryOptions,
  name: keyof HistoryLimits,
  fallback: number,
): number {
  const value = options[name] ?? fallback;
  if (!Number.isInteger(value) || value < 0) {
    throw new TypeError(
      `the history's ${name} must be a whole number, 0 or more, got ${
        String(value)
      }`,
    );
  }
  return value;
}
