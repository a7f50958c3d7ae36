/**
 * What keeps the process alive while troupe has work in hand.
 *
 * @module
 */

/**
 * A client's engines, its listener, its heartbeat and its restart timers do
 * not keep the process alive by themselves (they are unref'd), so a script
 * that forgets `close()` ends once nothing is pending, as Node's idle
 * worker pools do. Work in hand holds the process instead: one ref'd timer,
 * while anything holds it. One timer for the whole process rather than
 * ref'ing each engine: the work, not the engine it runs on, is what the
 * user waits for, and a load-balanced task may wait for an engine that is
 * still restarting.
 *
 * Tasks run one after another hold and release the process once each, and
 * making and clearing a timer costs about 10 µs, half of a no-op task's
 * client cost: so a release only unrefs the timer (under 1 µs), and it is
 * cleared once nothing holds the process after a client's `close()`, so
 * that none is left behind for Deno's test sanitizers.
 */
let holds = 0;
let timer: ReturnType<typeof setInterval> | undefined;
/** A `close()` ended while something still held: clear at the last release. */
let clearAtIdle = false;

/** The longest interval timers take; the timer only needs to exist. */
const FOREVER_MS = 2 ** 31 - 1;

/**
 * Keeps the process alive until the returned function is called (calling
 * it again does nothing): for a pending result, a `waitForEngines`, a
 * `close()` under way. `clearWhenIdle` (a `close()`): once nothing holds
 * the process after this, the timer is cleared rather than unref'd.
 *
 * @example
 * ```ts
 * import { holdProcess } from "./keep_alive.ts";
 * // As a client's close() does: nothing is left once it is released.
 * const release = holdProcess({ clearWhenIdle: true });
 * await new Promise((resolve) => setTimeout(resolve, 10));
 * release();
 * ```
 */
export function holdProcess(
  options: { clearWhenIdle?: boolean } = {},
): () => void {
  if (holds++ === 0) {
    timer ??= setInterval(() => {}, FOREVER_MS);
    Deno.refTimer(timer);
  }
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    if (options.clearWhenIdle) clearAtIdle = true;
    if (--holds > 0) return;
    if (clearAtIdle) {
      clearAtIdle = false;
      clearInterval(timer);
      timer = undefined;
    } else {
      Deno.unrefTimer(timer!);
    }
  };
}
