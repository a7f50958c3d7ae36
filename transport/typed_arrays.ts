/**
 * The typed array types, in the order whose index is their kind on the wire
 * (PROTOCOL.md): the one list the codec and the thread transport share.
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
] as const;

/** One of `TYPED_ARRAYS`. */
export type TypedArrayConstructor = (typeof TYPED_ARRAYS)[number];
