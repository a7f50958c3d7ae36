/**
 * The options of a load-balanced view (`client.loadBalancedView(options)`)
 * and of its maps (`mapAsync`'s last argument), and their checks.
 *
 * @module
 */

import { CALL_OPTIONS, type CallOptions } from "./call_options.ts";
import type { OptionNames } from "./options.ts";

/**
 * How a load-balanced view runs its tasks.
 *
 * @example
 * ```ts
 * import { Client, type LoadBalancedOptions } from "@troupe/parallel";
 * const patient: LoadBalancedOptions = { retries: 2, timeoutMs: 60_000 };
 * await using client = await Client.start({ workers: 1 });
 * const lv = client.loadBalancedView(patient);
 * ```
 */
export interface LoadBalancedOptions {
  /**
   * How often a task whose engine died runs again on another engine.
   * Defaults to 0: it fails with the `EngineError`.
   */
  retries?: number;
  /**
   * A task that has not started this many ms after submission fails with
   * a `TimeoutError`. Defaults to none.
   */
  timeoutMs?: number;
  /**
   * How many of this view's tasks an engine may hold at once (running and
   * waiting). 1 (ipyparallel's `hwm`) keeps every waiting task here, free
   * to go to whichever engine frees up first; more hides the round trip
   * between tiny tasks, at the cost of tasks waiting behind a slow one.
   *
   * Unset (the default), it adapts to the measured task durations against
   * the round trip to the engines: 1 for tasks as long as a round trip or
   * longer, as ipyparallel; `1 + roundTrip / duration` for shorter ones (up
   * to 64), given only to an engine that has just finished a task, so that
   * none waits behind a task that may be long. Set `highWaterMark: 1` to
   * keep ipyparallel's rule for every task.
   */
  highWaterMark?: number;
  /**
   * How many of this view's tasks may wait to start at once (queued, or
   * waiting for their dependencies), counted over the view and the views
   * its `with()` makes. A call that would pass it throws a `QueueFullError`
   * at once and submits nothing (piscina's `maxQueue`). A whole number
   * >= 1, or `Infinity` (the default: no limit).
   */
  maxQueue?: number;
}

/**
 * The names of `LoadBalancedOptions`, checked by `checkOptions`.
 *
 * @example
 * ```ts
 * import { LOAD_BALANCED_OPTIONS } from "./load_balanced_options.ts";
 * import { checkOptions } from "./options.ts";
 * checkOptions("loadBalancedView options", { retries: 1 }, LOAD_BALANCED_OPTIONS);
 * ```
 */
export const LOAD_BALANCED_OPTIONS: OptionNames<LoadBalancedOptions> = {
  retries: true,
  timeoutMs: true,
  highWaterMark: true,
  maxQueue: true,
};

/**
 * How `mapAsync` splits and returns its work.
 *
 * @example
 * ```ts
 * import { Client, type MapOptions } from "@troupe/parallel";
 * const options: MapOptions = { chunkSize: 100, ordered: false };
 * await using client = await Client.start({ workers: 2 });
 * const lv = client.loadBalancedView();
 * const squares = await lv.mapSync((x: number) => x * x, [1, 2, 3], options);
 * console.log(squares.sort((a, b) => a - b)); // [1, 4, 9], in any order before the sort
 * ```
 */
export interface MapOptions extends CallOptions {
  /**
   * Items per task. Defaults to enough for about 8 tasks per engine (at
   * most 1000 items), so that many tiny items cost few round trips.
   */
  chunkSize?: number;
  /** Iterate results in input order (the default), or as they complete. */
  ordered?: boolean;
}

/**
 * The names of `MapOptions` (the call options among them), checked by
 * `checkOptions`.
 *
 * @example
 * ```ts
 * import { MAP_OPTIONS } from "./load_balanced_options.ts";
 * import { checkOptions } from "./options.ts";
 * checkOptions("mapAsync options", { chunkSize: 10 }, MAP_OPTIONS);
 * ```
 */
export const MAP_OPTIONS: OptionNames<MapOptions> = {
  chunkSize: true,
  ordered: true,
  ...CALL_OPTIONS,
};

/**
 * Throws a `TypeError` unless `ordered` is a boolean or absent: a string
 * `"false"` would otherwise read as ordered.
 *
 * @example
 * ```ts
 * import { checkOrdered } from "./load_balanced_options.ts";
 * checkOrdered("mapAsync options", false); // passes
 * ```
 */
export function checkOrdered(where: string, ordered: unknown): void {
  if (ordered !== undefined && typeof ordered !== "boolean") {
    throw new TypeError(
      `${where}: ordered must be true or false, got ${
        typeof ordered === "string" ? JSON.stringify(ordered) : typeof ordered
      }`,
    );
  }
}

/**
 * Throws a `RangeError` naming the option whose value a load-balanced view
 * cannot take.
 *
 * @example
 * ```ts
 * import { checkLoadBalancedValues } from "./load_balanced_options.ts";
 * checkLoadBalancedValues({ retries: 2, maxQueue: 100 }); // passes
 * ```
 */
export function checkLoadBalancedValues(options: LoadBalancedOptions): void {
  const { retries, timeoutMs, highWaterMark, maxQueue } = options;
  if (
    maxQueue !== undefined && maxQueue !== Infinity &&
    (!Number.isInteger(maxQueue) || maxQueue < 1)
  ) {
    throw new RangeError(
      `maxQueue must be a whole number >= 1 or Infinity, got ${maxQueue}`,
    );
  }
  if (
    highWaterMark !== undefined &&
    (!Number.isInteger(highWaterMark) || highWaterMark < 1)
  ) {
    throw new RangeError(
      `highWaterMark must be a whole number >= 1, got ${highWaterMark}`,
    );
  }
  if (retries !== undefined && (!Number.isInteger(retries) || retries < 0)) {
    throw new RangeError(`retries must be a whole number >= 0, got ${retries}`);
  }
  if (timeoutMs !== undefined && !(timeoutMs >= 0)) {
    throw new RangeError(`timeoutMs must be >= 0, got ${timeoutMs}`);
  }
}
