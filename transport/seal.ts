/**
 * Sealed frames: after a handshake that asked for them, every frame body is
 * encrypted and authenticated with AES-256-GCM under keys that only the two
 * ends of that handshake can derive (HKDF-SHA256 from the shared key and
 * both nonces). A body is sealed in records of at most 1 MiB (so that a big
 * frame seals on several threads and its first records are written while
 * the rest are sealed); each record's nonce is a per-direction record
 * counter that never crosses the wire, and each binds the frame's length, so
 * a frame that was injected, altered, truncated, replayed, reordered or
 * dropped fails to open.
 *
 * @module
 */

import { bodyPlacement } from "./body_placement.ts";
import { concatBytes } from "./bytes.ts";

/** Bytes that sealing adds to each record: the GCM tag. */
export const SEAL_TAG_BYTES = 16;

/** Plaintext bytes in each record of a sealed frame but its last. */
export const SEAL_RECORD_BYTES: number = 2 ** 20;

/**
 * How long a sealed frame of a `bodyBytes` body is, past its length
 * prefix: a tag per record.
 *
 * @example
 * ```ts
 * import { sealedBytes } from "./seal.ts";
 * console.log(sealedBytes(100)); // 116
 * ```
 */
export function sealedBytes(bodyBytes: number): number {
  const records = Math.max(1, Math.ceil(bodyBytes / SEAL_RECORD_BYTES));
  return bodyBytes + records * SEAL_TAG_BYTES;
}

const NONCE_BYTES = 12;

/** A counter this high would lose precision: the connection must end first. */
const MAX_COUNTER = Number.MAX_SAFE_INTEGER;

/**
 * A frame failed to open: it was not sealed by the peer of this handshake,
 * or not as the next frame in order. The connection must close.
 *
 * @example
 * ```ts
 * import { SealError } from "./seal.ts";
 * const e = new SealError("frame 3 failed authentication");
 * console.log(e.name, e.message);
 * ```
 */
export class SealError extends Error {
  /** `message` says which frame, never anything of the key. */
  constructor(message: string) {
    super(message);
    this.name = "SealError";
  }
}

/**
 * The HKDF `info` labels of the two directions, as PROTOCOL.md states them.
 *
 * @example
 * ```ts
 * import { SEAL_LABELS } from "./seal.ts";
 * console.log(SEAL_LABELS.clientToEngine); // "troupe 2 sealed client to engine"
 * ```
 */
export const SEAL_LABELS: {
  readonly clientToEngine: string;
  readonly engineToClient: string;
} = {
  clientToEngine: "troupe 2 sealed client to engine",
  engineToClient: "troupe 2 sealed engine to client",
};

/**
 * A frame body being sealed: its sealed length is known at once, its
 * records come as they are sealed (send them in this order).
 *
 * @example
 * ```ts
 * import type { SealedFrame } from "./seal.ts";
 * async function send(frame: SealedFrame, write: (b: Uint8Array) => Promise<void>) {
 *   for (const record of frame.records) await write(await record);
 * }
 * ```
 */
export interface SealedFrame {
  /** The sealed body's length: the frame's length prefix. */
  byteLength: number;
  /** Each record's ciphertext and tag, in order. */
  records: Promise<Uint8Array>[];
}

/**
 * One end's sealing state: a key and a record counter for each direction.
 * `seal` and `open` take their counters when called, not when they resolve,
 * so calls made in frame order may run concurrently (WebCrypto is async) as
 * long as their results are used in that order.
 *
 * @example
 * ```ts
 * import { FrameSeal } from "./seal.ts";
 * const nc = crypto.getRandomValues(new Uint8Array(32));
 * const ne = crypto.getRandomValues(new Uint8Array(32));
 * const client = await FrameSeal.derive("secret", nc, ne, "client");
 * const engine = await FrameSeal.derive("secret", nc, ne, "engine");
 * const sealed = await client.seal(new TextEncoder().encode("hi"));
 * console.log(new TextDecoder().decode(await engine.open(sealed))); // "hi"
 * ```
 */
export class FrameSeal {
  #sendKey: CryptoKey;
  #receiveKey: CryptoKey;
  #sent = 0;
  #received = 0;
  /** Frames opened, for error messages (records are what nonces count). */
  #frames = 0;

  private constructor(sendKey: CryptoKey, receiveKey: CryptoKey) {
    this.#sendKey = sendKey;
    this.#receiveKey = receiveKey;
  }

  /**
   * Derives both directions' keys for `side` from the shared key and the
   * handshake's nonces (client's first, as sent).
   */
  static async derive(
    key: string,
    clientNonce: Uint8Array,
    engineNonce: Uint8Array,
    side: "client" | "engine",
  ): Promise<FrameSeal> {
    const base = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(key),
      "HKDF",
      false,
      ["deriveKey"],
    );
    const salt = new Uint8Array(
      clientNonce.byteLength + engineNonce.byteLength,
    );
    salt.set(clientNonce);
    salt.set(engineNonce, clientNonce.byteLength);
    const derive = (label: string, usage: KeyUsage) =>
      crypto.subtle.deriveKey(
        {
          name: "HKDF",
          hash: "SHA-256",
          salt,
          info: new TextEncoder().encode(label),
        },
        base,
        { name: "AES-GCM", length: 256 },
        false,
        [usage],
      );
    const [toEngine, toClient] = await Promise.all([
      derive(
        SEAL_LABELS.clientToEngine,
        side === "client" ? "encrypt" : "decrypt",
      ),
      derive(
        SEAL_LABELS.engineToClient,
        side === "client" ? "decrypt" : "encrypt",
      ),
    ]);
    return side === "client"
      ? new FrameSeal(toEngine, toClient)
      : new FrameSeal(toClient, toEngine);
  }

  /**
   * Seals the next frame body to send, record by record: each record is
   * its ciphertext, then its 16-byte tag.
   */
  sealRecords(body: Uint8Array): SealedFrame {
    const count = recordCount(body.byteLength);
    const aad = lengthBytes(body.byteLength);
    const records: Promise<Uint8Array>[] = [];
    for (let i = 0; i < count; i++) {
      const iv = counterNonce(this.#sent++);
      const part = body.subarray(
        i * SEAL_RECORD_BYTES,
        (i + 1) * SEAL_RECORD_BYTES,
      ) as Uint8Array<ArrayBuffer>;
      records.push(
        crypto.subtle.encrypt(
          { name: "AES-GCM", iv, additionalData: aad },
          this.#sendKey,
          part,
        ).then((sealed) => new Uint8Array(sealed)),
      );
    }
    return {
      byteLength: body.byteLength + count * SEAL_TAG_BYTES,
      records,
    };
  }

  /** Seals the next frame body to send, as one buffer. */
  async seal(body: Uint8Array): Promise<Uint8Array> {
    const { records } = this.sealRecords(body);
    if (records.length === 1) return await records[0];
    return concatBytes(await Promise.all(records));
  }

  /**
   * Opens the next frame body received; rejects with a `SealError` if it is
   * not the peer's next sealed frame, whole.
   */
  async open(body: Uint8Array): Promise<Uint8Array> {
    const first = this.#received;
    const frame = this.#frames++;
    const sealedRecord = SEAL_RECORD_BYTES + SEAL_TAG_BYTES;
    const count = Math.max(1, Math.ceil(body.byteLength / sealedRecord));
    const plainBytes = body.byteLength - count * SEAL_TAG_BYTES;
    // Counted before the checks: a frame that fails ends the connection.
    this.#received += count;
    if (plainBytes < 0 || recordCount(plainBytes) !== count) {
      throw new SealError(
        `frame ${frame} is ${body.byteLength} bytes, which no sealed frame ` +
          "is (a plain frame injected, or a sealed one cut)",
      );
    }
    const aad = lengthBytes(plainBytes);
    const opened = Array.from(
      { length: count },
      (_, i) =>
        crypto.subtle.decrypt(
          { name: "AES-GCM", iv: counterNonce(first + i), additionalData: aad },
          this.#receiveKey,
          body.subarray(
            i * sealedRecord,
            (i + 1) * sealedRecord,
          ) as Uint8Array<ArrayBuffer>,
        ),
    );
    // Every record settles before the verdict: no decryption outlives it.
    const settled = await Promise.allSettled(opened);
    if (settled.some((r) => r.status === "rejected")) {
      throw new SealError(
        `frame ${frame} failed authentication (injected, altered, ` +
          "replayed or out of order)",
      );
    }
    const parts = settled.map((r) =>
      (r as PromiseFulfilledResult<ArrayBuffer>).value
    );
    if (parts.length === 1) return new Uint8Array(parts[0]);
    // Placed as a plain frame's body is, so that its big array decodes in
    // place instead of being copied once more.
    const pad = bodyPlacement(new Uint8Array(parts[0]), plainBytes);
    const out = new Uint8Array(new ArrayBuffer(pad + plainBytes), pad);
    let at = 0;
    for (const part of parts) {
      out.set(new Uint8Array(part), at);
      at += part.byteLength;
    }
    return out;
  }
}

/** Records of a body of `bytes`: an empty body still has one. */
function recordCount(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / SEAL_RECORD_BYTES));
}

/** The frame's plaintext length, as every record's associated data. */
function lengthBytes(bytes: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, bytes);
  return out;
}

/**
 * The 96-bit GCM nonce of record `n`: four zero bytes, then `n` as a 64-bit
 * big-endian integer. Each direction has its own key, so a nonce is never
 * used twice under one key.
 */
function counterNonce(n: number): Uint8Array<ArrayBuffer> {
  if (n > MAX_COUNTER) {
    throw new SealError("this connection has sealed 2^53 records: reconnect");
  }
  const iv = new Uint8Array(NONCE_BYTES);
  const view = new DataView(iv.buffer);
  view.setUint32(4, Math.floor(n / 2 ** 32));
  view.setUint32(8, n >>> 0);
  return iv;
}
