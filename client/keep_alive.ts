/**
 * What keeps the process alive while troupe has work in hand.
 *
 * @module
 */

import { MAX_TIMER_MS } from "../actors/async.ts";

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
 * client cost: so while a client is open, a release only unrefs the timer
 * (under 1 µs). Once no client is open and nothing holds the process, the
 * timer is cleared, so that none is left behind for Deno's test sanitizers
 * (also for a hold taken after the last `close()`).
 */
let holds = 0;
let clients = 0;
let timer: ReturnType<typeof setInterval> | undefined;

/** Puts the timer in the state the holds and the open clients ask for. */
function settle(): void {
  if (holds > 0) {
    // The longest interval a timer takes: it only needs to exist.
    timer ??= setInterval(() => {}, MAX_TIMER_MS);
    Deno.refTimer(timer);
  } else if (clients > 0) {
    if (timer !== undefined) Deno.unrefTimer(timer);
  } else {
    clearInterval(timer);
    timer = undefined;
  }
}

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
 * release(); // no client is open: nothing is left behind
 * ```
 */
export function holdProcess(): () => void {
  takeHold();
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    dropHold();
  };
}

/**
 * Holds the process as `holdProcess` does, for a caller that keeps track
 * itself of whether it holds (a pending result, of which a million may be
 * pending at once, spares the closure): each call must be matched by one
 * `dropHold()`.
 *
 * @example
 * ```ts
 * import { dropHold, takeHold } from "./keep_alive.ts";
 * takeHold();
 * await new Promise((resolve) => setTimeout(resolve, 10));
 * dropHold(); // once, and only once
 * ```
 */
export function takeHold(): void {
  if (holds++ === 0) settle();
}

/**
 * Ends one hold taken with `takeHold`.
 *
 * @example
 * ```ts
 * import { dropHold, takeHold } from "./keep_alive.ts";
 * takeHold();
 * dropHold();
 * ```
 */
export function dropHold(): void {
  if (--holds === 0) settle();
}

/**
 * Counts a client as open until the returned function is called (again:
 * nothing): while one is, a released hold keeps its timer, unref'd, for the
 * next.
 *
 * @example
 * ```ts
 * import { holdProcess, openClient } from "./keep_alive.ts";
 * const closed = openClient();
 * holdProcess()(); // the timer stays, unref'd, for the next hold
 * closed(); // and goes now
 * ```
 */
export function openClient(): () => void {
  clients++;
  let open = true;
  return () => {
    if (!open) return;
    open = false;
    if (--clients === 0 && holds === 0) settle();
  };
}
