/**
 * The handshake that opens every engine connection: each side proves it
 * holds the shared key (HMAC-SHA256 over fresh nonces from both sides and
 * whether frames are to be sealed), the key itself never crossing the wire;
 * then the engine registers, and if the client asked for it every later
 * frame is sealed (`seal.ts`).
 *
 * @module
 */

import { concatBytes } from "./bytes.ts";
import type { FramedConnection } from "./framed_connection.ts";
import { FrameSeal } from "./seal.ts";

/** The wire protocol's version; both sides must speak the same. */
export const PROTOCOL_VERSION = 3;

/** Handshake frames are small: a peer announcing more is dropped. */
export const HANDSHAKE_MAX_FRAME_BYTES = 4096;

/** The client's opening message of the handshake. */
export interface ClientHello {
  t: "hello";
  protocol: "troupe";
  version: number;
  nonce: Uint8Array;
  sealed: boolean;
}

/**
 * The hello a client opens with: written once, so that test peers playing
 * the client's part correctly say exactly what the client says.
 *
 * @example
 * ```ts
 * import { clientHello } from "./handshake.ts";
 * console.log(clientHello(new Uint8Array(32), false).version); // 2
 * ```
 */
export function clientHello(nonce: Uint8Array, sealed: boolean): ClientHello {
  return {
    t: "hello",
    protocol: "troupe",
    version: PROTOCOL_VERSION,
    nonce,
    sealed,
  };
}

const NONCE_BYTES = 32;

/**
 * What an engine says of itself when it registers.
 *
 * @example
 * ```ts
 * import type { EngineHello } from "./handshake.ts";
 * const hello: EngineHello = { engineId: 3, pid: Deno.pid };
 * ```
 */
export interface EngineHello {
  /** The id it had (or was given at spawn), which it asks to keep. */
  engineId?: number;
  /** The one-time token a client gave the process it spawned. */
  token?: string;
  /** The engine's process id, for people reading logs. */
  pid?: number;
  /** The engine's host name, for people reading logs. */
  hostname?: string;
}

/**
 * The handshake failed: wrong key, wrong version, a frame out of place, or
 * a deadline passed. The connection is closed.
 *
 * @example
 * ```ts
 * import { HandshakeError } from "./handshake.ts";
 * const e = new HandshakeError("the engine does not hold the key");
 * console.log(e.message);
 * ```
 */
export class HandshakeError extends Error {
  /** `true` when the client refused the engine: retrying cannot help. */
  readonly refused: boolean;

  /** `message` says what went wrong, and never contains the key. */
  constructor(message: string, refused = false) {
    super(message);
    this.name = "HandshakeError";
    this.refused = refused;
  }
}

/**
 * The client's side. Sends a nonce and whether frames will be `sealed`,
 * checks the engine's proof, lets `decide` pick the engine's id (it throws
 * to refuse the engine), and proves its own hold of the key; `conn` is
 * sealed from then on if asked. Rejects with a `HandshakeError` after
 * `timeoutMs`.
 *
 * @example
 * ```ts
 * import { acceptEngine, joinClient } from "./handshake.ts";
 * import { FramedConnection } from "./framed_connection.ts";
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const accepted = listener.accept();
 * const { port } = listener.addr;
 * const engineSide = new FramedConnection(
 *   await Deno.connect({ hostname: "127.0.0.1", port }),
 * );
 * const clientSide = new FramedConnection(await accepted);
 * const [{ engineId, hello }] = await Promise.all([
 *   acceptEngine(clientSide, "secret", () => 0, 5000),
 *   joinClient(engineSide, "secret", { pid: Deno.pid }, 5000),
 * ]);
 * console.log(engineId, hello.pid === Deno.pid); // 0 true
 * clientSide.close("done");
 * await Promise.all([clientSide.closed, engineSide.closed]);
 * ```
 */
export async function acceptEngine(
  conn: FramedConnection,
  key: string,
  decide: (hello: EngineHello) => number,
  timeoutMs: number,
  sealed = false,
): Promise<{ engineId: number; hello: EngineHello }> {
  const mac = await hmacKey(key);
  const clientNonce = randomNonce();
  const next = reader(conn, timeoutMs);
  try {
    await conn.send(clientHello(clientNonce, sealed));
    const auth = expect(await next(), "auth");
    try {
      checkVersion(auth.version);
    } catch (error) {
      await refuse(conn, (error as Error).message);
      throw error;
    }
    const engineNonce = nonce(auth.nonce);
    const proof = bytes(auth.mac, "mac");
    const signed = concatBytes([
      label("engine"),
      clientNonce,
      engineNonce,
      flag(sealed),
    ]);
    if (!(await crypto.subtle.verify("HMAC", mac, proof, signed))) {
      // The proof covers `sealed`: a relay that rewrote it lands here too.
      await refuse(conn, "it does not hold the key");
      throw new HandshakeError(
        "the engine does not hold the key (or something between it and " +
          "the client altered the handshake)",
      );
    }
    const hello = (auth.engine ?? {}) as EngineHello;
    let engineId: number;
    try {
      engineId = decide(hello);
    } catch (error) {
      await refuse(conn, (error as Error).message);
      throw new HandshakeError((error as Error).message);
    }
    const answer = concatBytes([
      label("client"),
      engineNonce,
      clientNonce,
      flag(sealed),
    ]);
    const seal = sealed
      ? await FrameSeal.derive(key, clientNonce, engineNonce, "client")
      : undefined;
    const welcomed = conn.send({
      t: "welcome",
      engineId,
      mac: new Uint8Array(await crypto.subtle.sign("HMAC", mac, answer)),
    });
    // Before anything else is queued or read: `welcome` is the last plain
    // frame each way.
    if (seal) conn.seal(seal);
    await welcomed;
    return { engineId, hello };
  } finally {
    next.stop();
  }
}

/**
 * The engine's side: answers the client's nonce with its proof and its
 * `hello`, then checks the client's proof. Resolves with the id the client
 * gave it; `conn` is sealed from then on if the client asked (`conn.sealed`).
 * With `requireSealed`, a client that offers plain frames is turned down.
 *
 * @example
 * ```ts
 * import { joinClient } from "./handshake.ts";
 * import type { FramedConnection } from "./framed_connection.ts";
 * // `conn` is a fresh connection to the client (both sides: acceptEngine).
 * async function join(conn: FramedConnection) {
 *   const engineId = await joinClient(conn, "secret", { pid: Deno.pid }, 5000);
 *   console.log(`registered as engine ${engineId}`);
 * }
 * ```
 */
export async function joinClient(
  conn: FramedConnection,
  key: string,
  hello: EngineHello,
  timeoutMs: number,
  requireSealed = false,
): Promise<number> {
  const mac = await hmacKey(key);
  const engineNonce = randomNonce();
  const next = reader(conn, timeoutMs);
  try {
    const greeting = expect(await next(), "hello");
    if (greeting.protocol !== "troupe") {
      throw new HandshakeError("the server does not speak troupe");
    }
    checkVersion(greeting.version);
    const clientNonce = nonce(greeting.nonce);
    const sealed = greeting.sealed;
    if (typeof sealed !== "boolean") {
      throw new HandshakeError('the client\'s "hello" does not say "sealed"');
    }
    if (!sealed && requireSealed) {
      throw new HandshakeError(
        "the client offers plain frames and this engine requires sealed " +
          "ones, as it reaches the client on an address that is not " +
          "loopback: start the client with encrypt: true (the default when " +
          "it listens on such an address), or this engine with --allow-plain",
      );
    }
    // Derived while the client checks this side's proof.
    const sealing = sealed
      ? FrameSeal.derive(key, clientNonce, engineNonce, "engine")
      : undefined;
    sealing?.catch(() => {}); // Awaited below, unless the handshake fails.
    const signed = concatBytes([
      label("engine"),
      clientNonce,
      engineNonce,
      flag(sealed),
    ]);
    await conn.send({
      t: "auth",
      version: PROTOCOL_VERSION,
      nonce: engineNonce,
      mac: new Uint8Array(await crypto.subtle.sign("HMAC", mac, signed)),
      engine: hello,
    });
    const welcome = expect(await next(), "welcome");
    const answer = concatBytes([
      label("client"),
      engineNonce,
      clientNonce,
      flag(sealed),
    ]);
    const proof = bytes(welcome.mac, "mac");
    if (!(await crypto.subtle.verify("HMAC", mac, proof, answer))) {
      throw new HandshakeError("the client does not hold the key");
    }
    if (!Number.isInteger(welcome.engineId)) {
      throw new HandshakeError("the client gave no engine id");
    }
    if (sealing) conn.seal(await sealing);
    return welcome.engineId as number;
  } finally {
    next.stop();
  }
}

type Frame = Record<string, unknown>;

/**
 * Tells an engine why it is turned away, so that it stops retrying. Says
 * nothing that helps a guesser: the reason names no secret.
 */
async function refuse(conn: FramedConnection, reason: string): Promise<void> {
  await conn.send({ t: "refused", reason }).catch(() => {});
}

/**
 * Reads values one at a time within an overall deadline. Values that come
 * after the handshake stay held by the connection for its next owner.
 */
function reader(conn: FramedConnection, timeoutMs: number) {
  let waiting: PromiseWithResolvers<unknown> | undefined;
  let failure: Error | undefined;
  const fail = (error: Error) => {
    failure ??= error;
    waiting?.reject(failure);
  };
  const timer = setTimeout(
    () => fail(new HandshakeError(`no handshake within ${timeoutMs} ms`)),
    timeoutMs,
  );
  const onClose = conn.onClose;
  // The owner before (and after) the handshake hears a close when its
  // handler is set back: the connection tells each handler once.
  conn.onClose = (reason) => {
    fail(new HandshakeError(`the connection closed: ${reason}`));
  };
  conn.start();
  const next = async (): Promise<unknown> => {
    if (failure) throw failure;
    waiting = Promise.withResolvers();
    const got = waiting;
    conn.onValue = (value) => {
      conn.onValue = undefined;
      got.resolve(value);
    };
    try {
      return await got.promise;
    } finally {
      waiting = undefined;
      conn.onValue = undefined;
    }
  };
  next.stop = () => {
    clearTimeout(timer);
    conn.onClose = onClose;
  };
  return next;
}

function expect(value: unknown, t: string): Frame {
  const frame = value as Frame | null;
  // Only a client refuses; an engine's "refused" is just out of place.
  if (frame?.t === "refused" && t !== "auth") {
    throw new HandshakeError(
      `the client refused this engine: ${String(frame.reason)}`,
      true,
    );
  }
  if (
    value === null || typeof value !== "object" || (value as Frame).t !== t
  ) {
    const article = /^[aeiou]/.test(t) ? "an" : "a";
    throw new HandshakeError(
      `expected ${article} "${t}" frame, got ${describe(value)}`,
    );
  }
  return value as Frame;
}

function checkVersion(version: unknown): void {
  if (version !== PROTOCOL_VERSION) {
    throw new HandshakeError(
      `the peer speaks protocol version ${JSON.stringify(version)}, this ` +
        `side speaks ${PROTOCOL_VERSION}: run the same troupe version on both`,
    );
  }
}

function nonce(value: unknown): Uint8Array {
  const b = bytes(value, "nonce");
  if (b.byteLength !== NONCE_BYTES) {
    throw new HandshakeError(`a nonce must be ${NONCE_BYTES} bytes`);
  }
  return b;
}

function bytes(value: unknown, what: string): Uint8Array<ArrayBuffer> {
  if (!(value instanceof Uint8Array)) {
    throw new HandshakeError(`the ${what} is not bytes`);
  }
  return value.slice();
}

function describe(value: unknown): string {
  if (value === null || typeof value !== "object") return typeof value;
  const t = (value as Frame).t;
  return typeof t === "string" ? `"${t}"` : "an object without a type";
}

function label(side: "engine" | "client"): Uint8Array {
  return new TextEncoder().encode(`troupe ${side} proof\0`);
}

/** The byte that binds the sealing choice into both proofs. */
function flag(sealed: boolean): Uint8Array {
  return new Uint8Array([sealed ? 1 : 0]);
}

function randomNonce(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
}

function hmacKey(key: string): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(key),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
}
