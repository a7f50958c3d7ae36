/**
 * Writing frames to a socket in order, the small ones that are ready
 * together. A write costs a system call and a wake-up of the reader
 * whatever it carries, so the frames queued while a write is under way go
 * out together as the next write; a frame sent while the socket is idle is
 * written at once, delayed by nothing (not even the end of its turn, which
 * costs a round trip some tens of µs), unless its sender says more are
 * right behind it: then it waits for the end of the event loop's turn.
 * An engine process's tiny tasks end some µs apart, each in its own turn;
 * written one by one, their results cost a system call each on both ends.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import { HEADER_BYTES } from "./frame.ts";

/** Frames up to this size (header included) are joined into one write. */
const JOIN_BYTES = 64 * 1024 + HEADER_BYTES;
/** The most that one joined write carries. */
const WRITE_BYTES = 256 * 1024;

/** A piece of a frame: its bytes, or bytes being sealed. */
export type FramePart = Uint8Array | Promise<Uint8Array>;

/** What a `FrameWriter` writes to: a `Deno.Conn`. */
export interface ByteSink {
  write(bytes: Uint8Array): Promise<number>;
}

interface Queued {
  parts: FramePart[];
  bytes: number;
  done: PromiseWithResolvers<void>;
}

/**
 * Writes queued frames in order. Once a write fails, the frames queued and
 * every later one are refused with its error, and `onError` hears it once.
 *
 * @example
 * ```ts
 * import { FrameWriter } from "./frame_writer.ts";
 * import { frameHeader } from "./frame.ts";
 * const written: Uint8Array[] = [];
 * const sink = { write: (b: Uint8Array) => (written.push(b.slice()), Promise.resolve(b.byteLength)) };
 * const writer = new FrameWriter(sink, console.error);
 * const body = new Uint8Array([1, 2]);
 * await Promise.all([
 *   writer.write([frameHeader(2), body], 6),
 *   writer.write([frameHeader(2), body], 6),
 * ]);
 * console.log(written.length); // 2: the first at once, the second after it
 * ```
 */
export class FrameWriter {
  #sink: ByteSink;
  #onError: (error: unknown) => void;
  #queue: Queued[] = [];
  #writing = false;
  #failed: { error: unknown } | undefined;
  /** A write is due at the end of this turn of the event loop. */
  #due = false;

  /** Writes to `sink`; `onError` hears the first failed write. */
  constructor(sink: ByteSink, onError: (error: unknown) => void) {
    this.#sink = sink;
    this.#onError = onError;
  }

  /**
   * Queues a frame of `bytes` bytes made of `parts` (header first);
   * resolves once all of it has been written. `moreComing` says that the
   * caller expects more frames right behind this one (an engine whose
   * thread has more tasks to finish): an idle socket then waits for the
   * end of this turn of the event loop (a `setImmediate`, some µs, bounded
   * by nothing the peer or a task does), so that what arrives meanwhile
   * goes in the same write. Any other frame is written at once, with
   * whatever waits.
   */
  write(
    parts: FramePart[],
    bytes: number,
    moreComing = false,
  ): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed.error);
    const done = Promise.withResolvers<void>();
    this.#queue.push({ parts, bytes, done });
    if (this.#writing) return done.promise;
    if (!moreComing) {
      // At once: a lone frame waits for nothing (the write op starts before
      // this returns). What is sent while it is written joins the next one.
      this.#startDrain();
    } else if (!this.#due) {
      this.#due = true;
      setImmediate(() => {
        this.#due = false;
        if (!this.#writing && this.#queue.length > 0) this.#startDrain();
      });
    }
    return done.promise;
  }

  #startDrain(): void {
    this.#writing = true;
    void this.#drain();
  }

  async #drain(): Promise<void> {
    let batch: Queued[] = [];
    let next = 0;
    try {
      while (this.#queue.length > 0) {
        batch = this.#queue;
        this.#queue = [];
        next = 0;
        while (next < batch.length) {
          let end = next;
          let size = 0;
          while (
            end < batch.length && batch[end].bytes <= JOIN_BYTES &&
            size + batch[end].bytes <= WRITE_BYTES
          ) {
            size += batch[end].bytes;
            end++;
          }
          if (end > next) {
            const out = joined(batch, next, end, size);
            await writeAll(
              this.#sink,
              out instanceof Uint8Array ? out : await out,
            );
          } else {
            // A large frame part by part: no copy to join it, and a sealed
            // one's first records go out while the rest are sealed.
            for (const part of batch[next].parts) {
              await writeAll(this.#sink, await part);
            }
            end = next + 1;
          }
          for (let i = next; i < end; i++) batch[i].done.resolve();
          next = end;
        }
      }
    } catch (error) {
      this.#failed = { error };
      for (const frame of [...batch.slice(next), ...this.#queue]) {
        frame.done.reject(error);
      }
      this.#queue = [];
      this.#onError(error);
    } finally {
      this.#writing = false;
    }
  }
}

/**
 * The frames `batch[from..to)`, `size` bytes, as one buffer; at once when
 * none is still being sealed, so that a ready frame waits for no tick.
 */
function joined(
  batch: Queued[],
  from: number,
  to: number,
  size: number,
): Uint8Array | Promise<Uint8Array> {
  const parts = batch.slice(from, to).flatMap((frame) => frame.parts);
  const ready = parts.every((part) => part instanceof Uint8Array);
  const join = (all: Uint8Array[]) => {
    const out = new Uint8Array(size);
    let at = 0;
    for (const bytes of all) {
      out.set(bytes, at);
      at += bytes.byteLength;
    }
    return out;
  };
  return ready ? join(parts as Uint8Array[]) : Promise.all(parts).then(join);
}

async function writeAll(sink: ByteSink, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.byteLength) {
    written += await sink.write(bytes.subarray(written));
  }
}
