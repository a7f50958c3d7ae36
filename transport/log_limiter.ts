/**
 * Summarising repeated log lines, so that a flood of bad connections cannot
 * flood the log: the first line of each kind is logged at once, repeats
 * within a window are counted and logged as one line when the window ends.
 *
 * @module
 */

import { unrefTimer } from "../actors/async.ts";

/**
 * The clock a `LogLimiter` runs on. The real one (the default) uses
 * `Date.now` and timers that do not keep the process alive; a test gives one
 * it advances by hand, so that windows end when it says.
 */
export interface LimiterClock {
  /** The time, in ms. */
  now(): number;
  /**
   * Calls `fn` once after `ms`, without keeping the process alive; returns
   * what cancels it.
   */
  setTimer(fn: () => void, ms: number): () => void;
}

/** How a `LogLimiter` logs and for how long it folds repeats together. */
export interface LogLimiterOptions {
  /** Where lines go. */
  log: (line: string) => void;
  /** How long repeats of a kind are counted before one summary, in ms (10 s). */
  windowMs?: number;
  /**
   * How many kinds are tracked at once (64): past that, first lines of new
   * kinds are counted together, so that an attacker using many addresses
   * cannot flood the log either.
   */
  maxKinds?: number;
  /** Words the count of lines of kinds past `maxKinds`. */
  overflow?: Summary;
  /** The clock; the real one by default. */
  clock?: LimiterClock;
}

/**
 * Words a summary line from the number of lines it stands for and how long
 * they were counted, in ms.
 */
export type Summary = (count: number, ms: number) => string;

interface Window {
  start: number;
  count: number;
  summary: Summary;
  cancel: () => void;
}

const REAL_CLOCK: LimiterClock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => {
    const id = setTimeout(fn, ms);
    unrefTimer(id);
    return () => clearTimeout(id);
  },
};

/** The key that new kinds share once `maxKinds` are tracked. */
const OVERFLOW = "\0overflow";

const otherKinds: Summary = (count, ms) =>
  `… and ${count} more lines of other kinds in the last ${ms} ms`;

/**
 * Logs a line at once the first time its kind comes up, and folds repeats
 * of that kind that come within `windowMs` into one summary line when the
 * window ends (a kind still repeating then gets another window, so a
 * sustained flood logs one line per window). `close()` logs what is pending
 * and clears the timers.
 *
 * @example
 * ```ts
 * import { LogLimiter } from "./log_limiter.ts";
 * const limiter = new LogLimiter({ log: console.warn, windowMs: 10_000 });
 * for (let i = 0; i < 1000; i++) {
 *   limiter.log("wrong key from 10.0.0.9", "dropped 10.0.0.9: wrong key",
 *     (n, ms) => `… and ${n} more in the last ${ms / 1000} s`);
 * }
 * limiter.close(); // logs "… and 999 more in the last 0 s"
 * ```
 */
export class LogLimiter {
  #options: LogLimiterOptions;
  #clock: LimiterClock;
  #windows = new Map<string, Window>();
  #closed = false;

  constructor(options: LogLimiterOptions) {
    this.#options = options;
    this.#clock = options.clock ?? REAL_CLOCK;
  }

  /**
   * Logs `line`, or counts it if a line of the same `kind` was logged
   * within the window; `summary` words the count when the window ends.
   */
  log(kind: string, line: string, summary: Summary): void {
    if (this.#closed) return this.#options.log(line);
    if (
      !this.#windows.has(kind) &&
      this.#windows.size >= (this.#options.maxKinds ?? 64)
    ) {
      kind = OVERFLOW;
    }
    if (kind === OVERFLOW) summary = this.#options.overflow ?? otherKinds;
    const window = this.#windows.get(kind);
    if (window) {
      window.count++;
      window.summary = summary;
      return;
    }
    this.#open(kind, summary);
    // The first line past the limit is logged as is: it says what kind of
    // drop the count that follows is made of.
    this.#options.log(line);
  }

  /** Logs every pending summary and clears the timers; later lines pass. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const [kind, window] of this.#windows) {
      window.cancel();
      this.#flush(window);
      this.#windows.delete(kind);
    }
  }

  #open(kind: string, summary: Summary): void {
    const window: Window = {
      start: this.#clock.now(),
      count: 0,
      summary,
      cancel: this.#clock.setTimer(() => {
        this.#windows.delete(kind);
        // Still repeating: the next window counts from now, with no line
        // at once, so that a long flood is one line per window.
        if (this.#flush(window)) this.#open(kind, window.summary);
      }, this.#options.windowMs ?? 10_000),
    };
    this.#windows.set(kind, window);
  }

  /** Logs the window's summary if it counted anything; says whether. */
  #flush(window: Window): boolean {
    if (window.count === 0) return false;
    this.#options.log(
      window.summary(window.count, this.#clock.now() - window.start),
    );
    return true;
  }
}
