/**
 * The two purposes a troupe handshake (`handshake.ts`) serves, and what
 * differs between them on the wire: the hello's protocol name, the labels
 * the proofs sign, the field names, and what a peer at the wrong port is
 * told.
 *
 * @module
 */

/**
 * What a connection is for: an engine joining its cluster, or a client
 * attaching to a controller.
 *
 * @example
 * ```ts
 * import type { HandshakePurpose } from "./handshake.ts";
 * const purpose: HandshakePurpose = "client";
 * ```
 */
export type HandshakePurpose = "engine" | "client";

/**
 * The hello's `protocol` for each purpose.
 *
 * @example
 * ```ts
 * import { PROTOCOLS } from "./handshake_purpose.ts";
 * console.log(PROTOCOLS.client); // troupe-client
 * ```
 */
export const PROTOCOLS: {
  readonly engine: "troupe";
  readonly client: "troupe-client";
} = { engine: "troupe", client: "troupe-client" } as const;

/**
 * What a listener tells a peer whose proof fails: which key it lacks, so
 * that a client is not sent looking for an engine's key.
 *
 * @example
 * ```ts
 * import { NO_KEY } from "./handshake_purpose.ts";
 * console.log(NO_KEY.client); // it does not hold the client key
 * ```
 */
export const NO_KEY: Record<HandshakePurpose, string> = {
  engine: "it does not hold the key",
  client: "it does not hold the client key",
};

/**
 * What a peer at the wrong port is told: where it should have gone.
 *
 * @example
 * ```ts
 * import { WRONG_PORT } from "./handshake_purpose.ts";
 * console.log(WRONG_PORT.engine); // this is a troupe controller's client port: ...
 * ```
 */
export const WRONG_PORT: Record<HandshakePurpose, string> = {
  engine: "this is a troupe controller's client port: engines connect to " +
    "its engine port (the connection file's port, as `troupe engines <id>` " +
    "prints it), with the engine key",
  client: "this is a troupe engine port, where engines join: clients " +
    "attach to a controller's client port (Client.connect(<cluster id>) " +
    "finds it in the cluster's state file), with the client key",
};

/**
 * What each side signs: the purpose's protocol name and which side it is,
 * so that a proof made for one purpose (or one side) never passes for
 * another. The engine purpose's bytes are those troupe always signed.
 *
 * @example
 * ```ts
 * import { label } from "./handshake_purpose.ts";
 * console.log(new TextDecoder().decode(label("engine", "joiner"))); // troupe engine proof\0
 * ```
 */
export function label(
  purpose: HandshakePurpose,
  side: "joiner" | "acceptor",
): Uint8Array {
  const who = side === "joiner" ? "engine" : "client";
  return new TextEncoder().encode(`${PROTOCOLS[purpose]} ${who} proof\0`);
}

/**
 * Where the auth frame carries the joining side's hello.
 *
 * @example
 * ```ts
 * import { helloField } from "./handshake_purpose.ts";
 * console.log(helloField("engine")); // engine
 * ```
 */
export function helloField(purpose: HandshakePurpose): string {
  return purpose === "engine" ? "engine" : "peer";
}

/**
 * Where the welcome carries the id given.
 *
 * @example
 * ```ts
 * import { idField } from "./handshake_purpose.ts";
 * console.log(idField("engine")); // engineId
 * ```
 */
export function idField(purpose: HandshakePurpose): string {
  return purpose === "engine" ? "engineId" : "id";
}
