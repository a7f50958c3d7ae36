/**
 * Reading a handshake (`handshake.ts`): one frame at a time under the
 * handshake's deadline, each checked to be the frame expected, and the
 * error every failure of a handshake is.
 *
 * @module
 */

import type { DropCause } from "./wire_counts.ts";
import type { FramedConnection } from "./framed_connection.ts";

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
  /** What the listener counts the drop as (a frame out of place, if unsaid). */
  readonly dropCause: DropCause;

  /** `message` says what went wrong, and never contains the key. */
  constructor(
    message: string,
    refused = false,
    dropCause: DropCause = refused ? "handshake_refused" : "malformed_frame",
  ) {
    super(message);
    this.name = "HandshakeError";
    this.refused = refused;
    this.dropCause = dropCause;
  }
}

/** A handshake frame as read: its fields are not checked yet. */
export type Frame = Record<string, unknown>;

/**
 * Tells a peer why it is turned away, so that it stops retrying. Says
 * nothing that helps a guesser: the reason names no secret.
 *
 * @example
 * ```ts
 * import { refuse } from "./handshake_reading.ts";
 * import type { FramedConnection } from "./framed_connection.ts";
 * const turnDown = (conn: FramedConnection) => refuse(conn, "wrong version");
 * ```
 */
export async function refuse(
  conn: FramedConnection,
  reason: string,
): Promise<void> {
  await conn.send({ t: "refused", reason }).catch(() => {});
}

/** What `handshakeReader` returns: the next value; `stop` hands `conn` back. */
export interface HandshakeReader {
  (): Promise<unknown>;
  /** Clears the deadline and gives the close handler back to its owner. */
  stop(): void;
}

/**
 * Reads values one at a time within an overall deadline. Values that come
 * after the handshake stay held by the connection for its next owner.
 *
 * @example
 * ```ts
 * import { handshakeReader } from "./handshake_reading.ts";
 * import type { FramedConnection } from "./framed_connection.ts";
 * async function first(conn: FramedConnection): Promise<unknown> {
 *   const next = handshakeReader(conn, 5000);
 *   try {
 *     return await next();
 *   } finally {
 *     next.stop();
 *   }
 * }
 * ```
 */
export function handshakeReader(
  conn: FramedConnection,
  timeoutMs: number,
): HandshakeReader {
  let waiting: PromiseWithResolvers<unknown> | undefined;
  let failure: Error | undefined;
  const fail = (error: Error) => {
    failure ??= error;
    waiting?.reject(failure);
  };
  const timer = setTimeout(
    () =>
      fail(
        new HandshakeError(
          `no handshake within ${timeoutMs} ms`,
          false,
          "handshake_timeout",
        ),
      ),
    timeoutMs,
  );
  const onClose = conn.onClose;
  // The owner before (and after) the handshake hears a close when its
  // handler is set back: the connection tells each handler once.
  conn.onClose = (reason) => {
    fail(
      new HandshakeError(
        `the connection closed: ${reason}`,
        false,
        conn.brokenBy ?? "closed",
      ),
    );
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

/**
 * `value` as a frame of type `t`; throws a `HandshakeError` saying what came
 * instead. A `"refused"` frame where the peer's answer was expected is the
 * peer's refusal: `refused`, so that the side turned down stops retrying;
 * `refusal` says who refused whom (a client its engine, by default).
 *
 * @example
 * ```ts
 * import { expectFrame } from "./handshake_reading.ts";
 * console.log(expectFrame({ t: "auth", nonce: 1 }, "auth").nonce); // 1
 * ```
 */
export function expectFrame(
  value: unknown,
  t: string,
  refusal = "the client refused this engine",
): Frame {
  const frame = value as Frame | null;
  if (frame?.t === "refused") {
    // The joining side (an engine) refuses only a listener of the wrong
    // purpose (`joinPeer`); the listening side refuses for any reason.
    const who = t === "auth" ? "the peer turned this side down" : refusal;
    throw new HandshakeError(`${who}: ${String(frame.reason)}`, true);
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

/** How long every handshake nonce is, in bytes. */
export const NONCE_BYTES = 32;

/**
 * `value` as a nonce (a fresh copy); a `HandshakeError` if it is not
 * `NONCE_BYTES` bytes.
 *
 * @example
 * ```ts
 * import { readNonce } from "./handshake_reading.ts";
 * console.log(readNonce(new Uint8Array(32)).byteLength); // 32
 * ```
 */
export function readNonce(value: unknown): Uint8Array {
  const b = readBytes(value, "nonce");
  if (b.byteLength !== NONCE_BYTES) {
    throw new HandshakeError(`a nonce must be ${NONCE_BYTES} bytes`);
  }
  return b;
}

/**
 * `value` as bytes (a fresh copy); a `HandshakeError` naming `what` if it
 * is not.
 *
 * @example
 * ```ts
 * import { readBytes } from "./handshake_reading.ts";
 * console.log(readBytes(new Uint8Array([1, 2]), "mac")); // Uint8Array(2) [ 1, 2 ]
 * ```
 */
export function readBytes(
  value: unknown,
  what: string,
): Uint8Array<ArrayBuffer> {
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
