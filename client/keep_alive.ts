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
 */
let holds = 0;
let timer: ReturnType<typeof setInterval> | undefined;

/** The longest interval timers take; the timer only needs to exist. */
const FOREVER_MS = 2 ** 31 - 1;

/**
 * Keeps the process alive until the returned function is called (calling
 * it again does nothing): for a pending result, a `waitForEngines`, a
 * `close()` under way.
 *
 * @example
 * ```ts
 * import { holdProcess } from "./keep_alive.ts";
 * const release = holdProcess();
 * await new Promise((resolve) => setTimeout(resolve, 10));
 * release();
 * ```
 */
export function holdProcess(): () => void {
  // The timer exists only while held: a timer left behind would keep the
  // process alive and trip Deno's test sanitizers.
  if (holds++ === 0) timer = setInterval(() => {}, FOREVER_MS);
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    if (--holds === 0) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}
