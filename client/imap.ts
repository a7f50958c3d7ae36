/**
 * `lv.imap`: a lazy map over an iterable, a bounded number of tasks in
 * flight, its values given back as an async iterator (Python's
 * `Pool.imap`, ipyparallel's `imap`).
 *
 * @module
 */

import { checkCallOptions } from "./call_options.ts";
import { checkOptions, type OptionNames } from "./options.ts";
import { checkOrdered } from "./load_balanced_options.ts";

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
   * view's engines (at least 1); at most the view's `maxQueue`.
   */
  maxOutstanding?: number;
  /**
   * Aborting it aborts every task of the imap, running ones too, as
   * `ar.abort()` does; the iterator then throws (the tasks'
   * `TaskAbortedError`, or the signal's reason if none was in flight).
   */
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
 * What `imap` needs of one item's task: its value (or error), a way to
 * stop it, and whether it still waits for an engine. An `AsyncResult`,
 * wrapped by the view, is one.
 *
 * @example
 * ```ts
 * import type { ImapTask } from "./imap.ts";
 * const done: ImapTask<number> = Object.assign(Promise.resolve(1), {
 *   abort: () => Promise.resolve(),
 *   waiting: () => false,
 * });
 * ```
 */
export interface ImapTask<T> extends PromiseLike<T> {
  /** Stops the task; resolves once it has settled. */
  abort(): Promise<void>;
  /**
   * `true` while no engine has it: an early exit stops only such tasks, as
   * stopping a running one would restart its engine and wipe its globals.
   */
  waiting(): boolean;
}

/**
 * The source of `imap`'s items: pulled one at a time, only as a place in
 * flight frees up.
 *
 * @example
 * ```ts
 * import type { ImapSource } from "@troupe/parallel";
 * const items: ImapSource<number> = [1, 2, 3];
 * ```
 */
export type ImapSource<I> = Iterable<I> | AsyncIterable<I>;

/**
 * How `imapTasks` runs: `imapSettings`' checked values, and `room`, the
 * view's queue: `undefined` while a task may be submitted, else a promise
 * that settles when a place may have freed.
 *
 * @example
 * ```ts
 * import type { ImapRun } from "./imap.ts";
 * const run: ImapRun = { ordered: true, maxOutstanding: 2 };
 * ```
 */
export interface ImapRun {
  /** Give values in input order. */
  ordered: boolean;
  /** At most this many items pulled and not yet given back. */
  maxOutstanding: number;
  /** Aborting it aborts every task of the imap, as `ar.abort()` does. */
  signal?: AbortSignal;
  /** Whether the view's `maxQueue` lets one more task in now. */
  room?: () => Promise<void> | undefined;
}

/**
 * Runs `submit(item)` for each item of `source`, at most `maxOutstanding`
 * pulled and not yet given back, and gives their values in input order
 * (`ordered`) or as they complete. Whatever is done is given back while
 * the source is slow to give its next item (at most one pull is under
 * way), so a source that feeds on the values it has seen works. A failure
 * is thrown at its place (ordered) or when it comes; an error from the
 * source or from `submit` is thrown after the values of the items pulled
 * before it. A full view queue (`room`) is waited for, never thrown.
 *
 * Ending early — a failure, an error of the source, the consumer's
 * `break`/`return()` — stops only the tasks that no engine has yet;
 * running ones run to their end (their values are dropped), as Python's
 * `Pool.imap` leaves its workers alone. The source is closed (its
 * `return()`, once any pull under way has ended) and pulled no further.
 * An aborted `signal` is the caller's "stop": every task is aborted, as
 * `ar.abort()` does, and the iterator throws (the tasks'
 * `TaskAbortedError`, or the signal's reason if none was in flight).
 *
 * @example
 * ```ts
 * import { imapTasks } from "./imap.ts";
 * const task = (x: number) =>
 *   Object.assign(Promise.resolve(x * 2), {
 *     abort: () => Promise.resolve(),
 *     waiting: () => false,
 *   });
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
  options: ImapRun,
): AsyncGenerator<T, void, undefined> {
  const { ordered, maxOutstanding, signal, room } = options;
  // In submission order; `completed` holds them as they settle (unordered).
  const pending: Entry<T>[] = [];
  const completed: Entry<T>[] = [];
  // Wakes the consumer's wait: a task settled, a pull ended, the signal.
  let changed: PromiseWithResolvers<void> | undefined;
  const wake = () => {
    changed?.resolve();
    changed = undefined;
  };
  const closing = Promise.withResolvers<void>();
  let closed = false;
  let iterator: Iterator<I> | AsyncIterator<I> | undefined;
  // At most one pull under way; `pulling` is cleared even when the
  // source throws synchronously, before `pull` is assigned.
  let pulling = false;
  let pull: Promise<void> | undefined;
  let exhausted = false; // nothing more to pull
  let sourceEnded = false; // done or threw: it wants no return()
  let failure: { error: unknown } | undefined; // of the source or submit
  const startPull = (it: Iterator<I> | AsyncIterator<I>) => {
    pulling = true;
    pull = (async () => {
      try {
        let step: IteratorResult<I>;
        try {
          step = await it.next();
        } catch (error) {
          sourceEnded = true;
          throw error;
        }
        if (step.done) {
          exhausted = sourceEnded = true;
          return;
        }
        for (let full = room?.(); full && !closed; full = room?.()) {
          await Promise.race([full, closing.promise]);
        }
        if (closed) return; // the item is dropped with the imap
        pending.push(track(submit(step.value), (settled) => {
          if (!ordered) completed.push(settled);
          wake();
        }));
      } catch (error) {
        exhausted = true;
        failure = { error };
      } finally {
        pulling = false;
        wake();
      }
    })();
  };
  signal?.addEventListener("abort", wake);
  try {
    while (true) {
      if (
        !pulling && !exhausted && !signal?.aborted &&
        pending.length < maxOutstanding
      ) startPull(iterator ??= open(source));
      const ready = ordered
        ? (pending[0]?.outcome && pending[0])
        : completed.shift();
      if (ready) {
        pending.splice(pending.indexOf(ready), 1);
        const outcome = ready.outcome!;
        if (!outcome.ok) throw outcome.error;
        yield outcome.value;
        continue;
      }
      if (pending.length === 0) {
        // The signal's tasks throw their TaskAbortedError; with none in
        // flight (a source that stalls), the signal's reason says it.
        if (signal?.aborted) signal.throwIfAborted();
        if (!pulling) {
          if (failure) throw failure.error;
          return;
        }
      }
      await (changed ??= Promise.withResolvers()).promise;
    }
  } finally {
    closed = true;
    closing.resolve();
    signal?.removeEventListener("abort", wake);
    const stopping = signal?.aborted
      ? pending
      : pending.filter((e) => e.task.waiting());
    await Promise.all(stopping.map((e) => e.task.abort()));
    // Their failures are this ending's doing: nobody asks for them.
    await Promise.all(stopping.map((e) => e.settled));
    const it = iterator;
    if (it && !sourceEnded) {
      // An async generator's return() waits behind its next(): never hold
      // the consumer's exit on a source that stalls.
      const close = () => sourceEnded ? undefined : it.return?.();
      if (pulling) pull!.then(close).catch(() => {});
      else await close();
    }
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
 * source that is not an Iterable or AsyncIterable, a second sequence where
 * the options go (imap takes one iterable), a misspelt option, an
 * `ordered` that is not a boolean, a `maxOutstanding` that is not a number
 * or a signal that is not an `AbortSignal`; a `RangeError` for a
 * `maxOutstanding` that is not a whole number >= 1. `maxOutstanding`
 * defaults to twice `engines`, at least 1, and is at most the view's
 * `maxQueue`: imap's own items never fill the view's queue.
 *
 * @example
 * ```ts
 * import { imapSettings } from "./imap.ts";
 * console.log(imapSettings([1, 2], { ordered: false }, 3));
 * // { ordered: false, maxOutstanding: 6, signal: undefined }
 * console.log(imapSettings([1, 2], {}, 3, 2).maxOutstanding); // 2
 * ```
 */
export function imapSettings(
  source: unknown,
  options: ImapOptions,
  engines: number,
  maxQueue: number = Infinity,
): { ordered: boolean; maxOutstanding: number; signal?: AbortSignal } {
  if (!isIterable(source)) {
    throw new TypeError(
      `imap takes an Iterable or AsyncIterable of items (an array, a ` +
        `generator, a stream), got ${source === null ? "null" : typeof source}`,
    );
  }
  if (isIterable(options)) {
    // ipyparallel's imap(f, xs, ys) zips its sequences; troupe's takes one.
    throw new TypeError(
      "imap takes one iterable, then an options object; to map over " +
        "several sequences, zip them: lv.imap(([x, y]) => f(x, y), " +
        "xs.map((x, i) => [x, ys[i]]))",
    );
  }
  checkOptions("imap options", options, IMAP_OPTIONS);
  const { ordered, signal } = options;
  checkOrdered("imap options", ordered);
  checkCallOptions("imap options", { signal }, "balanced");
  const given = options.maxOutstanding;
  if (given !== undefined && typeof given !== "number") {
    throw new TypeError(
      `imap options: maxOutstanding must be a number, got ${typeof given}`,
    );
  }
  const maxOutstanding = given ?? Math.max(1, 2 * engines);
  if (!Number.isInteger(maxOutstanding) || maxOutstanding < 1) {
    throw new RangeError(
      `maxOutstanding must be a whole number >= 1, got ${maxOutstanding}`,
    );
  }
  return {
    ordered: ordered !== false,
    maxOutstanding: Math.min(maxOutstanding, maxQueue),
    signal,
  };
}

function isIterable(value: unknown): value is ImapSource<unknown> {
  return value !== null && value !== undefined &&
    (typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] ===
        "function" ||
      typeof (value as Iterable<unknown>)[Symbol.iterator] === "function");
}
