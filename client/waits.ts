/**
 * Waiting on many results at once: `client.wait(results, options)`
 * (concurrent.futures' `wait`, ipyparallel's `client.wait`) and
 * `asCompleted(results)` (concurrent.futures' and Dask's `as_completed`).
 * Both hear each result's end through a hook they remove when they return
 * (a poll such as `while (notDone) wait(results, { timeoutMs: 1000 })`
 * leaves nothing on the results), and neither observes an outcome: a
 * failure nobody reads is still reported. One timer per call at most.
 *
 * @module
 */

import { within } from "../actors/async.ts";
import { TimeoutError } from "../protocol/errors.ts";
import { show } from "../protocol/validate.ts";
import { AsyncResult } from "./async_result.ts";
import { resultParts } from "./result_item.ts";
import { checkOptions, type OptionNames } from "./options.ts";

/**
 * When `client.wait` returns: once every result has finished (`"all"`,
 * concurrent.futures' `ALL_COMPLETED`), once any has (`"first"`,
 * `FIRST_COMPLETED`), or once any has failed, else when all have
 * finished (`"firstError"`, `FIRST_EXCEPTION`).
 *
 * @example
 * ```ts
 * import type { ReturnWhen } from "@troupe/parallel";
 * const soonest: ReturnWhen = "first";
 * ```
 */
export type ReturnWhen = "all" | "first" | "firstError";

/**
 * How long `client.wait` waits, and for what.
 *
 * @example
 * ```ts
 * import type { WaitOptions } from "@troupe/parallel";
 * const options: WaitOptions = { timeoutMs: 5_000, returnWhen: "firstError" };
 * ```
 */
export interface WaitOptions {
  /** Returns after this many ms with what is done by then. No limit by default. */
  timeoutMs?: number;
  /** What it waits for; `"all"` by default. */
  returnWhen?: ReturnWhen;
}

/**
 * What `client.wait` resolves with: the results given, split into those
 * that finished (succeeded or failed) and those that did not, each in the
 * order given.
 *
 * @example
 * ```ts
 * import type { AsyncResult, WaitResult } from "@troupe/parallel";
 * const allDone = (w: WaitResult<AsyncResult<unknown>>) => w.notDone.length === 0;
 * ```
 */
export interface WaitResult<R> {
  /** The results that finished, in the order given. */
  done: R[];
  /** The results still running, in the order given. */
  notDone: R[];
}

const WAIT_FOR_OPTIONS: OptionNames<WaitOptions> = {
  timeoutMs: true,
  returnWhen: true,
};

const AS_COMPLETED_OPTIONS: OptionNames<{ timeoutMs?: number }> = {
  timeoutMs: true,
};

const RETURN_WHEN: readonly ReturnWhen[] = ["all", "first", "firstError"];

/**
 * Waits until `results` meet `returnWhen`, or `timeoutMs` passes, and
 * resolves with which are done: what `client.wait` does. It never
 * rejects for a task's failure (it waits, it does not get) nor for the
 * timeout (as concurrent.futures' `wait`), and it does not count as
 * looking at the outcome: a failure that nobody awaits or reads is still
 * reported as unobserved. Any `timeoutMs` ≥ 0 works, past a timer's range
 * too. Bad arguments reject with a `TypeError` or `RangeError` that names
 * them.
 *
 * @example
 * ```ts
 * import { Client } from "@troupe/parallel";
 * import { waitFor } from "./waits.ts";
 * await using client = await Client.start({ workers: 1 });
 * const ar = client.view(0).applyAsync(() => 1);
 * const { done, notDone } = await waitFor([ar]);
 * console.log(done.length, notDone.length); // 1 0
 * ```
 */
export async function waitFor<R extends AsyncResult<unknown>>(
  results: Iterable<R>,
  options: WaitOptions = {},
): Promise<WaitResult<R>> {
  const list = checkResults("client.wait", results);
  checkObject("client.wait", "{ timeoutMs, returnWhen }", options);
  checkOptions("client.wait options", options, WAIT_FOR_OPTIONS);
  const timeoutMs = checkTimeout("client.wait", options.timeoutMs);
  const returnWhen = options.returnWhen ?? "all";
  if (!RETURN_WHEN.includes(returnWhen)) {
    throw new RangeError(
      `returnWhen in client.wait options must be "all", "first" or ` +
        `"firstError", got ${show(returnWhen)}`,
    );
  }
  // Counted as results finish, not looked for in the whole list each time:
  // a wait on 100 000 results costs O(n), not O(n^2).
  let finished = 0;
  let failures = 0;
  const met = (): boolean =>
    finished === list.length ||
    (returnWhen === "first" && finished > 0) ||
    (returnWhen === "firstError" && failures > 0);
  const count = (r: R) => {
    finished++;
    // Not r.successful(), which would observe the outcome.
    if (!resultParts(r).records.every((t) => t.outcome?.ok)) failures++;
  };
  for (const r of list) if (r.ready()) count(r);
  if (!met()) {
    const { promise, resolve } = Promise.withResolvers<void>();
    // Each result says when it is done; the condition is looked at then.
    const unhooks: (() => void)[] = [];
    for (const r of list) {
      if (r.ready()) continue;
      unhooks.push(
        resultParts(r).whenFinished(() => {
          count(r);
          if (met()) resolve();
        }),
      );
    }
    try {
      await within(promise, timeoutMs);
    } finally {
      for (const unhook of unhooks) unhook();
    }
  }
  const done: R[] = [];
  const notDone: R[] = [];
  for (const r of list) (r.ready() ? done : notDone).push(r);
  return { done, notDone };
}

/**
 * The results given, each as it finishes (succeeded or failed: it is
 * yielded, not thrown; `await` it for its value or error), as
 * concurrent.futures' and Dask's `as_completed`. Those done already come
 * first, in the order given. With `timeoutMs` (counted from this call),
 * the iteration throws a `TimeoutError` if the results are not all done
 * by then; the tasks keep running. Leaving the loop early (`break`)
 * leaves nothing behind: no timer, no hook on the results, no task
 * stopped. Yielding a result does not observe it (awaiting it does). Bad
 * arguments throw here, before anything is iterated.
 *
 * @example
 * ```ts
 * import { asCompleted, Client } from "@troupe/parallel";
 * await using client = await Client.start({ workers: 2 });
 * const lv = client.loadBalancedView();
 * const results = [1, 2, 3].map((x) => lv.applyAsync((y: number) => y * 2, x));
 * let sum = 0;
 * for await (const ar of asCompleted(results)) sum += await ar;
 * console.log(sum); // 12
 * ```
 */
export function asCompleted<R extends AsyncResult<unknown>>(
  results: Iterable<R>,
  options: { timeoutMs?: number } = {},
): AsyncIterable<R, undefined> {
  const list = checkResults("asCompleted", results);
  checkObject("asCompleted", "{ timeoutMs }", options);
  checkOptions("asCompleted options", options, AS_COMPLETED_OPTIONS);
  const timeoutMs = checkTimeout("asCompleted", options.timeoutMs);
  const deadline = timeoutMs === undefined
    ? Infinity
    : performance.now() + timeoutMs;
  // Finished results, in the order they finished; hearing starts now, so
  // that those done before the loop begins come first, in the given order.
  const finished: R[] = [];
  /** The indexes in `finished`: a result given twice is yielded twice. */
  const listed = new Set<number>();
  const wakers = new Set<() => void>();
  const add = (i: number) => {
    listed.add(i);
    finished.push(list[i]);
  };
  for (let i = 0; i < list.length; i++) if (list[i].ready()) add(i);
  // Hooks on the pending results while an iteration may still read them:
  // removed when the last open one ends, put back if another begins.
  let unhooks: (() => void)[] | undefined;
  let open = 0;
  const hear = () => {
    if (unhooks) return;
    unhooks = [];
    for (let i = 0; i < list.length; i++) {
      if (listed.has(i)) continue;
      if (list[i].ready()) {
        add(i);
        continue;
      }
      unhooks.push(
        resultParts(list[i]).whenFinished(() => {
          add(i);
          for (const wake of wakers) wake();
          wakers.clear();
        }),
      );
    }
  };
  const unhear = () => {
    if (open > 0 || !unhooks) return;
    for (const unhook of unhooks) unhook();
    unhooks = undefined;
  };
  hear();
  return {
    // Not an async generator: its `yield` would await each result (an
    // AsyncResult is a thenable), giving values, and throwing failures.
    [Symbol.asyncIterator](): AsyncIterator<R, undefined> {
      let next = 0;
      let ended = false;
      open++;
      hear();
      const end = (): IteratorResult<R, undefined> => {
        if (!ended) {
          ended = true;
          open--;
          unhear();
        }
        return { done: true, value: undefined };
      };
      return {
        async next(): Promise<IteratorResult<R, undefined>> {
          while (!ended && next < list.length) {
            if (next < finished.length) {
              return { done: false, value: finished[next++] };
            }
            const { promise, resolve } = Promise.withResolvers<void>();
            wakers.add(resolve);
            const left = Math.max(0, deadline - performance.now());
            const heard = await within(promise, left);
            wakers.delete(resolve);
            if (!heard.done && next >= finished.length) {
              end();
              throw new TimeoutError(
                `${next} of ${list.length} results finished within ` +
                  `${timeoutMs} ms (asCompleted's timeoutMs); the others ` +
                  "keep running: give a longer timeoutMs, or stop them " +
                  "with abort()",
              );
            }
          }
          return end();
        },
        return(): Promise<IteratorResult<R, undefined>> {
          return Promise.resolve(end());
        },
      };
    },
  };
}

function checkResults<R>(what: string, results: Iterable<R>): R[] {
  if (
    results === null || typeof results !== "object" ||
    !(Symbol.iterator in results)
  ) {
    throw new TypeError(
      `${what} takes a list of AsyncResults (what a view's applyAsync or ` +
        `mapAsync returns), got ${show(results)}`,
    );
  }
  const list = [...results];
  const bad = list.findIndex((r) => !(r instanceof AsyncResult));
  if (bad >= 0) {
    throw new TypeError(
      `${what}'s results[${bad}] is ${show(list[bad])}, not an ` +
        "AsyncResult (what a view's applyAsync or mapAsync returns)",
    );
  }
  return list;
}

/** Options must be an object: a bare number is ipyparallel's `timeout`. */
function checkObject(what: string, names: string, options: unknown): void {
  if (typeof options === "object" && options !== null) return;
  const hint = typeof options === "number"
    ? ` (for a timeout, write { timeoutMs: ${options} })`
    : "";
  throw new TypeError(
    `${what}'s options must be an object, ${names}, got ${
      show(options)
    }${hint}`,
  );
}

function checkTimeout(what: string, ms: unknown): number | undefined {
  if (ms === undefined || (typeof ms === "number" && ms >= 0)) {
    return ms as number | undefined;
  }
  throw new RangeError(
    `timeoutMs in ${what} options must be a number of ms >= 0, got ${show(ms)}`,
  );
}
