/**
 * When, and how much at a time, the task history writes. A change waits
 * `flushMs`; then what waits is written in slices of about `SLICE_MS`
 * each, one transaction per slice, the event loop running in between: a
 * burst of 300 000 tasks written in one transaction held the controller
 * for up to a second (no result went out, no beat), where slices hold it
 * for about 10 ms at a time (up to `BUSY_SLICE_MS` when the controller's
 * other work is as long, so that the writes keep up). So a kill -9 loses
 * at most the last `flushMs` of changes plus the slices not yet written of
 * the flush under way.
 *
 * @module
 */

import { messageOf } from "../protocol/errors.ts";
import type { LiveTask } from "./history_live.ts";

/**
 * About how long one slice of a flush holds the event loop, in ms: the
 * number of tasks in a slice follows the time a task took in the last.
 */
export const SLICE_MS = 10;

/**
 * The longest a slice may take when the controller's other work took as
 * long since the last slice: under a load, the writes keep about half of
 * the time instead of falling ever further behind (measured: at 10 ms
 * slices, 200 000 tasks waited at the end of a burst of 300 000).
 */
export const BUSY_SLICE_MS = 50;

/** The first guess of a task's cost, in ms: the ~10 µs a tiny task takes. */
const FIRST_MS_PER_TASK = 0.01;
const MIN_SLICE = 16;
const MAX_SLICE = 50_000;
/** Slices this small mostly time their commit: they teach nothing. */
const TIMED_SLICE = 100;

/**
 * Bytes waiting past which everything waiting is written at once: memory
 * bounded over latency (values are large, or the slices fall behind).
 */
const FLUSH_BYTES = 32 * 2 ** 20;

/** Written tasks at the front of the queue past which it is compacted. */
const COMPACT_AT = 4096;

/**
 * The tasks that have something to write, in the order they changed,
 * written by `write` (one transaction each call; a throw keeps them
 * waiting, to be tried again).
 *
 * @example
 * ```ts
 * import { FlushQueue } from "./history_flush.ts";
 * import type { LiveTask } from "./history_live.ts";
 * const queue = new FlushQueue((tasks: readonly LiveTask[]) => {
 *   console.log(`writing ${tasks.length} tasks in one transaction`);
 * }, 50, "history.db");
 * queue.flush(); // nothing waits: nothing is written
 * queue.close();
 * ```
 */
export class FlushQueue {
  readonly #write: (tasks: readonly LiveTask[]) => void;
  readonly #flushMs: number;
  readonly #where: string;
  /** Written up to `#next`, waiting from there. */
  #queue: LiveTask[] = [];
  #next = 0;
  #bytes = 0;
  #msPerTask = FIRST_MS_PER_TASK;
  /** The size of the last slice when more waited after it, else 0. */
  #lastSize = 0;
  #lastEnd = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** A write failed and waits to be tried again. */
  #failing = false;
  #closed = false;

  /** `where` names the history in the message of a write that failed. */
  constructor(
    write: (tasks: readonly LiveTask[]) => void,
    flushMs: number,
    where: string,
  ) {
    this.#write = write;
    this.#flushMs = flushMs;
    this.#where = where;
  }

  /** How many tasks wait to be written. */
  get waiting(): number {
    return this.#queue.length - this.#next;
  }

  /** The bytes of what waits to be written, as `changed` was told them. */
  get waitingBytes(): number {
    return this.#bytes;
  }

  /** `live` has something new to write (`bytes` more of it). */
  changed(live: LiveTask, bytes: number): void {
    if (!live.dirty) {
      live.dirty = true;
      this.#queue.push(live);
    }
    live.queuedBytes += bytes;
    this.#bytes += bytes;
    // Not while a failed write waits to be tried again: each change would
    // try (and fail) anew.
    if (this.#bytes >= FLUSH_BYTES && !this.#failing) {
      // Never a throw into the event that crossed the line: a failed
      // `submitted` stops the task's recording.
      try {
        this.flush();
      } catch (error) {
        this.#retryLater(error);
      }
      return;
    }
    this.#timer ??= setTimeout(() => this.#slice(), this.#flushMs);
  }

  /** Writes everything waiting now, in one transaction (for a read, or close). */
  flush(): void {
    this.#stop();
    this.#lastSize = 0;
    if (this.waiting > 0) this.#writeNext(this.waiting);
  }

  /** Writes what waits and stops; later changes are never written. */
  close(): void {
    if (this.#closed) return;
    try {
      this.flush();
    } finally {
      this.#closed = true;
      this.#stop();
    }
  }

  /** One slice of the flush, and the next in a later turn if more waits. */
  #slice(): void {
    this.#timer = undefined;
    if (this.#closed || this.waiting === 0) return;
    const started = performance.now();
    // Within a chain, as long as the other work it waited for was.
    const budget = this.#lastSize === 0
      ? SLICE_MS
      : Math.min(BUSY_SLICE_MS, Math.max(SLICE_MS, started - this.#lastEnd));
    let size = Math.round(budget / this.#msPerTask);
    // At most double the last: a guess from tiny tasks meets large ones.
    if (this.#lastSize > 0) size = Math.min(size, this.#lastSize * 2);
    size = Math.min(
      this.waiting,
      Math.max(MIN_SLICE, Math.min(MAX_SLICE, size)),
    );
    try {
      this.#writeNext(size);
    } catch (error) {
      this.#retryLater(error);
      return;
    }
    this.#lastEnd = performance.now();
    if (size >= TIMED_SLICE) {
      // Up at once, down by halves: tasks differ (a first write inserts
      // the arguments), and a guess too low makes a slice too long.
      const measured = Math.max(1e-4, (this.#lastEnd - started) / size);
      this.#msPerTask = measured >= this.#msPerTask
        ? measured
        : (this.#msPerTask + measured) / 2;
    }
    this.#lastSize = this.waiting > 0 ? size : 0;
    // A timer, not setImmediate: Deno runs immediates before it polls the
    // sockets, so a chain of them starved the clients (measured) where a
    // timer lets what came in meanwhile go first.
    if (this.waiting > 0) this.#timer = setTimeout(() => this.#slice(), 0);
  }

  /** Says a write failed, and tries again in 1 s, a slice at a time. */
  #retryLater(error: unknown): void {
    console.error(
      `troupe: cannot write the task history ${this.#where} (${
        messageOf(error)
      }); trying again in 1 s`,
    );
    this.#failing = true;
    this.#lastSize = 0;
    this.#stop();
    this.#timer = setTimeout(() => this.#slice(), 1000);
  }

  #writeNext(count: number): void {
    const batch = this.#queue.slice(this.#next, this.#next + count);
    this.#write(batch);
    this.#failing = false;
    for (const live of batch) {
      this.#bytes -= live.queuedBytes;
      live.queuedBytes = 0;
    }
    this.#next += batch.length;
    if (this.#next === this.#queue.length) {
      this.#queue = [];
      this.#next = 0;
      this.#bytes = 0;
    } else if (
      this.#next >= COMPACT_AT && this.#next * 2 >= this.#queue.length
    ) {
      this.#queue = this.#queue.slice(this.#next);
      this.#next = 0;
    }
  }

  #stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
