/**
 * What the two sides of the handshake (`handshake.ts`) say of themselves:
 * the listening side's hello and the protocol version both must speak,
 * and the hello an engine registers with.
 *
 * @module
 */

import { HandshakeError } from "./handshake_reading.ts";
import { type HandshakePurpose, PROTOCOLS } from "./handshake_purpose.ts";

/** The wire protocol's version; both sides must speak the same. */
export const PROTOCOL_VERSION = 3;

/** The listening side's opening message of the handshake. */
export interface ClientHello {
  t: "hello";
  protocol: "troupe" | "troupe-client";
  version: number;
  nonce: Uint8Array;
  sealed: boolean;
}

/**
 * The hello the listening side opens with: written once, so that test
 * peers playing its part correctly say exactly what it says.
 *
 * @example
 * ```ts
 * import { clientHello } from "./handshake_hello.ts";
 * console.log(clientHello(new Uint8Array(32), false).version); // 3
 * console.log(clientHello(new Uint8Array(32), true, "client").protocol);
 * ```
 */
export function clientHello(
  nonce: Uint8Array,
  sealed: boolean,
  purpose: HandshakePurpose = "engine",
): ClientHello {
  return {
    t: "hello",
    protocol: PROTOCOLS[purpose],
    version: PROTOCOL_VERSION,
    nonce,
    sealed,
  };
}

/**
 * What an engine says of itself when it registers.
 *
 * @example
 * ```ts
 * import type { EngineHello } from "./handshake_hello.ts";
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
  /**
   * It was started with `--sandbox` (its permissions narrowed): a cluster
   * that asked for that admits no engine that does not say so.
   */
  sandboxed?: boolean;
}

/**
 * Throws the `HandshakeError` (a refusal, for the metrics) that tells a
 * peer of another version to run the same troupe on both sides.
 *
 * @example
 * ```ts
 * import { checkVersion, PROTOCOL_VERSION } from "./handshake_hello.ts";
 * checkVersion(PROTOCOL_VERSION); // fine
 * try { checkVersion(1); } catch (e) { console.log((e as Error).name); } // HandshakeError
 * ```
 */
export function checkVersion(version: unknown): void {
  if (version !== PROTOCOL_VERSION) {
    throw new HandshakeError(
      `the peer speaks protocol version ${JSON.stringify(version)}, this ` +
        `side speaks ${PROTOCOL_VERSION}: run the same troupe version on both`,
      false,
      "handshake_refused",
    );
  }
}
