/**
 * A value's trip through the TCP codec (`encodeValue`, then
 * `decodeValue`), for the codec's tests: what comes back, and the check
 * that it is deeply, strictly the value sent.
 *
 * @module
 */

import assert from "node:assert/strict";
import { decodeValue, encodeValue } from "../transport/codec.ts";

/**
 * `value` encoded and decoded again.
 *
 * @example
 * ```ts
 * import { roundTrip } from "./round_trip.ts";
 * console.log(roundTrip(new Map([[1, 2n]]))); // Map(1) { 1 => 2n }
 * ```
 */
export function roundTrip<T>(value: T): T {
  return decodeValue(encodeValue(value)) as T;
}

/**
 * Round trips `value` and checks it is deeply, strictly equal.
 *
 * @example
 * ```ts
 * import { same } from "./round_trip.ts";
 * same(new Date(0));
 * ```
 */
export function same(value: unknown, message?: string): void {
  assert.deepStrictEqual(roundTrip(value), value, message);
}
