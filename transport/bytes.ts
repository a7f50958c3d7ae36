/**
 * Byte buffers joined end to end: the handshake's signed inputs, sealed
 * records, and tests that read a recorded stream all need it.
 *
 * @module
 */

/**
 * One new buffer holding `parts` in order.
 *
 * @example
 * ```ts
 * import { concatBytes } from "./bytes.ts";
 * const joined = concatBytes([new Uint8Array([1, 2]), new Uint8Array([3])]);
 * console.log(joined); // Uint8Array(3) [ 1, 2, 3 ]
 * ```
 */
export function concatBytes(
  parts: readonly Uint8Array[],
): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}
