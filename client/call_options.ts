/**
 * `CallOptions`: what one call of a view carries besides its function and
 * arguments (`view.with(options)`, or `mapAsync`'s last argument).
 *
 * @module
 */

import { AsyncResult } from "./async_result.ts";
import { checkOptions, type OptionNames } from "./options.ts";

/**
 * A task's result that another task waits for (`after`, `follow`).
 *
 * @example
 * ```ts
 * import { Client, type Dependency } from "@troupe/parallel";
 * await using client = await Client.start({ workers: 1 });
 * const first: Dependency = client.loadBalancedView().applyAsync(() => 1);
 * await first;
 * ```
 */
// TODO(dependencies): add ResultItem<unknown> (one item of a map) once it
// exists.
export type Dependency = AsyncResult<unknown>;

/**
 * What the calls of a view made by `view.with(options)` carry: an abort
 * signal on every view; dependencies on a load-balanced view only.
 *
 * @example
 * ```ts
 * import { Client, type CallOptions } from "@troupe/parallel";
 * await using client = await Client.start({ workers: 1 });
 * const controller = new AbortController();
 * const call: CallOptions = { signal: controller.signal };
 * const ar = client.loadBalancedView().with(call).applyAsync(() => 1);
 * console.log(await ar); // 1
 * ```
 */
export interface CallOptions {
  /** Aborting it aborts the call's tasks, as `ar.abort()` does. */
  signal?: AbortSignal;
  /** Results the call's tasks wait for before they start. */
  after?: readonly Dependency[];
  /** Results whose engines the call's tasks run on. */
  follow?: readonly Dependency[];
  /**
   * What a task does when a dependency failed: fail too (the default), or
   * run anyway.
   */
  onDependencyFailure?: "fail" | "run";
}

/**
 * The names of `CallOptions`, checked by `checkOptions`.
 *
 * @example
 * ```ts
 * import { CALL_OPTIONS } from "./call_options.ts";
 * import { checkOptions } from "./options.ts";
 * checkOptions("with options", { signal: AbortSignal.abort() }, CALL_OPTIONS);
 * ```
 */
export const CALL_OPTIONS: OptionNames<CallOptions> = {
  signal: true,
  after: true,
  follow: true,
  onDependencyFailure: true,
};

/** The call options that only a load-balanced view takes. */
const DEPENDENCY_OPTIONS = ["after", "follow", "onDependencyFailure"] as const;

/**
 * Throws a `TypeError` naming the option if `options` is not call options
 * for a view of this kind: an unknown name, a wrong value, or (`direct`)
 * a dependency, which only a load-balanced view can honour.
 *
 * @example
 * ```ts
 * import { checkCallOptions } from "./call_options.ts";
 * checkCallOptions("with options", { signal: AbortSignal.abort() }, "direct");
 * try {
 *   checkCallOptions("with options", { after: [] }, "direct");
 * } catch (error) {
 *   console.log((error as TypeError).message); // dependencies are for load-balanced views ...
 * }
 * ```
 */
export function checkCallOptions(
  what: string,
  options: unknown,
  view: "direct" | "balanced",
  known: Readonly<Record<string, true>> = CALL_OPTIONS,
): asserts options is CallOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${what} must be an object, got ${describe(options)}`);
  }
  checkOptions(what, options, known);
  const call = options as CallOptions;
  if (view === "direct") {
    const given = DEPENDENCY_OPTIONS.filter((n) => call[n] !== undefined);
    if (given.length > 0) {
      throw new TypeError(
        `${given.join(", ")} in ${what}: dependencies are for load-balanced ` +
          "views (a direct view's tasks go to engines you chose); use " +
          "client.loadBalancedView().with(...)",
      );
    }
  }
  if (call.signal !== undefined && !(call.signal instanceof AbortSignal)) {
    throw new TypeError(
      `signal in ${what} must be an AbortSignal (AbortController's ` +
        `signal), got ${describe(call.signal)}`,
    );
  }
  for (const name of ["after", "follow"] as const) {
    const list = call[name];
    if (list === undefined) continue;
    if (!Array.isArray(list)) {
      throw new TypeError(
        `${name} in ${what} must be an array of AsyncResults, got ` +
          describe(list),
      );
    }
    const bad = list.findIndex((d) => !(d instanceof AsyncResult));
    if (bad >= 0) {
      throw new TypeError(
        `${name}[${bad}] in ${what} must be an AsyncResult (what a view's ` +
          `applyAsync or mapAsync returned), got ${describe(list[bad])}`,
      );
    }
  }
  const failure = call.onDependencyFailure;
  if (failure !== undefined && failure !== "fail" && failure !== "run") {
    throw new TypeError(
      `onDependencyFailure in ${what} must be "fail" or "run", got ` +
        describe(failure),
    );
  }
}

/**
 * The call options of `view.with(a).with(b)`: `b`'s fields win, and a field
 * `b` leaves `undefined` keeps `a`'s.
 *
 * @example
 * ```ts
 * import { mergeCallOptions } from "./call_options.ts";
 * const signal = AbortSignal.abort();
 * console.log(mergeCallOptions({ signal }, { onDependencyFailure: "run" }));
 * // { signal, onDependencyFailure: "run" }
 * ```
 */
export function mergeCallOptions(
  base: CallOptions,
  next: CallOptions,
): CallOptions {
  const merged: CallOptions = { ...base };
  for (const name of Object.keys(CALL_OPTIONS) as (keyof CallOptions)[]) {
    if (next[name] !== undefined) {
      (merged as Record<string, unknown>)[name] = next[name];
    }
  }
  return merged;
}

/**
 * The call options among a map's options object (`mapAsync`'s last
 * argument), without the map's own fields.
 *
 * @example
 * ```ts
 * import { pickCallOptions } from "./call_options.ts";
 * const signal = AbortSignal.abort();
 * console.log(pickCallOptions({ chunkSize: 2, signal })); // { signal }
 * ```
 */
export function pickCallOptions(options: object): CallOptions {
  const picked: Record<string, unknown> = {};
  for (const name of Object.keys(CALL_OPTIONS)) {
    const value = (options as Record<string, unknown>)[name];
    if (value !== undefined) picked[name] = value;
  }
  return picked as CallOptions;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") {
    return `a ${value.constructor?.name ?? "object"}`;
  }
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}
