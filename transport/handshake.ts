/**
 * The handshake that opens every TCP connection between troupe's processes:
 * each side proves it holds the shared key (HMAC-SHA256 over fresh nonces
 * from both sides and whether frames are to be sealed), the key itself
 * never crossing the wire; then the joining side is given its id, and if
 * the listening side asked for it every later frame is sealed (`seal.ts`).
 *
 * One mechanism, two purposes, each with its own listener and key: an
 * engine joining its client or controller (`"engine"`: `acceptEngine`,
 * `joinClient`), and a client attaching to a controller (`"client"`:
 * `acceptPeer`, `joinPeer` with that purpose). The purpose is in the
 * hello and in every signed label, so a proof made for one never passes
 * for the other, and a peer at the wrong port is told where to go.
 *
 * @module
 */

import { concatBytes } from "./bytes.ts";
import type { FramedConnection } from "./framed_connection.ts";
import {
  expectFrame as expect,
  HandshakeError,
  handshakeReader as reader,
  NONCE_BYTES,
  readBytes as bytes,
  readNonce as nonce,
  refuse,
} from "./handshake_reading.ts";
import {
  type HandshakePurpose,
  helloField,
  idField,
  label,
  NO_KEY,
  PROTOCOLS,
  WRONG_PORT,
} from "./handshake_purpose.ts";
import { FrameSeal } from "./seal.ts";
import {
  checkVersion,
  clientHello,
  type EngineHello,
  PROTOCOL_VERSION,
} from "./handshake_hello.ts";

export { HandshakeError } from "./handshake_reading.ts";
export {
  type ClientHello,
  clientHello,
  type EngineHello,
  PROTOCOL_VERSION,
} from "./handshake_hello.ts";
export type { HandshakePurpose } from "./handshake_purpose.ts";

/** Handshake frames are small: a peer announcing more is dropped. */
export const HANDSHAKE_MAX_FRAME_BYTES = 4096;

/**
 * The engine purpose's listening side (a client, or a controller's engine
 * listener): `acceptPeer` with purpose `"engine"`, the id as `engineId`.
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
  const { id, hello } = await acceptPeer<EngineHello>(
    conn,
    key,
    "engine",
    decide,
    timeoutMs,
    sealed,
  );
  return { engineId: id, hello };
}

/**
 * The engine's side: `joinPeer` with purpose `"engine"`. Resolves with the
 * id the client gave it; `conn` is sealed from then on if the client asked
 * (`conn.sealed`). With `requireSealed`, a client that offers plain frames
 * is turned down.
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
export function joinClient(
  conn: FramedConnection,
  key: string,
  hello: EngineHello,
  timeoutMs: number,
  requireSealed = false,
): Promise<number> {
  return joinPeer(conn, key, "engine", hello, timeoutMs, requireSealed);
}

/**
 * The listening side. Sends a nonce and whether frames will be `sealed`,
 * checks the joining side's proof, lets `decide` pick its id (it throws to
 * refuse the peer), and proves its own hold of the key; `conn` is sealed
 * from then on if asked. Rejects with a `HandshakeError` after `timeoutMs`,
 * and when the peer is of another purpose (it says so).
 *
 * @example
 * ```ts
 * import { acceptPeer, joinPeer } from "./handshake.ts";
 * import { FramedConnection } from "./framed_connection.ts";
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const accepted = listener.accept();
 * const { port } = listener.addr;
 * const clientSide = new FramedConnection(
 *   await Deno.connect({ hostname: "127.0.0.1", port }),
 * );
 * const controllerSide = new FramedConnection(await accepted);
 * const [{ id }] = await Promise.all([
 *   acceptPeer(controllerSide, "client key", "client", () => 7, 5000),
 *   joinPeer(clientSide, "client key", "client", { pid: Deno.pid }, 5000),
 * ]);
 * console.log(id); // 7
 * controllerSide.close("done");
 * await Promise.all([controllerSide.closed, clientSide.closed]);
 * ```
 */
export async function acceptPeer<
  Hello extends object = Record<string, unknown>,
>(
  conn: FramedConnection,
  key: string,
  purpose: HandshakePurpose,
  decide: (hello: Hello) => number,
  timeoutMs: number,
  sealed = false,
): Promise<{ id: number; hello: Hello }> {
  const mac = await hmacKey(key);
  const listenerNonce = randomNonce();
  const next = reader(conn, timeoutMs);
  try {
    await conn.send(clientHello(listenerNonce, sealed, purpose));
    const auth = expect(await next(), "auth");
    try {
      checkVersion(auth.version);
    } catch (error) {
      await refuse(conn, (error as Error).message);
      throw error;
    }
    const joinerNonce = nonce(auth.nonce);
    const proof = bytes(auth.mac, "mac");
    const signed = concatBytes([
      label(purpose, "joiner"),
      listenerNonce,
      joinerNonce,
      flag(sealed),
    ]);
    if (!(await crypto.subtle.verify("HMAC", mac, proof, signed))) {
      // The proof covers `sealed`: a relay that rewrote it lands here too.
      await refuse(conn, NO_KEY[purpose]);
      const who = purpose === "engine" ? "engine" : "client";
      const listener = purpose === "engine" ? "client" : "controller";
      throw new HandshakeError(
        `the ${who} does not hold the key (or something between it and ` +
          `the ${listener} altered the handshake)`,
        false,
        "handshake_refused",
      );
    }
    const hello = (auth[helloField(purpose)] ?? {}) as Hello;
    let id: number;
    try {
      id = decide(hello);
    } catch (error) {
      await refuse(conn, (error as Error).message);
      throw new HandshakeError(
        (error as Error).message,
        false,
        "handshake_refused",
      );
    }
    const answer = concatBytes([
      label(purpose, "acceptor"),
      joinerNonce,
      listenerNonce,
      flag(sealed),
    ]);
    const seal = sealed
      ? await FrameSeal.derive(key, listenerNonce, joinerNonce, "client")
      : undefined;
    const welcomed = conn.send({
      t: "welcome",
      [idField(purpose)]: id,
      mac: new Uint8Array(await crypto.subtle.sign("HMAC", mac, answer)),
    });
    // Before anything else is queued or read: `welcome` is the last plain
    // frame each way.
    if (seal) conn.seal(seal);
    await welcomed;
    return { id, hello };
  } finally {
    next.stop();
  }
}

/**
 * The joining side: answers the listener's nonce with its proof and its
 * `hello`, then checks the listener's proof. Resolves with the id the
 * listener gave it; `conn` is sealed from then on if the listener asked
 * (`conn.sealed`). With `requireSealed`, a listener that offers plain
 * frames is turned down. A listener of the other purpose (an engine at a
 * controller's client port, a client at an engine port) is a refused
 * `HandshakeError` that says which port to use, and the listener is told.
 *
 * @example
 * ```ts
 * import { joinPeer } from "./handshake.ts";
 * import type { FramedConnection } from "./framed_connection.ts";
 * // `conn` is a fresh connection to a controller's client port.
 * async function attach(conn: FramedConnection, clientKey: string) {
 *   await joinPeer(conn, clientKey, "client", { pid: Deno.pid }, 5000);
 * }
 * ```
 */
export async function joinPeer(
  conn: FramedConnection,
  key: string,
  purpose: HandshakePurpose,
  hello: object,
  timeoutMs: number,
  requireSealed = false,
): Promise<number> {
  const mac = await hmacKey(key);
  const joinerNonce = randomNonce();
  const next = reader(conn, timeoutMs);
  try {
    const refusal = purpose === "engine"
      ? "the client refused this engine"
      : "the controller refused this client";
    const greeting = expect(await next(), "hello", refusal);
    if (greeting.protocol !== PROTOCOLS[purpose]) {
      const other = purpose === "engine" ? "client" : "engine";
      if (greeting.protocol !== PROTOCOLS[other]) {
        throw new HandshakeError("the server does not speak troupe");
      }
      // Told, so that the listener's log says who knocked at its door.
      await refuse(
        conn,
        `a${purpose === "engine" ? "n" : ""} ${purpose} ` +
          `came to this ${other} port`,
      );
      throw new HandshakeError(WRONG_PORT[purpose], true);
    }
    checkVersion(greeting.version);
    const listenerNonce = nonce(greeting.nonce);
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
    // Derived while the listener checks this side's proof.
    const sealing = sealed
      ? FrameSeal.derive(key, listenerNonce, joinerNonce, "engine")
      : undefined;
    sealing?.catch(() => {}); // Awaited below, unless the handshake fails.
    const signed = concatBytes([
      label(purpose, "joiner"),
      listenerNonce,
      joinerNonce,
      flag(sealed),
    ]);
    await conn.send({
      t: "auth",
      version: PROTOCOL_VERSION,
      nonce: joinerNonce,
      mac: new Uint8Array(await crypto.subtle.sign("HMAC", mac, signed)),
      [helloField(purpose)]: hello,
    });
    const welcome = expect(await next(), "welcome", refusal);
    const answer = concatBytes([
      label(purpose, "acceptor"),
      joinerNonce,
      listenerNonce,
      flag(sealed),
    ]);
    const proof = bytes(welcome.mac, "mac");
    if (!(await crypto.subtle.verify("HMAC", mac, proof, answer))) {
      throw new HandshakeError(
        `the ${purpose === "engine" ? "client" : "controller"} does not ` +
          "hold the key",
      );
    }
    const id = welcome[idField(purpose)];
    if (!Number.isInteger(id)) {
      throw new HandshakeError(
        purpose === "engine"
          ? "the client gave no engine id"
          : "the controller gave no id",
      );
    }
    if (sealing) conn.seal(await sealing);
    return id as number;
  } finally {
    next.stop();
  }
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
