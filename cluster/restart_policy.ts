/**
 * The restart policy: how often an engine may be restarted, and the check
 * that refuses a wrong one.
 *
 * @module
 */

/**
 * How often an engine may be restarted: at most `maxRestarts` times within
 * any `withinMs` (OTP's intensity and period). Restarts wait `backoffMs`,
 * doubling with each restart in the period, up to `maxBackoffMs`; the first
 * restart in a period is immediate.
 *
 * @example
 * ```ts
 * import { Client, type RestartPolicy } from "@troupe/parallel";
 * const patient: RestartPolicy = { maxRestarts: 10, withinMs: 60_000 };
 * const never: RestartPolicy = { maxRestarts: 0, withinMs: 1 };
 * await using client = await Client.start({ workers: 1, restart: patient });
 * client.restartPolicy = never;
 * ```
 */
export interface RestartPolicy {
  /** Restarts allowed within `withinMs`; past that the engine is given up. */
  maxRestarts: number;
  /** The period over which restarts are counted, in ms. */
  withinMs: number;
  /** Wait before the second restart in a period, in ms. Defaults to 100. */
  backoffMs?: number;
  /** The longest wait between restarts, in ms. Defaults to 5000. */
  maxBackoffMs?: number;
}

/** The policy a client has unless told otherwise. */
export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  maxRestarts: 5,
  withinMs: 60_000,
};

/**
 * A copy of `policy`, or a `RangeError` naming the field that is out of
 * range.
 *
 * @example
 * ```ts
 * import { checkPolicy } from "./restart_policy.ts";
 * console.log(checkPolicy({ maxRestarts: 2, withinMs: 1000 }).maxRestarts); // 2
 * try {
 *   checkPolicy({ maxRestarts: -1, withinMs: 1000 });
 * } catch (error) {
 *   console.log((error as RangeError).message); // restart.maxRestarts must be ...
 * }
 * ```
 */
export function checkPolicy(policy: RestartPolicy): RestartPolicy {
  const { maxRestarts, withinMs } = policy;
  if (!Number.isInteger(maxRestarts) || maxRestarts < 0) {
    throw new RangeError(
      `restart.maxRestarts must be a whole number >= 0, got ${maxRestarts}`,
    );
  }
  if (!(withinMs > 0)) {
    throw new RangeError(`restart.withinMs must be > 0, got ${withinMs}`);
  }
  for (const key of ["backoffMs", "maxBackoffMs"] as const) {
    const ms = policy[key];
    if (ms !== undefined && !(ms >= 0)) {
      throw new RangeError(`restart.${key} must be >= 0, got ${ms}`);
    }
  }
  return { ...policy };
}

/**
 * How long to wait before the `restartsInPeriod`-th restart within the
 * window: none for the first, then `backoffMs` (100) doubling each time,
 * up to `maxBackoffMs` (5000).
 *
 * @example
 * ```ts
 * import { backoffMs } from "./restart_policy.ts";
 * const policy = { maxRestarts: 5, withinMs: 60_000 };
 * console.log([1, 2, 3].map((n) => backoffMs(policy, n))); // [0, 100, 200]
 * ```
 */
export function backoffMs(
  policy: RestartPolicy,
  restartsInPeriod: number,
): number {
  if (restartsInPeriod <= 1) return 0;
  const base = policy.backoffMs ?? 100;
  const cap = policy.maxBackoffMs ?? 5000;
  return Math.min(cap, base * 2 ** (restartsInPeriod - 2));
}
