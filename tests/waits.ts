/**
 * The bounded waits every test uses (re-exported by helpers.ts): a hang
 * fails the test with a name instead of stalling the suite, and no timer is
 * left for the sanitizers to find.
 *
 * @module
 */

import assert from "node:assert/strict";
import { delay, within } from "../actors/async.ts";

/**
 * Resolves after `ms`. The timer always fires before the promise settles, so
 * Deno's op sanitizer never finds it pending when a test ends.
 */
export function sleep(ms: number): Promise<void> {
  return delay(ms);
}

/**
 * A hang guard: `p`, or a rejection after `ms` whose message starts with
 * "hang guard: <what> not settled in <ms> ms", so that a hang fails the test
 * with a name instead of stalling the suite. `ms` is generous, never a speed
 * test. The timer is cleared either way: sanitizers see no leftover timer.
 */
export async function guard<T>(
  p: PromiseLike<T>,
  what: string,
  ms = 10_000,
): Promise<T> {
  const settled = await within(Promise.resolve(p), ms);
  if (!settled.done) {
    throw new Error(`hang guard: ${what} not settled in ${ms} ms`);
  }
  return settled.value;
}

/**
 * The Error that `p` rejects with, for tests that check a failure. Awaited
 * within the hang guard, so that a promise that never settles fails the test
 * (its hang-guard error is not taken for the expected rejection); a promise
 * that resolves, or rejects with something that is not an Error, fails it
 * too.
 */
export async function errorOf(
  p: PromiseLike<unknown>,
  what = "the promise",
  ms = 10_000,
): Promise<Error> {
  let value: unknown;
  try {
    value = await guard(p, what, ms);
  } catch (error) {
    assert.ok(error instanceof Error, `${what}: not an Error: ${error}`);
    assert.doesNotMatch(error.message, /^hang guard/, error.message);
    return error;
  }
  assert.fail(`${what}: expected a rejection, got ${Deno.inspect(value)}`);
}

/**
 * Waits until `condition()` holds, checking every 5 ms: tests wait for
 * events, not for the clock. Throws a hang-guard error naming `what` if it
 * does not hold within `ms`.
 */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  ms = 10_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error(`hang guard: ${what} did not happen in ${ms} ms`);
    }
    await sleep(5);
  }
}
