/**
 * Frames: a 4-byte big-endian length, then that many bytes of body.
 *
 * @module
 */

/** Bytes in a frame's length prefix. */
export const HEADER_BYTES = 4;

/**
 * Bytes asked of the socket per read, at most (as Deno's own readable
 * stream does) and at least. A `FramedConnection` reads into one buffer of
 * the most, again and again (a fresh buffer per read cost an allocation per
 * message); `nextReadBytes` sizes fresh buffers per read.
 */
export const MAX_READ_BYTES: number = 64 * 1024;
const MIN_READ_BYTES = 4 * 1024;

/** The largest frame a connection accepts unless told otherwise: 256 MiB. */
export const DEFAULT_MAX_FRAME_BYTES: number = 256 * 2 ** 20;

/**
 * The byte stream broke the framing rules; the connection must close.
 *
 * @example
 * ```ts
 * import { FrameError } from "./frame.ts";
 * const e = new FrameError("a frame of 4 GiB is over the 256 MiB limit");
 * console.log(e.message);
 * ```
 */
export class FrameError extends Error {
  /** Whole frames that came before the break in the same chunk. */
  frames: Uint8Array[] = [];
  /** `true`: a frame over the limit, rather than bytes that are no frame. */
  tooLarge = false;

  /** `message` says what the peer sent. */
  constructor(message: string) {
    super(message);
    this.name = "FrameError";
  }
}

/**
 * The length prefix of a frame whose body is `bodyBytes` long.
 *
 * @example
 * ```ts
 * import { frameHeader } from "./frame.ts";
 * console.log(frameHeader(258)); // Uint8Array [0, 0, 1, 2]
 * ```
 */
export function frameHeader(bodyBytes: number): Uint8Array {
  const header = new Uint8Array(HEADER_BYTES);
  new DataView(header.buffer).setUint32(0, bodyBytes);
  return header;
}

/**
 * Splits a byte stream into frame bodies, whatever the chunking: every split
 * of the same stream gives the same frames. A length over `maxFrameBytes`
 * fails at once, before anything is allocated for it.
 *
 * Bodies are views into the pushed chunks where a body lies within one
 * chunk, so callers must not reuse a chunk after pushing it (a fresh buffer
 * per read, as `ReadableStream` gives, is right), unless they push it as
 * `transient`: then what the decoder returns or keeps is copied.
 *
 * @example
 * ```ts
 * import { FrameDecoder, frameHeader } from "./frame.ts";
 * const decoder = new FrameDecoder(1024);
 * const stream = new Uint8Array([...frameHeader(2), 7, 8]);
 * console.log(decoder.push(stream.subarray(0, 3))); // []
 * console.log(decoder.push(stream.subarray(3))); // [Uint8Array [7, 8]]
 * ```
 */
export class FrameDecoder {
  #max: number;
  /** Unconsumed chunks from `#head` on; consumed ones are dropped in bulk. */
  #chunks: Uint8Array[] = [];
  #head = 0;
  #buffered = 0;
  #bodyBytes: number | undefined;
  /** A body being read straight into its own buffer (`directRegion`). */
  #direct: { body: Uint8Array; filled: number } | undefined;

  /** Accepts frames up to `maxFrameBytes` bytes of body. */
  constructor(maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES) {
    this.#max = maxFrameBytes;
  }

  /** The largest body accepted; raised once a peer has authenticated. */
  set maxFrameBytes(bytes: number) {
    this.#max = bytes;
  }

  /** Bytes received that do not make a whole frame yet. */
  get buffered(): number {
    return this.#buffered + (this.#direct?.filled ?? 0) +
      (this.#bodyBytes === undefined ? 0 : HEADER_BYTES);
  }

  /**
   * Where to read the rest of a large body straight into, so that it is not
   * gathered from chunks (a copy of the whole body): once at least one byte
   * of a body of `minBytes` or more has arrived, a buffer of the body's size
   * is made, what has arrived is moved into it, and the rest of it is
   * returned; report each read into it with `filled`. Until the body is
   * complete, `push` must not be called. Nothing is allocated for a body
   * that has only been announced. `place(prefix, bodyBytes)` says how many
   * bytes to leave before the body in its buffer (so that what it holds can
   * be read in place, aligned), given the bytes that have arrived.
   * `undefined` when no such body is under way.
   */
  directRegion(
    minBytes: number,
    place: (prefix: Uint8Array, bodyBytes: number) => number = () => 0,
  ): Uint8Array | undefined {
    if (this.#direct) return this.#direct.body.subarray(this.#direct.filled);
    const length = this.#bodyBytes;
    if (length === undefined || length < minBytes || this.#buffered === 0) {
      return undefined;
    }
    const prefix = this.#take(this.#buffered);
    this.#compact();
    const pad = place(prefix, length);
    const body = new Uint8Array(new ArrayBuffer(pad + length), pad, length);
    body.set(prefix);
    this.#direct = { body, filled: prefix.byteLength };
    return body.subarray(prefix.byteLength);
  }

  /**
   * Counts `n` bytes read into the region `directRegion` gave; returns the
   * body once it is complete, otherwise nothing.
   */
  filled(n: number): Uint8Array[] {
    const direct = this.#direct;
    if (!direct) throw new Error("filled() without a directRegion()");
    direct.filled += n;
    if (direct.filled < direct.body.byteLength) return [];
    this.#direct = undefined;
    this.#bodyBytes = undefined;
    return [direct.body];
  }

  /**
   * Takes the next bytes; returns every frame body they complete. Throws a
   * `FrameError` when the stream breaks the rules; frames completed before
   * the break, in the same chunk, are returned by the call that throws as
   * `error.frames`. With `transient`, `chunk` lies in a buffer that the
   * caller reads into again: the bodies returned and the bytes kept are
   * copies, never views of it.
   */
  push(chunk: Uint8Array, transient = false): Uint8Array[] {
    if (this.#direct) {
      throw new Error("push() while a body is read directly (directRegion)");
    }
    if (chunk.byteLength > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.byteLength;
    }
    const frames: Uint8Array[] = [];
    while (true) {
      if (this.#bodyBytes === undefined) {
        if (this.#buffered < HEADER_BYTES) break;
        const header = this.#take(HEADER_BYTES);
        const length = new DataView(
          header.buffer,
          header.byteOffset,
          HEADER_BYTES,
        ).getUint32(0);
        if (length > this.#max) {
          const error = new FrameError(
            looksLikeText(header)
              ? `the peer sent text, not frames (it began with ` +
                `${JSON.stringify(new TextDecoder().decode(header))}): an ` +
                "HTTP client or another protocol on troupe's port?"
              : `the peer announced a frame of ${formatBytes(length)}, ` +
                `over the limit of ${formatBytes(this.#max)}`,
          );
          error.frames = transient ? this.#own(frames, chunk) : frames;
          error.tooLarge = !looksLikeText(header);
          throw error;
        }
        this.#bodyBytes = length;
      }
      if (this.#buffered < this.#bodyBytes) break;
      frames.push(this.#take(this.#bodyBytes));
      this.#bodyBytes = undefined;
    }
    this.#compact();
    return transient ? this.#own(frames, chunk) : frames;
  }

  /**
   * `frames` and the kept chunks, with what lies in `chunk`'s buffer
   * copied: small bodies cost a small copy each, where a fresh buffer per
   * read cost an allocation of the whole read size.
   */
  #own(frames: Uint8Array[], chunk: Uint8Array): Uint8Array[] {
    const { buffer } = chunk;
    for (let i = 0; i < this.#chunks.length; i++) {
      if (this.#chunks[i].buffer === buffer) {
        this.#chunks[i] = this.#chunks[i].slice();
      }
    }
    return frames.map((body) => body.buffer === buffer ? body.slice() : body);
  }

  /** Removes `n` buffered bytes, copying only when they span chunks. */
  #take(n: number): Uint8Array {
    this.#buffered -= n;
    const first = this.#chunks[this.#head];
    if (first && first.byteLength >= n) {
      if (first.byteLength === n) this.#head++;
      else this.#chunks[this.#head] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[this.#head];
      const used = Math.min(chunk.byteLength, n - filled);
      out.set(chunk.subarray(0, used), filled);
      filled += used;
      if (used === chunk.byteLength) this.#head++;
      else this.#chunks[this.#head] = chunk.subarray(used);
    }
    return out;
  }

  /** Drops used chunks in one go: shifting them one by one is quadratic. */
  #compact(): void {
    if (this.#head === 0) return;
    this.#chunks.splice(0, this.#head);
    this.#head = 0;
  }
}

/**
 * The error of a message too big for one frame, thrown by the side that
 * would send it (nothing is sent): it names the size, the limit and the
 * option that sets it. Callers add what the message was.
 *
 * @example
 * ```ts
 * import { frameTooLarge } from "./frame.ts";
 * console.log(frameTooLarge(3 * 2 ** 20, 2 ** 20).message);
 * ```
 */
export function frameTooLarge(bytes: number, limit: number): RangeError {
  return new RangeError(
    `it is ${formatBytes(bytes)} as a frame, over the ` +
      `${formatBytes(limit)} limit of one frame between the client and an ` +
      "engine process (ClientOptions.maxFrameBytes). Send less at a time " +
      "(split the data over several calls or tasks, e.g. scatter or a " +
      "map), or start the client with a larger maxFrameBytes",
  );
}

/**
 * Bytes as a person reads them: "512 B", "4 KiB", "256 MiB", "4 GiB".
 *
 * @example
 * ```ts
 * import { formatBytes } from "./frame.ts";
 * console.log(formatBytes(2 ** 32)); // "4 GiB"
 * ```
 */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}

/** Four printable ASCII bytes, as "GET ", "POST" or "SSH-" begin. */
function looksLikeText(header: Uint8Array): boolean {
  return header.every((b) => b >= 0x20 && b < 0x7f);
}

/**
 * The next read's size after a read of `size` returned `n` bytes: twice as
 * much when it came full, down to what came (a quarter at a time) when it
 * came far from full, within MIN_READ_BYTES..MAX_READ_BYTES.
 *
 * @example
 * ```ts
 * import { nextReadBytes } from "./frame.ts";
 * console.log(nextReadBytes(65536, 40)); // 16384
 * ```
 */
export function nextReadBytes(size: number, n: number): number {
  if (n >= size) return Math.min(MAX_READ_BYTES, size * 2);
  if (n * 4 < size) return Math.max(MIN_READ_BYTES, size / 4);
  return size;
}
