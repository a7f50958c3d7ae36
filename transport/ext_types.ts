/**
 * The msgpack extension types of troupe's codec (`codec.ts`): what each
 * number means on the wire.
 *
 * @module
 */

/**
 * Extension type numbers; see PROTOCOL.md.
 *
 * @example
 * ```ts
 * import { EXT } from "./ext_types.ts";
 * console.log(EXT.typedArrayBase + 8); // 24: a Float64Array
 * ```
 */
export const EXT = {
  undefined: 0,
  map: 1,
  set: 2,
  bigint: 3,
  error: 4,
  arrayBuffer: 5,
  dataView: 6,
  /** A `Date` whose time is NaN: msgpack's timestamp cannot say it. */
  invalidDate: 7,
  regExp: 8,
  /**
   * An object the value reaches more than once (shared, or a cycle), where
   * it first appears: a 4-byte big-endian number (0, 1, ... in order of
   * appearance), then the object's own encoding.
   */
  shared: 9,
  /** A later occurrence of shared object n: n as 4 bytes, big-endian. */
  ref: 10,
  /** Typed arrays take 16 + their kind, so no payload byte names the kind. */
  typedArrayBase: 16,
} as const;
