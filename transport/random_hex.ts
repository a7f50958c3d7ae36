/**
 * Random secrets as text: keys, one-time tokens, the dashboard's token.
 *
 * @module
 */

/**
 * `bytes` random bytes from the system's CSPRNG, as lowercase hex.
 *
 * @example
 * ```ts
 * import { randomHex } from "./random_hex.ts";
 * console.log(randomHex(16).length); // 32
 * ```
 */
export function randomHex(bytes: number): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(bytes)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}
