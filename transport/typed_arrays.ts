/**
 * The typed array types, in the order whose index is their kind on the wire
 * (PROTOCOL.md): the one list the codec and the thread transport share, and
 * how the codec reads one from its bytes.
 *
 * @module
 */

/**
 * Every built-in typed array constructor; the index is the wire kind.
 *
 * @example
 * ```ts
 * import { TYPED_ARRAYS } from "./typed_arrays.ts";
 * console.log(TYPED_ARRAYS.indexOf(Float64Array)); // 8
 * ```
 */
export const TYPED_ARRAYS = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  // Last: kinds are positions, and it came after the others (ES2025).
  Float16Array,
] as const;

/** One of `TYPED_ARRAYS`. */
export type TypedArrayConstructor = (typeof TYPED_ARRAYS)[number];

/**
 * Below this size a decoded typed array gets a buffer of its own, so that a
 * small array does not keep a whole frame alive; above it an aligned array
 * is a view into the frame, with no copy.
 */
const COPY_BELOW_BYTES = 4096;

/**
 * The typed array of kind `Ctor` whose bytes are `data`: a view of `data`
 * when it is large and aligned (no copy), otherwise a copy of its own.
 * Throws a `RangeError` when `data` is not a whole number of items.
 *
 * @example
 * ```ts
 * import { viewAs } from "./typed_arrays.ts";
 * const bytes = new Uint8Array(new Float64Array([1, 2]).buffer);
 * console.log(viewAs(Float64Array, bytes)); // Float64Array(2) [ 1, 2 ]
 * ```
 */
export function viewAs(Ctor: TypedArrayConstructor, data: Uint8Array): unknown {
  const size = Ctor.BYTES_PER_ELEMENT;
  if (data.byteLength % size !== 0) {
    throw new RangeError(
      `a ${Ctor.name} needs a multiple of ${size} bytes, got ${data.byteLength}`,
    );
  }
  const aligned = data.byteOffset % size === 0;
  const bytes = aligned && data.byteLength >= COPY_BELOW_BYTES
    ? data
    : data.slice();
  return new Ctor(
    bytes.buffer as ArrayBuffer,
    bytes.byteOffset,
    bytes.byteLength / size,
  );
}
