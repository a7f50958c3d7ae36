/**
 * `lv.imap`: a lazy map over an iterable, a bounded number of tasks in
 * flight, its values given back as an async iterator (Python's
 * `Pool.imap`, ipyparallel's `imap`).
 *
 * @module
 */

import { checkCallOptions } from "./call_options.ts";
import { checkOptions, type OptionNames } from "./options.ts";

/**
 * How `lv.imap` runs: in input order or not, and how many tasks at once.
 *
 * @example
 * ```ts
 * import { Client, type ImapOptions } from "@troupe/parallel";
 * const options: ImapOptions = { ordered: false, maxOutstanding: 4 };
 * await using client = await Client.start({ workers: 2 });
 * const values = [];
 * for await (const v of client.loadBalancedView().imap((x: number) => x + 1, [1, 2, 3], options)) {
 *   values.push(v);
 * }
 * console.log(values.sort()); // [2, 3, 4]
 * ```
 */
export interface ImapOptions {
  /**
   * Give values in input order (the default), or as their tasks complete.
   */
  ordered?: boolean;
  /**
   * How many tasks may be in flight (submitted, not yet given back) at
   * once; the source is pulled only as they finish. Defaults to twice the
   * view's engines (at least 1).
   */
  maxOutstanding?: number;
  /** Aborting it aborts the tasks in flight; the iterator then throws. */
  signal?: AbortSignal;
}

/**
 * The names of `ImapOptions`, checked by `checkOptions`.
 *
 * @example
 * ```ts
 * import { IMAP_OPTIONS } from "./imap.ts";
 * import { checkOptions } from "./options.ts";
 * checkOptions("imap options", { ordered: false }, IMAP_OPTIONS);
 * ```
 */
export const IMAP_OPTIONS: OptionNames<ImapOptions> = {
  ordered: true,
  maxOutstanding: true,
  signal: true,
};

/**
 * What `imap` needs of one item's task: its value (or error), and a way
 * to stop it. An `AsyncResult` is one.
 *
 * @example
 * ```ts
 * import type { ImapTask } from "./imap.ts";
 * const done: ImapTask<number> = Object.assign(Promise.resolve(1), {
 *   abort: () => Promise.resolve(),
 * });
 * ```
 */
export interface ImapTask<T> extends PromiseLike<T> {
  /** Stops the task; resolves once it has settled. */
  abort(): Promise<void>;
}

/**
 * The source of `imap`'s items: pulled one at a time, only as a place in
 * flight frees up.
 *
 * @example
 * ```ts
 * import type { ImapSource } from "./imap.ts";
 * const items: ImapSource<number> = [1, 2, 3];
 * ```
 */
export type ImapSource<I> = Iterable<I> | AsyncIterable<I>;

/**
 * Runs `submit(item)` for each item of `source`, at most `maxOutstanding`
 * at a time, and gives their values in input order (`ordered`) or as they
 * complete. A failure is thrown at its place (ordered) or when it comes;
 * an error from the source or from `submit` is thrown too. Whatever ends
 * it early (such an error, or the consumer's `break`/`return()`) aborts
 * the tasks still in flight, waits for them to settle, and closes the
 * source (its `return()`), which is pulled no further.
 *
 * @example
 * ```ts
 * import { imapTasks } from "./imap.ts";
 * const task = (x: number) =>
 *   Object.assign(Promise.resolve(x * 2), { abort: () => Promise.resolve() });
 * const values = [];
 * for await (const v of imapTasks(task, [1, 2, 3], { ordered: true, maxOutstanding: 2 })) {
 *   values.push(v);
 * }
 * console.log(values); // [2, 4, 6]
 * ```
 */
export async function* imapTasks<I, T>(
  submit: (item: I) => ImapTask<T>,
  source: ImapSource<I>,
  options: { ordered: boolean; maxOutstanding: number; signal?: AbortSignal },
): AsyncGenerator<T, void, undefined> {
  const { ordered, maxOutstanding, signal } = options;
  // In submission order; `completed` holds them as they settle (unordered).
  const pending: Entry<T>[] = [];
  const completed: Entry<T>[] = [];
  let wake: PromiseWithResolvers<void> | undefined;
  let iterator: Iterator<I> | AsyncIterator<I> | undefined;
  let exhausted = false;
  try {
    while (true) {
      // Refill only when asked for the next value: at most maxOutstanding
      // pulled and not yet given back, however slow the consumer.
      while (!exhausted && pending.length < maxOutstanding) {
        // Once aborted, pull only what it takes to report it.
        if (signal?.aborted && pending.length > 0) break;
        iterator ??= open(source);
        let step: IteratorResult<I>;
        try {
          step = await iterator.next();
        } catch (error) {
          exhausted = true; // A source that threw is done: no return().
          throw error;
        }
        if (step.done) {
          exhausted = true;
          break;
        }
        const entry = track(submit(step.value), (settled) => {
          if (ordered) return;
          completed.push(settled);
          wake?.resolve();
          wake = undefined;
        });
        pending.push(entry);
      }
      if (pending.length === 0) return;
      let entry: Entry<T>;
      if (ordered) {
        entry = pending[0];
        await entry.settled;
      } else {
        while (completed.length === 0) {
          await (wake ??= Promise.withResolvers()).promise;
        }
        entry = completed.shift()!;
      }
      pending.splice(pending.indexOf(entry), 1);
      const outcome = entry.outcome!;
      if (!outcome.ok) throw outcome.error;
      yield outcome.value;
    }
  } finally {
    await Promise.all(pending.map((e) => e.task.abort()));
    // Their failures are this ending's doing: nobody asks for them.
    await Promise.all(pending.map((e) => e.settled));
    if (iterator && !exhausted) await iterator.return?.();
  }
}

/** One item's task and, once it has settled, how. */
interface Entry<T> {
  task: ImapTask<T>;
  settled: Promise<void>;
  outcome?: { ok: true; value: T } | { ok: false; error: unknown };
}

function track<T>(
  task: ImapTask<T>,
  onSettled: (entry: Entry<T>) => void,
): Entry<T> {
  const entry: Entry<T> = { task, settled: Promise.resolve() };
  entry.settled = Promise.resolve(task).then(
    (value) => {
      entry.outcome = { ok: true, value };
      onSettled(entry);
    },
    (error) => {
      entry.outcome = { ok: false, error };
      onSettled(entry);
    },
  );
  return entry;
}

function open<I>(source: ImapSource<I>): Iterator<I> | AsyncIterator<I> {
  const asyncOpen = (source as AsyncIterable<I>)[Symbol.asyncIterator];
  return typeof asyncOpen === "function"
    ? asyncOpen.call(source)
    : (source as Iterable<I>)[Symbol.iterator]();
}

/**
 * `imap`'s settings from its arguments, checked: a `TypeError` for a
 * source that is not an Iterable or AsyncIterable, a misspelt option or a
 * signal that is not an `AbortSignal`; a `RangeError` for a
 * `maxOutstanding` that is not a whole number >= 1. `maxOutstanding`
 * defaults to twice `engines`, at least 1.
 *
 * @example
 * ```ts
 * import { imapSettings } from "./imap.ts";
 * console.log(imapSettings([1, 2], { ordered: false }, 3));
 * // { ordered: false, maxOutstanding: 6, signal: undefined }
 * ```
 */
export function imapSettings(
  source: unknown,
  options: ImapOptions,
  engines: number,
): { ordered: boolean; maxOutstanding: number; signal?: AbortSignal } {
  const iterable = source !== null && source !== undefined &&
    (typeof (source as AsyncIterable<unknown>)[Symbol.asyncIterator] ===
        "function" ||
      typeof (source as Iterable<unknown>)[Symbol.iterator] === "function");
  if (!iterable) {
    throw new TypeError(
      `imap takes an Iterable or AsyncIterable of items (an array, a ` +
        `generator, a stream), got ${source === null ? "null" : typeof source}`,
    );
  }
  checkOptions("imap options", options, IMAP_OPTIONS);
  const { ordered, signal } = options;
  checkCallOptions("imap options", { signal }, "balanced");
  const maxOutstanding = options.maxOutstanding ?? Math.max(1, 2 * engines);
  if (!Number.isInteger(maxOutstanding) || maxOutstanding < 1) {
    throw new RangeError(
      `maxOutstanding must be a whole number >= 1, got ${maxOutstanding}`,
    );
  }
  return { ordered: ordered !== false, maxOutstanding, signal };
}
