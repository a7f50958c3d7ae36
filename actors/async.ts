/**
 * Small async helpers built on the web platform, so that troupe needs no
 * `@std/async` (JSR cannot be reached from where troupe is built).
 *
 * @module
 */

/**
 * The longest delay one timer takes (2^31 - 1 ms, about 24.8 days): past
 * it, `setTimeout` fires at once. `longTimeout` re-arms to wait longer.
 *
 * @example
 * ```ts
 * import { MAX_TIMER_MS } from "./async.ts";
 * console.log(MAX_TIMER_MS); // 2147483647
 * ```
 */
export const MAX_TIMER_MS: number = 2 ** 31 - 1;

/**
 * Calls `fire` after `ms` milliseconds, any number of them: a delay past
 * `MAX_TIMER_MS` is waited as a chain of timers, not cut to 1 ms. Returns
 * what cancels it.
 *
 * @example
 * ```ts
 * import { longTimeout } from "./async.ts";
 * const cancel = longTimeout(() => console.log("never"), 2 ** 40);
 * cancel();
 * ```
 */
export function longTimeout(fire: () => void, ms: number): () => void {
  const end = performance.now() + ms;
  let timer: ReturnType<typeof setTimeout>;
  const arm = (left: number) => {
    const capped = left > MAX_TIMER_MS;
    timer = setTimeout(() => {
      if (capped) arm(end - performance.now());
      else fire();
    }, capped ? MAX_TIMER_MS : Math.max(0, left));
  };
  arm(ms);
  return () => clearTimeout(timer);
}

/**
 * Resolves after `ms` milliseconds; rejects early with the signal's reason
 * when `signal` aborts. The timer is always cleared, so tests stay clean.
 *
 * @example
 * ```ts
 * import { delay } from "./async.ts";
 * await delay(10);
 * ```
 */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  const { promise, resolve, reject } = Promise.withResolvers<void>();
  const onAbort = () => {
    cancel();
    reject(signal?.reason);
  };
  const cancel = longTimeout(() => {
    signal?.removeEventListener("abort", onAbort);
    resolve();
  }, ms);
  signal?.addEventListener("abort", onAbort, { once: true });
  return promise;
}

/**
 * Races `promise` against a timer. Resolves `{ done: true, value }` when the
 * promise wins and `{ done: false }` when `ms` elapse first; the timer is
 * cleared either way. `ms` of `undefined` or `Infinity` waits without a timer;
 * one past `MAX_TIMER_MS` waits that long too (`longTimeout`).
 *
 * @example
 * ```ts
 * import { within } from "./async.ts";
 * const r = await within(Promise.resolve(1), 100);
 * if (r.done) console.log(r.value);
 * ```
 */
export async function within<T>(
  promise: Promise<T>,
  ms: number | undefined,
): Promise<{ done: true; value: T } | { done: false }> {
  if (ms === undefined || ms === Infinity) {
    return { done: true, value: await promise };
  }
  let cancel: (() => void) | undefined;
  const timeout = new Promise<{ done: false }>((resolve) => {
    cancel = longTimeout(() => resolve({ done: false }), ms);
  });
  try {
    return await Promise.race([
      promise.then((value) => ({ done: true as const, value })),
      timeout,
    ]);
  } finally {
    cancel!();
  }
}

/**
 * Lets the process end while `timer` is pending: for timers that only serve
 * something else that keeps the process alive while it matters (a heartbeat,
 * a backoff, a log summary). Takes a timer as Node's types name it (a
 * `Timeout`); at run time it is the number `Deno.unrefTimer` wants.
 *
 * @example
 * ```ts
 * import { unrefTimer } from "./async.ts";
 * const beat = setInterval(() => console.log("beat"), 1000);
 * unrefTimer(beat); // the process may end with it pending
 * clearInterval(beat);
 * ```
 */
export function unrefTimer(timer: ReturnType<typeof setTimeout>): void {
  Deno.unrefTimer(timer as unknown as number);
}
