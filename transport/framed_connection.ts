/**
 * A TCP connection that carries msgpack values in frames.
 *
 * @module
 */

import { bodyPlacement } from "./body_placement.ts";
import { concatBytes } from "./bytes.ts";
import { decodeValue, encodeParts, encodeValue } from "./codec.ts";
import {
  DEFAULT_MAX_FRAME_BYTES,
  FrameDecoder,
  FrameError,
  frameHeader,
  frameTooLarge,
  HEADER_BYTES,
  MAX_READ_BYTES,
} from "./frame.ts";
import { FrameWriter } from "./frame_writer.ts";
import { CloseNotice } from "./close_notice.ts";
import { FrameOpening } from "./frame_opening.ts";
import { WireCounts } from "./wire_counts.ts";
import { type FrameSeal, sealedBytes } from "./seal.ts";

/**
 * Bodies at least this large are read into a buffer of their own, instead
 * of being gathered from the reads' chunks: the read buffer is reused, so
 * the decoder would copy each chunk of such a body out of it, then gather
 * the copies (two copies of the body less).
 */
const DIRECT_READ_BYTES = MAX_READ_BYTES;

/**
 * Reads and writes framed msgpack values on `conn`. Writes are queued and go
 * out in order, the small frames that are ready together in one write
 * (`FrameWriter`); `send` resolves once its frame is handed to the kernel, which
 * is what lets an engine pace its publishing on a slow network. Any broken
 * rule (oversized or malformed frame) closes the connection, once, with the
 * reason; nothing else is affected.
 *
 * @example
 * ```ts
 * import { FramedConnection } from "./framed_connection.ts";
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const accepted = listener.accept();
 * const { port } = listener.addr;
 * const conn = new FramedConnection(
 *   await Deno.connect({ hostname: "127.0.0.1", port }),
 * );
 * const peer = new FramedConnection(await accepted);
 * const received = Promise.withResolvers<unknown>();
 * peer.onValue = received.resolve;
 * peer.onClose = (reason) => console.log("peer closed:", reason);
 * peer.start();
 * conn.start();
 * await conn.send({ hello: "world" });
 * console.log(await received.promise); // { hello: "world" }
 * conn.close("done");
 * await Promise.all([conn.closed, peer.closed]);
 * ```
 */
export class FramedConnection {
  #closeNotice = new CloseNotice();
  /** Frames and bytes read and written, for the wire metrics. */
  readonly counts: WireCounts = new WireCounts();
  /** The wire size of the frame whose value is being delivered now. */
  #delivering = 0;
  #conn: Deno.Conn;
  #decoder: FrameDecoder;
  /** The largest frame the peer accepts, which is the one this side does. */
  #sendMax: number;
  #writer: FrameWriter;
  /**
   * What small reads go into, again and again: a fresh buffer per read is
   * an allocation (and its zeroing) per message, several µs each here.
   */
  #readBuffer: Uint8Array | undefined;
  #closeReason: string | undefined;
  /** Why the peer broke the protocol, if it did. */
  #brokenBy: "frame_too_large" | "malformed_frame" | undefined;
  #closed: PromiseWithResolvers<void> = Promise.withResolvers();
  #reading: Promise<void> | undefined;
  #onValue: ((value: unknown) => void) | undefined;
  /** Bodies (opened, once sealed) that no handler has taken yet. */
  #held: Uint8Array[] = [];
  #seal: FrameSeal | undefined;
  /** Opens in flight, in frame order. */
  #opening = new FrameOpening(
    (plain) => {
      if (this.#closeReason !== undefined) return;
      if (this.#onValue) this.#deliver(plain);
      else this.#held.push(plain);
    },
    (reason) => this.#fail(reason),
  );

  /** Wraps `conn`; call `start()` to begin reading. */
  constructor(
    conn: Deno.Conn,
    maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES,
  ) {
    this.#conn = conn;
    this.#decoder = new FrameDecoder(maxFrameBytes);
    this.#sendMax = maxFrameBytes;
    this.#writer = new FrameWriter(
      conn,
      (error) => this.close(`write failed: ${error}`),
    );
    if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
  }

  /**
   * Called for each value received, in order. Values that arrive while no
   * handler is set are held and handed to the next one set, so that a
   * change of owner (handshake, then engine) loses nothing.
   */
  set onValue(handler: ((value: unknown) => void) | undefined) {
    this.#onValue = handler;
    while (
      this.#onValue && this.#held.length > 0 && this.#closeReason === undefined
    ) {
      this.#deliver(this.#held.shift()!);
    }
  }

  /**
   * Called once when the connection has closed, with why. A handler set
   * after the close is called too (on a microtask): a close that comes while
   * one owner hands the connection to the next (handshake, then engine)
   * reaches the next owner, as held values do.
   */
  get onClose(): (reason: string) => void {
    return this.#closeNotice.handler;
  }

  set onClose(handler: (reason: string) => void) {
    this.#closeNotice.handler = handler;
  }

  /**
   * While `onValue` runs: the size on the wire of the frame it was given
   * (its length prefix and seal included), e.g. a publication's.
   */
  get deliveringBytes(): number {
    return this.#delivering;
  }

  /** Whether frames are sealed (from the end of the handshake on). */
  get sealed(): boolean {
    return this.#seal !== undefined;
  }

  /**
   * From now on every frame sent is sealed, and every frame received must
   * be, including those received and not yet taken: the handshake calls this
   * right after its last plain frame each way. A frame that fails to open
   * closes the connection as broken, with the reason.
   */
  seal(seal: FrameSeal): void {
    if (this.#seal) throw new Error("this connection is sealed already");
    this.#seal = seal;
    const held = this.#held;
    this.#held = [];
    for (const body of held) this.#opening.open(seal, body);
  }

  /** The peer's address, as "host:port". */
  get peer(): string {
    const addr = this.#conn.remoteAddr as Deno.NetAddr;
    return `${addr.hostname}:${addr.port}`;
  }

  /**
   * Changes the largest frame accepted from now on, and the largest sent:
   * both ends of a troupe connection keep the client's limit.
   */
  set maxFrameBytes(bytes: number) {
    this.#decoder.maxFrameBytes = bytes;
    this.#sendMax = bytes;
  }

  /** The largest frame sent or accepted. */
  get maxFrameBytes(): number {
    return this.#sendMax;
  }

  /**
   * How long the frame of a `bodyBytes` body is on the wire, past its
   * length prefix: sealing adds a tag per record.
   */
  frameBytes(bodyBytes: number): number {
    return this.#seal ? sealedBytes(bodyBytes) : bodyBytes;
  }

  /** Bytes read so far, whole frames or not: a large one coming is life. */
  get bytesRead(): number {
    return this.counts.bytesIn;
  }

  /**
   * `true` when the peer broke the protocol (an oversized or malformed
   * frame), rather than closing or being closed.
   */
  get broken(): boolean {
    return this.#brokenBy !== undefined;
  }

  /** How the peer broke the protocol, if it did (a drop's cause). */
  get brokenBy(): "frame_too_large" | "malformed_frame" | undefined {
    return this.#brokenBy;
  }

  /** Resolves once the connection has closed and reading has stopped. */
  get closed(): Promise<void> {
    return this.#closed.promise;
  }

  /**
   * Lets the process end while the connection waits for data; what arrives
   * while something else keeps the process alive is still read.
   */
  unref(): void {
    this.#conn.unref();
  }

  /** Starts the read loop. */
  start(): void {
    this.#reading ??= this.#read();
  }

  /**
   * Encodes `value` and queues its frame. Throws at once if `value` cannot be
   * encoded, or its frame would be over `maxFrameBytes` (a `RangeError`):
   * nothing is sent then. The promise resolves when the frame has been
   * written, and rejects if the connection closed first.
   */
  send(value: unknown): Promise<void> {
    const body = encodeValue(value);
    return this.sendBody(body);
  }

  /**
   * Queues an already encoded frame body; throws at once, sending nothing,
   * if its frame would be over `maxFrameBytes`. `moreComing`: more frames
   * are expected right behind it, to go in one write (`FrameWriter.write`).
   */
  sendBody(body: Uint8Array, moreComing = false): Promise<void> {
    const refused = this.#refused(body.byteLength);
    if (refused) return refused;
    if (this.#seal) {
      // Sealing starts now, so that it overlaps the writes queued before;
      // a big frame's first records go out while the rest are sealed.
      const { byteLength, records } = this.#seal.sealRecords(body);
      for (const record of records) record.catch(() => {}); // The writer's.
      return this.#write(
        [frameHeader(byteLength), ...records],
        HEADER_BYTES + byteLength,
        moreComing,
      );
    }
    return this.#write(
      [frameHeader(body.byteLength), body],
      HEADER_BYTES + body.byteLength,
      moreComing,
    );
  }

  /**
   * Like `send`, for a value whose arrays nothing changes until its frame
   * is written: its large arrays are written from where they are instead
   * of being copied into the frame (`encodeParts`). `moreComing` as for
   * `sendBody`.
   */
  sendOwned(value: unknown, moreComing = false): Promise<void> {
    const parts = encodeParts(value);
    // Sealing reads one body; a plain frame's parts go out as they are.
    if (parts.length === 1 || this.#seal) {
      const body = parts.length === 1 ? parts[0] : concatBytes(parts);
      return this.sendBody(body, moreComing);
    }
    const bodyBytes = parts.reduce((n, part) => n + part.byteLength, 0);
    const refused = this.#refused(bodyBytes);
    if (refused) return refused;
    return this.#write(
      [frameHeader(bodyBytes), ...parts],
      HEADER_BYTES + bodyBytes,
      moreComing,
    );
  }

  /** Queues one frame's parts, counted as written. */
  #write(
    parts: (Uint8Array | Promise<Uint8Array>)[],
    bytes: number,
    moreComing: boolean,
  ): Promise<void> {
    this.counts.framesOut++;
    this.counts.bytesOut += bytes;
    return this.#writer.write(parts, bytes, moreComing);
  }

  /**
   * Throws if a body of `bodyBytes` would make a frame over the limit;
   * a rejection if the connection has closed; otherwise nothing.
   */
  #refused(bodyBytes: number): Promise<never> | undefined {
    const bytes = this.frameBytes(bodyBytes);
    if (bytes > this.#sendMax) throw frameTooLarge(bytes, this.#sendMax);
    if (this.#closeReason === undefined) return undefined;
    return Promise.reject(new Error(`connection closed: ${this.#closeReason}`));
  }

  /** Closes the connection (idempotent); `onClose` gets `reason`. */
  close(reason: string): void {
    if (this.#closeReason !== undefined) return;
    this.#closeReason = reason;
    try {
      this.#conn.close();
    } catch {
      // Closed by the peer already.
    }
    const done = this.#reading ?? Promise.resolve();
    done.finally(() => {
      this.#closed.resolve();
      this.#closeNotice.closed(reason);
    });
  }

  async #read(): Promise<void> {
    try {
      while (true) {
        // A large body is read straight into a buffer of its own; anything
        // else into the read buffer, which the decoder copies bodies out of.
        const region = this.#decoder.directRegion(
          DIRECT_READ_BYTES,
          bodyPlacement,
        );
        const into = region ??
          (this.#readBuffer ??= new Uint8Array(MAX_READ_BYTES));
        const n = await this.#conn.read(into);
        if (n === null) break;
        this.counts.bytesIn += n;
        let bodies: Uint8Array[];
        let broken: unknown;
        try {
          bodies = region
            ? this.#decoder.filled(n)
            : this.#decoder.push(into.subarray(0, n), true);
        } catch (error) {
          // Deliver what came whole before the break, then close.
          bodies = error instanceof FrameError ? error.frames : [];
          broken = error;
        }
        for (const body of bodies) {
          if (this.#closeReason !== undefined) return;
          if (this.#seal) this.#opening.open(this.#seal, body);
          else if (this.#onValue) this.#deliver(body);
          else this.#held.push(body);
        }
        if (broken !== undefined) throw broken;
        if (this.#opening.full) await this.#opening.settled;
      }
      await this.#opening.settled;
      this.close("the peer closed the connection");
    } catch (error) {
      await this.#opening.settled;
      // A reset is how a peer whose process was killed usually goes (it
      // had unread data): a death to report, not a breach of the protocol.
      const reset = error instanceof Deno.errors.ConnectionReset;
      if (this.#closeReason === undefined && !reset) {
        this.#brokenBy = error instanceof FrameError && error.tooLarge
          ? "frame_too_large"
          : "malformed_frame";
      }
      this.close(
        this.#closeReason ??
          (reset ? "the peer reset the connection" : messageOf(error)),
      );
    }
  }

  /** Decodes a plain body for the handler; a broken one closes the connection. */
  #deliver(body: Uint8Array): void {
    this.counts.framesIn++;
    this.#delivering = HEADER_BYTES + this.frameBytes(body.byteLength);
    let value: unknown;
    try {
      value = decodeValue(body);
    } catch (error) {
      this.#fail(`a frame was not valid msgpack: ${messageOf(error)}`);
      return;
    }
    try {
      this.#onValue!(value);
    } catch (error) {
      this.#fail(messageOf(error));
    }
  }

  /** The peer broke the protocol: close once, as broken, with why. */
  #fail(reason: string): void {
    if (this.#closeReason !== undefined) return;
    this.#brokenBy = "malformed_frame";
    this.close(reason);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
