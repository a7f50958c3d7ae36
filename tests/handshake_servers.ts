/**
 * The server side of handshake tests, on 127.0.0.1: a real `TcpServer`
 * that records its log lines, decisions and engines; an engine that joins
 * it with `joinClient`; and hand-written fake servers that play the
 * client's half of the handshake however a test likes. The shared key is
 * never on the wire, and every server checks at close that none of its log
 * lines holds it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { FramedConnection } from "../transport/framed_connection.ts";
import {
  clientHello,
  type EngineHello,
  HandshakeError,
  joinClient,
} from "../transport/handshake.ts";
import { TcpServer, type TcpServerOptions } from "../transport/tcp_server.ts";
import { guard } from "./helpers.ts";

/**
 * The key every server and honest engine of the handshake tests holds.
 *
 * @example
 * ```ts
 * import { KEY } from "./handshake_servers.ts";
 * console.log(KEY.length > 16); // true
 * ```
 */
export const KEY: string = "k3y-4f9d1c7e2b8a6d5c-never-on-the-wire";

const KEY_BYTES = new TextEncoder().encode(KEY);

/**
 * A decoded frame of the handshake: a plain record.
 *
 * @example
 * ```ts
 * import type { Frame } from "./handshake_servers.ts";
 * const hello: Frame = { t: "hello" };
 * ```
 */
export type Frame = Record<string, unknown>;

/**
 * A fresh 32-byte nonce.
 *
 * @example
 * ```ts
 * import { nonce } from "./handshake_servers.ts";
 * console.log(nonce().byteLength); // 32
 * ```
 */
export function nonce(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(32));
}

/**
 * Where the handshake tests listen and connect.
 *
 * @example
 * ```ts
 * import { HOST } from "./handshake_servers.ts";
 * console.log(HOST); // "127.0.0.1"
 * ```
 */
export const HOST: string = "127.0.0.1";

/**
 * Every log line of every server that `startServer` started in this test
 * module.
 *
 * @example
 * ```ts
 * import { allLogs } from "./handshake_servers.ts";
 * console.log(allLogs.length);
 * ```
 */
export const allLogs: string[] = [];

function indexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.byteLength <= haystack.byteLength; i++) {
    for (let j = 0; j < needle.byteLength; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

/**
 * Asserts that `bytes` do not hold the key (what says `what` they are).
 *
 * @example
 * ```ts
 * import { assertNoKey } from "./handshake_servers.ts";
 * assertNoKey(new TextEncoder().encode("no secret here"), "a line");
 * ```
 */
export function assertNoKey(bytes: Uint8Array, what: string): void {
  assert.equal(indexOfBytes(bytes, KEY_BYTES), -1, `the key is in ${what}`);
}

/**
 * A `TcpServer` of a test and what happened to it (see `startServer`).
 *
 * @example
 * ```ts
 * import { startServer, type TestServer } from "./handshake_servers.ts";
 * const s: TestServer = startServer();
 * await s.close();
 * ```
 */
export interface TestServer {
  /** The server itself. */
  server: TcpServer;
  /** The port it listens on. */
  port: number;
  /** Its log lines. */
  logs: string[];
  /** Every hello it decided on, with the peer's address. */
  decided: { hello: EngineHello; peer: string }[];
  /** The engines it handed over. */
  engines: { conn: FramedConnection; engineId: number }[];
  /** Resolves once `n` engines have been handed over. */
  engineCount(n: number): Promise<void>;
  /** The log lines about the peer whose local port is `port`. */
  linesFor(port: number): string[];
  /** Closes its engines and itself; asserts that no log line holds the key. */
  close(): Promise<void>;
}

/**
 * A `TcpServer` on 127.0.0.1 that records what happens to it.
 *
 * @example
 * ```ts
 * import { joinEngine, KEY, startServer } from "./handshake_servers.ts";
 * const s = startServer();
 * const { conn, engineId } = await joinEngine(s.port, KEY);
 * console.log(engineId); // 7
 * conn.close("done");
 * await conn.closed;
 * await s.close();
 * ```
 */
export function startServer(
  options: Partial<TcpServerOptions> & { engineId?: number } = {},
): TestServer {
  const logs: string[] = [];
  const decided: { hello: EngineHello; peer: string }[] = [];
  const engines: { conn: FramedConnection; engineId: number }[] = [];
  const arrivals: PromiseWithResolvers<void>[] = [Promise.withResolvers()];
  const server = new TcpServer({
    key: KEY,
    handshakeTimeoutMs: 3000,
    decide: (hello, peer) => {
      decided.push({ hello, peer });
      return options.engineId ?? 7;
    },
    onEngine: (conn, engineId) => {
      engines.push({ conn, engineId });
      arrivals.at(-1)!.resolve();
      arrivals.push(Promise.withResolvers());
    },
    log: (line) => {
      logs.push(line);
      allLogs.push(line);
    },
    ...options,
  });
  return {
    server,
    port: server.port,
    logs,
    decided,
    engines,
    /** Resolves once `n` engines have been handed over. */
    async engineCount(n: number) {
      while (engines.length < n) {
        await guard(arrivals.at(-1)!.promise, "onEngine", 5000);
      }
    },
    /** The log lines about the peer whose local port is `port`. */
    linesFor(port: number) {
      return logs.filter((l) => l.includes(`${HOST}:${port}:`));
    },
    async close() {
      for (const { conn } of engines) {
        conn.close("test over");
        await conn.closed;
      }
      await guard(server.close(), "server.close()", 5000);
      for (const line of logs) {
        assert.ok(!line.includes(KEY), `the key is in a log line: ${line}`);
      }
    },
  };
}

/**
 * An engine: connect, then `joinClient`. Closes the socket if it fails.
 *
 * @example
 * ```ts
 * import { closeConn, joinEngine, KEY, startServer } from "./handshake_servers.ts";
 * const s = startServer({ engineId: 3 });
 * const engine = await joinEngine(s.port, KEY, { pid: 1 });
 * console.log(engine.engineId, engine.localPort > 0); // 3 true
 * await closeConn(engine.conn);
 * await s.close();
 * ```
 */
export async function joinEngine(
  port: number,
  key: string,
  hello: EngineHello = {},
  timeoutMs = 3000,
): Promise<{ conn: FramedConnection; engineId: number; localPort: number }> {
  const socket = await Deno.connect({ hostname: HOST, port });
  const localPort = socket.localAddr.port;
  const conn = new FramedConnection(socket);
  try {
    const engineId = await guard(
      joinClient(conn, key, hello, timeoutMs),
      "joinClient",
      timeoutMs + 2000,
    );
    return { conn, engineId, localPort };
  } catch (error) {
    conn.close("the handshake failed");
    await conn.closed;
    throw error;
  }
}

/**
 * Closes an engine's connection and waits until it is done.
 *
 * @example
 * ```ts
 * import type { FramedConnection } from "../transport/framed_connection.ts";
 * import { closeConn } from "./handshake_servers.ts";
 * const done = (conn: FramedConnection) => closeConn(conn);
 * ```
 */
export async function closeConn(conn: FramedConnection): Promise<void> {
  conn.close("test over");
  await conn.closed;
}

/**
 * The next value a `FramedConnection` receives.
 *
 * @example
 * ```ts
 * import type { FramedConnection } from "../transport/framed_connection.ts";
 * import { nextValue } from "./handshake_servers.ts";
 * const greeting = (conn: FramedConnection) => nextValue(conn, 1000);
 * ```
 */
export function nextValue(conn: FramedConnection, ms = 5000): Promise<unknown> {
  const got = Promise.withResolvers<unknown>();
  conn.onValue = (value) => {
    conn.onValue = undefined;
    got.resolve(value);
  };
  return guard(got.promise, "a value", ms);
}

/**
 * A hand-written client side on 127.0.0.1 for one engine: `script` runs
 * the server's half of the handshake however it likes.
 *
 * @example
 * ```ts
 * import { fakeServer } from "./handshake_servers.ts";
 * // A server that says nothing, then hangs up on the engine.
 * const silent = () => fakeServer(async (conn) => conn.close("silent"));
 * ```
 */
export function fakeServer(
  script: (conn: FramedConnection) => Promise<void>,
): { port: number; done: Promise<void> } {
  const listener = Deno.listen({ hostname: HOST, port: 0, transport: "tcp" });
  const done = (async () => {
    try {
      const conn = new FramedConnection(await listener.accept());
      try {
        conn.start();
        await script(conn);
        // Stay until the engine hangs up, so that it reads everything.
        await guard(conn.closed, "the engine hanging up", 5000);
      } finally {
        await closeConn(conn);
      }
    } finally {
      listener.close();
    }
  })();
  return { port: listener.addr.port, done };
}

/**
 * Serves one engine with `fakeServer(script)` and asserts that the engine's
 * `joinClient` fails with a `HandshakeError` matching `pattern`: the engine
 * gives up on the server (it is not refused by it).
 *
 * @example
 * ```ts
 * import { assertJoinFails } from "./handshake_servers.ts";
 * await assertJoinFails(
 *   async (conn) => await conn.send({ t: "nonsense" }),
 *   /expected a "hello" frame/,
 * );
 * ```
 */
export async function assertJoinFails(
  script: (conn: FramedConnection) => Promise<void>,
  pattern: RegExp,
): Promise<void> {
  const fake = fakeServer(script);
  try {
    await assert.rejects(
      joinEngine(fake.port, KEY),
      (error) => assertHandshakeError(error, pattern, false),
    );
  } finally {
    await fake.done;
  }
}

/**
 * A fake server's first move when it plays the client's part correctly: a
 * hello with a fresh nonce. Resolves with that nonce and the engine's
 * answer, so that each test only writes the step that it gets wrong.
 *
 * @example
 * ```ts
 * import type { FramedConnection } from "../transport/framed_connection.ts";
 * import { sendHello } from "./handshake_servers.ts";
 * async function authOf(conn: FramedConnection): Promise<unknown> {
 *   return (await sendHello(conn)).auth;
 * }
 * ```
 */
export async function sendHello(
  conn: FramedConnection,
  sealed = false,
): Promise<{ clientNonce: Uint8Array; auth: Frame }> {
  const clientNonce = nonce();
  const auth = nextValue(conn);
  await conn.send(clientHello(clientNonce, sealed));
  return { clientNonce, auth: await auth as Frame };
}

/**
 * Asserts that `error` is a HandshakeError matching `pattern`, refused by
 * the other side or not, and that it does not hold the key.
 *
 * @example
 * ```ts
 * import { HandshakeError } from "../transport/handshake.ts";
 * import { assertHandshakeError } from "./handshake_servers.ts";
 * const e = new HandshakeError("the client refused: wrong key", true);
 * assertHandshakeError(e, /wrong key/, true);
 * ```
 */
export function assertHandshakeError(
  error: unknown,
  pattern: RegExp,
  refused: boolean,
): true {
  assert.ok(error instanceof HandshakeError, `got ${error}`);
  assert.match(error.message, pattern);
  assert.equal(error.refused, refused, `refused for "${error.message}"`);
  assert.ok(!error.message.includes(KEY), "the key is in the error");
  return true;
}
