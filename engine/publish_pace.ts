/**
 * How often an engine posts publications: a burst of them at once, then one
 * per interval. A post costs microseconds (a structured clone and a wake of
 * the receiving thread), which would cap a busy loop's `publishData` far
 * below a million calls a second; between posts the publisher merges calls
 * instead (`engine/publisher.ts`), which costs a fraction of that. The
 * client's side of the pacing, the publication window, is
 * `protocol/flow_control.ts`: a publication is posted when both allow it.
 *
 * @module
 */

import { PUBLISH_WINDOW } from "../protocol/flow_control.ts";

/**
 * Publications an engine posts back to back before pacing starts: a window's
 * worth, so that pacing never merges what the window would have let through
 * (a task that publishes a few dozen times in a row is seen call by call).
 *
 * @example
 * ```ts
 * import { PUBLISH_BURST } from "./publish_pace.ts";
 * console.log(`${PUBLISH_BURST} publications back to back`);
 * ```
 */
export const PUBLISH_BURST: number = PUBLISH_WINDOW;

/**
 * Once the burst is spent, one post per this many milliseconds: at most
 * 10,000 posts a second from a busy loop, a few percent of its time, while
 * the client still sees its newest values every tenth of a millisecond.
 *
 * @example
 * ```ts
 * import { PUBLISH_INTERVAL_MS } from "./publish_pace.ts";
 * console.log(`${1000 / PUBLISH_INTERVAL_MS} posts/s at most, past a burst`);
 * ```
 */
export const PUBLISH_INTERVAL_MS = 0.1;

/**
 * A token bucket of posts: `PUBLISH_BURST` tokens, one more every
 * `PUBLISH_INTERVAL_MS`. A lone publication always finds a token, so it is
 * posted at once.
 *
 * @example
 * ```ts
 * import { PublishPace } from "./publish_pace.ts";
 * let now = 0;
 * const pace = new PublishPace(() => now, 2, 1);
 * pace.spend();
 * pace.spend();
 * console.log(pace.hasToken()); // false: the burst is spent
 * now = 1;
 * console.log(pace.hasToken()); // true: one came back after an interval
 * ```
 */
export class PublishPace {
  #now: () => number;
  #burst: number;
  #intervalMs: number;
  #tokens: number;
  /** When `#tokens` was last brought up to date. */
  #at: number;

  /** `now` in milliseconds; the defaults are the engine's. */
  constructor(
    now: () => number = () => performance.now(),
    burst: number = PUBLISH_BURST,
    intervalMs: number = PUBLISH_INTERVAL_MS,
  ) {
    this.#now = now;
    this.#burst = burst;
    this.#intervalMs = intervalMs;
    this.#tokens = burst;
    this.#at = now();
  }

  /** Whether a publication may be posted now. */
  hasToken(): boolean {
    // The clock is read only once the tokens at hand are spent: a busy
    // loop's calls would otherwise pay for it on every call. So the first
    // refill after a quiet spell credits the whole spell, capped at a burst:
    // at most two bursts back to back, then one post per interval.
    if (this.#tokens >= 1) return true;
    const now = this.#now();
    this.#tokens = Math.min(
      this.#burst,
      this.#tokens + (now - this.#at) / this.#intervalMs,
    );
    this.#at = now;
    return this.#tokens >= 1;
  }

  /** A publication was posted. */
  spend(): void {
    if (this.#tokens >= 1) {
      this.#tokens--;
      return;
    }
    // Posted without a token (a task's last values go out regardless).
    this.#tokens = 0;
    this.#at = this.#now();
  }
}
