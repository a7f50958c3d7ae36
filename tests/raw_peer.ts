/**
 * The engine side of handshake tests, by hand: a raw TCP peer on 127.0.0.1
 * that sends whatever bytes or frames a test likes and keeps every byte it
 * receives, and the pieces of an honest engine's proof (PROTOCOL.md) to
 * build a right or a wrong answer from.
 *
 * @module
 */

import assert from "node:assert/strict";
import { concatBytes } from "../transport/bytes.ts";
import { decodeValue, encodeValue } from "../transport/codec.ts";
import { FrameDecoder, frameHeader } from "../transport/frame.ts";
import { type EngineHello, PROTOCOL_VERSION } from "../transport/handshake.ts";
import { type Frame, HOST, nonce } from "./handshake_servers.ts";
import { guard } from "./helpers.ts";

/**
 * HMAC-SHA256 as PROTOCOL.md defines the proofs.
 *
 * @example
 * ```ts
 * import { hmac, label } from "./raw_peer.ts";
 * console.log((await hmac("key", label("engine"))).byteLength); // 32
 * ```
 */
export async function hmac(
  key: string,
  ...parts: Uint8Array[]
): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(key),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return new Uint8Array(
    await crypto.subtle.sign("HMAC", k, concatBytes([...parts])),
  );
}

/**
 * The label a proof starts with, for the engine's side or the client's.
 *
 * @example
 * ```ts
 * import { label } from "./raw_peer.ts";
 * console.log(new TextDecoder().decode(label("client"))); // "troupe client proof\0"
 * ```
 */
export function label(side: "engine" | "client"): Uint8Array {
  return new TextEncoder().encode(`troupe ${side} proof\0`);
}

/**
 * The byte both proofs end with: whether frames are sealed.
 *
 * @example
 * ```ts
 * import { flag } from "./raw_peer.ts";
 * console.log(flag(true)[0], flag(undefined)[0]); // 1 0
 * ```
 */
export function flag(sealed: unknown): Uint8Array {
  return new Uint8Array([sealed === true ? 1 : 0]);
}

/**
 * A peer that speaks raw bytes: it sends what it likes and keeps every byte
 * it receives.
 *
 * @example
 * ```ts
 * import { startServer } from "./handshake_servers.ts";
 * import { RawPeer } from "./raw_peer.ts";
 * const s = startServer();
 * const peer = await RawPeer.connect(s.port);
 * console.log((await peer.nextFrame()).t); // "hello"
 * peer.close();
 * await s.close();
 * ```
 */
export class RawPeer {
  readonly conn: Deno.TcpConn;
  readonly received: Uint8Array[] = [];
  readonly frames: Frame[] = [];
  #decoder = new FrameDecoder();
  #unread: Frame[] = [];
  ended: "eof" | "reset" | undefined;

  private constructor(conn: Deno.TcpConn) {
    this.conn = conn;
  }

  static async connect(port: number): Promise<RawPeer> {
    return new RawPeer(await Deno.connect({ hostname: HOST, port }));
  }

  get localPort(): number {
    return this.conn.localAddr.port;
  }

  /** Every byte received so far. */
  get bytes(): Uint8Array {
    return concatBytes([...this.received]);
  }

  async write(bytes: Uint8Array): Promise<void> {
    for (let n = 0; n < bytes.byteLength;) {
      n += await this.conn.write(bytes.subarray(n));
    }
  }

  /** Sends `value` as one frame, built by hand. */
  send(value: unknown): Promise<void> {
    const body = encodeValue(value);
    return this.write(concatBytes([frameHeader(body.byteLength), body]));
  }

  /** The next frame from the server. */
  async nextFrame(ms = 5000): Promise<Frame> {
    while (this.#unread.length === 0) {
      if (!(await guard(this.#readOnce(), "a frame", ms))) {
        throw new Error(`the server hung up (${this.ended}) before a frame`);
      }
    }
    return this.#unread.shift()!;
  }

  /** Reads until the server hangs up; how it did. */
  async untilEnd(ms = 5000): Promise<"eof" | "reset"> {
    while (await guard(this.#readOnce(), "the end of the connection", ms));
    return this.ended!;
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // Already closed.
    }
  }

  async #readOnce(): Promise<boolean> {
    if (this.ended) return false;
    const buffer = new Uint8Array(64 * 1024);
    let n: number | null;
    try {
      n = await this.conn.read(buffer);
    } catch (error) {
      if (error instanceof Deno.errors.ConnectionReset) {
        this.ended = "reset";
        return false;
      }
      throw error;
    }
    if (n === null) {
      this.ended = "eof";
      return false;
    }
    const chunk = buffer.subarray(0, n);
    this.received.push(chunk);
    for (const body of this.#decoder.push(chunk)) {
      const frame = decodeValue(body) as Frame;
      this.frames.push(frame);
      this.#unread.push(frame);
    }
    return true;
  }
}

/**
 * Answers the server's hello as an engine would, with `key`.
 *
 * @example
 * ```ts
 * import { KEY, startServer } from "./handshake_servers.ts";
 * import { rawAuth, RawPeer } from "./raw_peer.ts";
 * const s = startServer();
 * const peer = await RawPeer.connect(s.port);
 * await rawAuth(peer, KEY);
 * console.log((await peer.nextFrame()).t); // the client's answer
 * peer.close();
 * await s.close();
 * ```
 */
export async function rawAuth(
  peer: RawPeer,
  key: string,
  options: { version?: unknown; hello?: EngineHello } = {},
): Promise<{ clientNonce: Uint8Array; engineNonce: Uint8Array }> {
  const greeting = await peer.nextFrame();
  assert.equal(greeting.t, "hello");
  const clientNonce = greeting.nonce as Uint8Array;
  const engineNonce = nonce();
  await peer.send({
    t: "auth",
    version: options.version ?? PROTOCOL_VERSION,
    nonce: engineNonce,
    mac: await hmac(
      key,
      label("engine"),
      clientNonce,
      engineNonce,
      flag(greeting.sealed),
    ),
    engine: options.hello ?? {},
  });
  return { clientNonce, engineNonce };
}
