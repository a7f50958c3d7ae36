/**
 * Whether an address stays on this host: what decides if frames may go
 * plain.
 *
 * @module
 */

/**
 * `true` for `localhost`, 127.0.0.0/8 (also as `::ffff:127.x.y.z`) and `::1`:
 * a listener bound there, or a client reached there, is not on a network
 * that others can watch. Anything else, `0.0.0.0` and `::` included, is not.
 *
 * @example
 * ```ts
 * import { isLoopback } from "./loopback.ts";
 * console.log(isLoopback("127.0.0.1"), isLoopback("0.0.0.0")); // true false
 * ```
 */
export function isLoopback(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, "");
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (host === "::1" || /^(0+:){7}0*1$/.test(host)) return true;
  const v4 = host.replace(/^::ffff:/, "");
  const parts = v4.split(".");
  return parts.length === 4 && parts[0] === "127" &&
    parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

/**
 * `true` for the addresses that bind every interface (`0.0.0.0`, `::`):
 * no peer can dial them.
 *
 * @example
 * ```ts
 * import { isWildcard } from "./loopback.ts";
 * console.log(isWildcard("0.0.0.0"), isWildcard("127.0.0.1")); // true false
 * ```
 */
export function isWildcard(hostname: string): boolean {
  return hostname === "0.0.0.0" || hostname === "::";
}

/**
 * The address peers dial for a listener bound to `bound`: `advertise` if
 * given, this host's name when `bound` is a wildcard, else `bound`.
 *
 * @example
 * ```ts
 * import { advertisedHost } from "./loopback.ts";
 * console.log(advertisedHost("0.0.0.0", "login1")); // login1
 * console.log(advertisedHost("127.0.0.1")); // 127.0.0.1
 * ```
 */
export function advertisedHost(bound: string, advertise?: string): string {
  return advertise ?? (isWildcard(bound) ? Deno.hostname() : bound);
}
