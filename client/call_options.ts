/**
 * `CallOptions`: what one call of a view carries besides its function and
 * arguments (`view.with(options)`, or `mapAsync`'s last argument).
 *
 * @module
 */

import { AsyncResult } from "./async_result.ts";
import { ResultItem } from "./result_item.ts";
import { checkOptions, type OptionNames } from "./options.ts";
import { parseTraceparent } from "../observe/span.ts";

/**
 * A task's result that another task waits for (`after`, `follow`): a whole
 * result (every one of its tasks), or one item of one (`ar.item(i)`: the
 * task that computes it).
 *
 * @example
 * ```ts
 * import { Client, type Dependency } from "@troupe/parallel";
 * await using client = await Client.start({ workers: 1 });
 * const first: Dependency = client.loadBalancedView().applyAsync(() => 1);
 * await first;
 * ```
 */
export type Dependency = AsyncResult<unknown> | ResultItem<unknown>;

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
  /**
   * Results the call's tasks wait for (ipyparallel's `after`): each task
   * starts only once every task of these has finished successfully; till
   * then it counts as queued, and `abort()` and the view's `timeoutMs`
   * (counted from submission) apply. One that failed or was aborted fails
   * it with an `UnmetDependencyError` whose `cause` is that task's error.
   */
  after?: readonly Dependency[];
  /**
   * Results whose engine the call's tasks run on (ipyparallel's `follow`,
   * with all=True): every task of these must have run on one engine, and
   * the task waits for them as for `after`. An engine restarted under its
   * id counts as that engine. If they ran on different engines, or one
   * never reached an engine, or that engine has stopped for good (given
   * up, retired) or is not among the view's, the task fails with an
   * `UnmetDependencyError`.
   */
  follow?: readonly Dependency[];
  /**
   * What a task does when an `after` or `follow` dependency failed: fail
   * with an `UnmetDependencyError` (the default), or run anyway. A result
   * given as an argument that failed always fails the task: there is no
   * value to run with.
   */
  onDependencyFailure?: "fail" | "run";
  /**
   * A W3C `traceparent` (`00-<trace id>-<span id>-<flags>`): on a client
   * with `tracing`, the call's span is a child of that span, so the call's
   * tasks nest in your own trace; without it each call is a root. Ignored
   * when the client does not trace.
   */
  traceparent?: string;
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
  traceparent: true,
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
      // One result where a list goes is the likely slip: say the fix.
      const one = list instanceof AsyncResult || list instanceof ResultItem;
      throw new TypeError(
        `${name} in ${what} must be an array of AsyncResults, got ` +
          (one ? `one, not in an array: write ${name}: [ar]` : describe(list)),
      );
    }
    const bad = list.findIndex((d) =>
      !(d instanceof AsyncResult || d instanceof ResultItem)
    );
    if (bad >= 0) {
      throw new TypeError(
        `${name}[${bad}] in ${what} must be an AsyncResult (what a view's ` +
          "applyAsync or mapAsync returned) or an item of one " +
          `(ar.item(i)), got ${describe(list[bad])}`,
      );
    }
  }
  const traceparent = call.traceparent;
  if (
    traceparent !== undefined &&
    (typeof traceparent !== "string" || !parseTraceparent(traceparent))
  ) {
    throw new TypeError(
      `traceparent in ${what} must be a W3C traceparent, "00-" then a ` +
        "trace id of 32 and a span id of 16 lowercase hex digits and the " +
        `flags ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), ` +
        `got ${describe(traceparent)}`,
    );
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
    const type = value.constructor?.name ?? "object";
    return `${/^[aeiou]/i.test(type) ? "an" : "a"} ${type}`;
  }
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}
