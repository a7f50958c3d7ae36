/**
 * How a client reaches its controller: dial the client port, prove it
 * holds the client key (`transport/handshake.ts`, purpose `"client"`), and
 * read the controller's `attached`.
 *
 * @module
 */

import { within } from "../actors/async.ts";
import { messageOf } from "../protocol/errors.ts";
import { FramedConnection } from "../transport/framed_connection.ts";
import { HandshakeError, joinPeer } from "../transport/handshake.ts";
import { NO_KEY } from "../transport/handshake_purpose.ts";
import { isLoopback } from "../transport/loopback.ts";
import { clusterStatePath } from "./cluster_state.ts";
import type { FromController } from "./wire.ts";

/**
 * Where a controller's clients reach it: what its state file holds (and
 * `Controller.clientInfo`).
 *
 * @example
 * ```ts
 * import type { ControllerAddress } from "@troupe/parallel";
 * const at: ControllerAddress = { hostname: "127.0.0.1", port: 4100, key: "…" };
 * ```
 */
export interface ControllerAddress {
  /** The host of the controller's client listener. */
  hostname: string;
  /** Its port. */
  port: number;
  /** The client key (not the engine key). Keep it secret. */
  key: string;
}

/**
 * The controller's first message.
 *
 * @example
 * ```ts
 * import type { Attached } from "./connect.ts";
 * const idOf = (attached: Attached) => attached.clusterId;
 * ```
 */
export type Attached = Extract<FromController, { t: "attached" }>;

/**
 * What names the controller in errors: its cluster id and state file, when
 * the client was given one.
 *
 * @example
 * ```ts
 * import type { ControllerNames } from "./connect.ts";
 * const names: ControllerNames = { id: "sim", stateFile: "/home/me/.troupe/clusters/sim.json" };
 * ```
 */
export interface ControllerNames {
  id?: string;
  stateFile?: string;
}

/**
 * Opens a connection to the controller at `address` and reads its
 * `attached`; the connection is handed over unreferenced (pending work
 * holds the process, not the connection) with later messages held for the
 * next `onValue`. Rejects after `timeoutMs` overall; with a clear error
 * when no controller answers (naming the address, the cluster and its state
 * file, and what to do), and with the handshake's `HandshakeError` (a wrong
 * key, a port that is not a client port).
 *
 * @example
 * ```ts
 * import { dialController } from "./connect.ts";
 * import { startController } from "../controller/controller.ts";
 * const controller = await startController({ id: "dial", engines: { workers: 0 } });
 * const { conn, attached } = await dialController(controller.clientInfo, {}, 10_000);
 * console.log(attached.clusterId, attached.taskIdBase); // dial 4294967296
 * conn.close("done");
 * await conn.closed;
 * await controller.stop();
 * ```
 */
export async function dialController(
  address: ControllerAddress,
  names: ControllerNames,
  timeoutMs: number,
): Promise<{ conn: FramedConnection; attached: Attached }> {
  const where = `${address.hostname}:${address.port}`;
  const deadline = Date.now() + timeoutMs;
  const socket = await dial(address, names, timeoutMs);
  const conn = new FramedConnection(socket);
  try {
    await joinPeer(
      conn,
      address.key,
      "client",
      { pid: Deno.pid },
      Math.max(1, deadline - Date.now()),
      // Off loopback, what crosses (tasks, values, the engine key) must be
      // sealed: a controller offering plain frames there is turned down.
      !isLoopback(address.hostname),
    );
    const attached = await firstMessage(conn, deadline - Date.now());
    conn.unref();
    return { conn, attached };
  } catch (error) {
    conn.close(`the attach failed: ${messageOf(error)}`);
    await conn.closed;
    if (error instanceof HandshakeError) {
      throw new HandshakeError(
        `cannot attach to the controller at ${where}${clusterNamed(names)}: ` +
          error.message + keyAdvice(error, names),
        error.refused,
      );
    }
    throw error;
  }
}

async function dial(
  address: ControllerAddress,
  names: ControllerNames,
  timeoutMs: number,
): Promise<Deno.TcpConn> {
  const where = `${address.hostname}:${address.port}`;
  const connecting = Deno.connect({
    hostname: address.hostname,
    port: address.port,
  });
  let outcome: { done: true; value: Deno.TcpConn } | { done: false };
  try {
    outcome = await within(connecting, timeoutMs);
  } catch (error) {
    if (error instanceof Deno.errors.ConnectionRefused) {
      throw new Error(noController(where, names), { cause: error });
    }
    throw error;
  }
  if (outcome.done) return outcome.value;
  // A connection that lands after the deadline is closed, not leaked.
  connecting.then((socket) => socket.close(), () => {});
  throw new Error(
    `no controller answered at ${where}${
      clusterNamed(names)
    } within ${timeoutMs} ms: is the address right, and the network ` +
      "between here and there open?",
  );
}

/** What a client is told when nothing listens at its controller's port. */
function noController(where: string, names: ControllerNames): string {
  const { id, stateFile } = names;
  if (id === undefined) {
    return `no controller answers at ${where}: start one with ` +
      "`deno task troupe start` (or startController), and connect with " +
      "the address and client key it gives";
  }
  return `no controller answers at ${where}${clusterNamed(names)}: start ` +
    `it with \`deno task troupe start --id ${id}\`` +
    (stateFile
      ? `, or remove a stale state file with \`troupe stop ${id}\``
      : "");
}

/** Where the right key is, when the controller said this one is wrong. */
function keyAdvice(error: HandshakeError, names: ControllerNames): string {
  if (!error.refused || !error.message.endsWith(NO_KEY.client)) return "";
  const file = names.stateFile ??
    (names.id === undefined
      ? "$TROUPE_HOME/clusters/<id>.json"
      : clusterStatePath(names.id));
  return `: the client key is the "key" of the cluster's state file ` +
    `(${file}; \`troupe list\` lists the clusters), or the controller's ` +
    "clientInfo.key; the engine key does not open the client port";
}

function clusterNamed({ id, stateFile }: ControllerNames): string {
  if (id === undefined) return "";
  return ` for cluster ${id}` + (stateFile ? ` (state file ${stateFile})` : "");
}

/** The controller's `attached`, within `timeoutMs`. */
function firstMessage(
  conn: FramedConnection,
  timeoutMs: number,
): Promise<Attached> {
  const { promise, resolve, reject } = Promise.withResolvers<Attached>();
  const timer = setTimeout(
    () =>
      reject(
        new Error(
          `the controller did not say it attached this client within ` +
            `${Math.max(0, Math.round(timeoutMs))} ms`,
        ),
      ),
    Math.max(0, timeoutMs),
  );
  conn.onClose = (reason) =>
    reject(new Error(`the controller closed the connection: ${reason}`));
  conn.onValue = (value) => {
    // Later messages are held for the cluster that takes the connection.
    conn.onValue = undefined;
    const message = value as FromController | null;
    if (message?.t === "attached") resolve(message);
    else if (message?.t === "closing") {
      reject(new Error(`the controller is stopping: ${message.reason}`));
    } else {
      reject(
        new Error(
          'the controller\'s first message is not "attached": is this ' +
            "a troupe controller of the same version?",
        ),
      );
    }
  };
  return promise.finally(() => {
    clearTimeout(timer);
    conn.onClose = () => {};
  });
}
