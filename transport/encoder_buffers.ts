/**
 * The buffers the codec's shared encoder writes large encodings in. Copying
 * a large encoding out of the shared buffer would cost a second copy of
 * every large array sent, so it keeps the buffer it was written in and the
 * encoder starts a new one. Once such an encoding has been written to its
 * socket, its buffer can come back: writing into memory the system has
 * already handed out is several times faster than into fresh memory (every
 * fresh page faults once), which is most of what encoding 80 MB costs.
 *
 * @module
 */

/** Encodings at least this large keep the buffer they were written in. */
export const HAND_OVER_BYTES: number = 2 ** 20;
/** Room left after a large write, for the rest of the message. */
const TAIL_ROOM_BYTES = 64 * 1024;

/** What of msgpack's `Encoder` this module reaches into. */
interface EncoderState {
  view: DataView;
  bytes: Uint8Array;
  initialBufferSize: number;
}

/** The encodings handed out, by their bytes (a buffer is handed out again). */
const handedOver = new WeakSet<Uint8Array>();

/**
 * The size to grow a buffer to when `size` more bytes must fit past
 * `required - size`: msgpack doubles what is needed, which for an 80 MB
 * array is 160 MB; a large write gets what it needs and room for the rest.
 *
 * @example
 * ```ts
 * import { grownSize } from "./encoder_buffers.ts";
 * console.log(grownSize(100, 10)); // 200
 * ```
 */
export function grownSize(required: number, size: number): number {
  return size >= HAND_OVER_BYTES ? required + TAIL_ROOM_BYTES : required * 2;
}

/**
 * `bytes`, which lie in `encoder`'s buffer, as bytes of the caller's own:
 * a copy when small; when large, the buffer itself, and `encoder` gets a
 * new one.
 *
 * @example
 * ```ts
 * import { handOver } from "./encoder_buffers.ts";
 * const encoder = { view: new DataView(new ArrayBuffer(8)), bytes: new Uint8Array(8), initialBufferSize: 8 };
 * console.log(handOver(encoder, encoder.bytes.subarray(0, 2)).byteLength); // 2
 * ```
 */
export function handOver(encoder: object, bytes: Uint8Array): Uint8Array {
  if (bytes.byteLength < HAND_OVER_BYTES) return bytes.slice();
  const state = encoder as EncoderState;
  state.view = new DataView(new ArrayBuffer(state.initialBufferSize));
  state.bytes = new Uint8Array(state.view.buffer);
  handedOver.add(bytes);
  return bytes;
}

/**
 * Gives `encoder` back the buffer of a large encoding that `handOver`
 * handed out, once nothing reads it any more (its frame is written), if
 * it is larger than the encoder's; anything else is left alone.
 *
 * @example
 * ```ts
 * import { takeBack } from "./encoder_buffers.ts";
 * const encoder = { view: new DataView(new ArrayBuffer(8)), bytes: new Uint8Array(8), initialBufferSize: 8 };
 * takeBack(encoder, new Uint8Array(4)); // not handed out: ignored
 * console.log(encoder.bytes.byteLength); // 8
 * ```
 */
export function takeBack(encoder: object, bytes: Uint8Array): void {
  const buffer = bytes.buffer;
  if (!handedOver.delete(bytes) || !(buffer instanceof ArrayBuffer)) return;
  const state = encoder as EncoderState;
  if (buffer.byteLength <= state.view.byteLength) return;
  state.view = new DataView(buffer);
  state.bytes = new Uint8Array(buffer);
}
