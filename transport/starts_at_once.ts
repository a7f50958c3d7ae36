/**
 * How many engines may boot at once on one host: each spends ~0.15 s of CPU
 * loading troupe, starting its task thread and doing its handshake, and
 * hundreds of them booting together starve the client that registers them
 * (cluster/start_gate.ts).
 *
 * @module
 */

/**
 * How many engines boot at once on this host when nobody says: twice the
 * cores, at least 8. Measured with 256 engines on 2 cores, loaded by other
 * work: 8 at once all registered (25-53 s), 32 at once lost 119 to missed
 * heartbeats and handshake deadlines, all at once 1 of 256 in 60 s.
 *
 * @example
 * ```ts
 * import { defaultStartsAtOnce } from "./starts_at_once.ts";
 * console.log(defaultStartsAtOnce() >= 8); // true
 * ```
 */
export function defaultStartsAtOnce(): number {
  return Math.max(8, 2 * navigator.hardwareConcurrency);
}
