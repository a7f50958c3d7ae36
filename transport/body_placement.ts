/**
 * Where a large frame body goes in its buffer, so that its big typed array
 * decodes in place. msgpack has no padding: a `Float64Array` in a frame
 * starts wherever the bytes before it end, and one whose bytes are not on
 * an 8-byte boundary of their buffer must be copied to become an array
 * (80 MB: tens of ms). The reader picks where the body starts, so it can
 * put that array on the boundary instead.
 *
 * @module
 */

import { EXT } from "./codec.ts";
import { TYPED_ARRAYS } from "./typed_arrays.ts";

/** msgpack's ext 32 marker: then a 4-byte size and the type. */
const EXT32 = 0xc9;
const EXT32_HEADER = 6;
/** How far into the body the big array's header is looked for. */
const SCAN_BYTES = 4096;

/**
 * How many bytes to leave before a body of `bodyBytes` in its buffer (0–7),
 * given its first bytes (`prefix`): the one typed array that makes up at
 * least half the body then starts aligned. 0 when there is none in sight;
 * a guess that misses costs only the copy it tried to save, never a value.
 *
 * @example
 * ```ts
 * import { bodyPlacement } from "./body_placement.ts";
 * import { encodeValue } from "./codec.ts";
 * const body = encodeValue({ t: "x", a: new Float64Array(1000) });
 * const pad = bodyPlacement(body.subarray(0, 100), body.byteLength);
 * console.log(pad >= 0 && pad < 8); // true
 * ```
 */
export function bodyPlacement(prefix: Uint8Array, bodyBytes: number): number {
  const end = Math.min(prefix.byteLength, SCAN_BYTES) - EXT32_HEADER;
  const view = new DataView(prefix.buffer, prefix.byteOffset);
  for (let at = 0; at <= end; at++) {
    if (prefix[at] !== EXT32) continue;
    const size = view.getUint32(at + 1);
    const Ctor = TYPED_ARRAYS[view.getInt8(at + 5) - EXT.typedArrayBase];
    if (!Ctor || size * 2 < bodyBytes) continue;
    const start = at + EXT32_HEADER;
    const align = Ctor.BYTES_PER_ELEMENT;
    if (start + size > bodyBytes || size % align !== 0) continue;
    return (align - (start % align)) % align;
  }
  return 0;
}
