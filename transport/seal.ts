/**
 * Sealed frames: after a handshake that asked for them, every frame body is
 * encrypted and authenticated with AES-256-GCM under keys that only the two
 * ends of that handshake can derive (HKDF-SHA256 from the shared key and
 * both nonces). The nonce is a per-direction frame counter that never
 * crosses the wire, so a frame that was injected, altered, replayed,
 * reordered or dropped fails to open.
 *
 * @module
 */

/** Bytes that sealing adds to a frame body: the GCM tag. */
export const SEAL_TAG_BYTES = 16;

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
 * One end's sealing state: a key and a counter for each direction. `seal`
 * and `open` take their counter when called, not when they resolve, so
 * calls made in frame order may run concurrently (WebCrypto is async) as
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

  /** Seals the next frame body to send: ciphertext, then the 16-byte tag. */
  async seal(body: Uint8Array): Promise<Uint8Array> {
    const iv = counterNonce(this.#sent++);
    const sealed = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv },
      this.#sendKey,
      body as Uint8Array<ArrayBuffer>,
    );
    return new Uint8Array(sealed);
  }

  /**
   * Opens the next frame body received; rejects with a `SealError` if it is
   * not the peer's next sealed frame.
   */
  async open(body: Uint8Array): Promise<Uint8Array> {
    const n = this.#received++;
    const iv = counterNonce(n);
    if (body.byteLength < SEAL_TAG_BYTES) {
      throw new SealError(
        `frame ${n} is ${body.byteLength} bytes, too short to be sealed`,
      );
    }
    try {
      return new Uint8Array(
        await crypto.subtle.decrypt(
          { name: "AES-GCM", iv },
          this.#receiveKey,
          body as Uint8Array<ArrayBuffer>,
        ),
      );
    } catch {
      throw new SealError(
        `frame ${n} failed authentication (injected, altered, replayed ` +
          "or out of order)",
      );
    }
  }
}

/**
 * The 96-bit GCM nonce of frame `n`: four zero bytes, then `n` as a 64-bit
 * big-endian integer. Each direction has its own key, so a nonce is never
 * used twice under one key.
 */
function counterNonce(n: number): Uint8Array<ArrayBuffer> {
  if (n > MAX_COUNTER) {
    throw new SealError("this connection has sealed 2^53 frames: reconnect");
  }
  const iv = new Uint8Array(NONCE_BYTES);
  const view = new DataView(iv.buffer);
  view.setUint32(4, Math.floor(n / 2 ** 32));
  view.setUint32(8, n >>> 0);
  return iv;
}
