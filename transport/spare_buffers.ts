/**
 * Buffers a thread may copy its large arrays into instead of fresh memory.
 * An engine process's task thread copies every large array it sends to its
 * relay (the task's namespace keeps the original); into a fresh 80 MB
 * buffer that copy costs about three times what it does into memory already
 * touched, because every fresh page faults once. Once the relay has written
 * such a copy to its socket, nothing reads it any more, so the relay gives
 * it back (`{ t: "spare" }`) and the next copy of that size goes into it.
 *
 * @module
 */

/** Copies at least this large go into a spare buffer when one fits. */
export const SPARE_MIN_BYTES: number = 2 ** 20;
/** How many spare buffers a thread keeps: the newest. */
const SPARES_KEPT = 2;

const spares: ArrayBuffer[] = [];

/**
 * Keeps `buffer`, which nothing else reads or will read, for a later copy
 * of its size; small, detached or shared buffers are ignored, and only the
 * newest `SPARES_KEPT` are kept, so that what a thread holds stays bounded.
 *
 * @example
 * ```ts
 * import { keepSpare, takeSpare } from "./spare_buffers.ts";
 * keepSpare(new ArrayBuffer(1 << 20));
 * console.log(takeSpare(1 << 20)?.byteLength); // 1048576
 * ```
 */
export function keepSpare(buffer: ArrayBufferLike): void {
  if (
    !(buffer instanceof ArrayBuffer) || buffer.detached ||
    buffer.resizable || buffer.byteLength < SPARE_MIN_BYTES
  ) {
    return;
  }
  spares.unshift(buffer);
  spares.length = Math.min(spares.length, SPARES_KEPT);
}

/**
 * A spare buffer of exactly `bytes` bytes, no longer kept here, or
 * `undefined` when there is none: a copy goes into fresh memory then.
 *
 * @example
 * ```ts
 * import { takeSpare } from "./spare_buffers.ts";
 * console.log(takeSpare(12345)); // undefined
 * ```
 */
export function takeSpare(bytes: number): ArrayBuffer | undefined {
  if (bytes < SPARE_MIN_BYTES) return undefined;
  const at = spares.findIndex((buffer) => buffer.byteLength === bytes);
  return at < 0 ? undefined : spares.splice(at, 1)[0];
}
