/**
 * The engine handshake over real sockets on 127.0.0.1: `TcpServer` (the
 * client's listener) against `joinClient` engines, hand-written fake servers
 * and raw peers that send whatever they like.
 *
 * @module
 */

import assert from "node:assert/strict";
import { concatBytes } from "../transport/bytes.ts";
import { decodeValue, encodeValue } from "../transport/codec.ts";
import { FrameDecoder, frameHeader } from "../transport/frame.ts";
import { FramedConnection } from "../transport/framed_connection.ts";
import {
  type EngineHello,
  HandshakeError,
  joinClient,
  PROTOCOL_VERSION,
} from "../transport/handshake.ts";
import { TcpServer, type TcpServerOptions } from "../transport/tcp_server.ts";
import { guard, until } from "./helpers.ts";

const KEY = "k3y-4f9d1c7e2b8a6d5c-never-on-the-wire";
const KEY_BYTES = new TextEncoder().encode(KEY);
const HOST = "127.0.0.1";

/** Every log line of every server in this file. */
const allLogs: string[] = [];

type Frame = Record<string, unknown>;

// ---------------------------------------------------------------------------
// Helpers

function indexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.byteLength <= haystack.byteLength; i++) {
    for (let j = 0; j < needle.byteLength; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

function assertNoKey(bytes: Uint8Array, what: string): void {
  assert.equal(indexOfBytes(bytes, KEY_BYTES), -1, `the key is in ${what}`);
}

/** HMAC-SHA256 as PROTOCOL.md defines the proofs. */
async function hmac(key: string, ...parts: Uint8Array[]): Promise<Uint8Array> {
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

const label = (side: "engine" | "client") =>
  new TextEncoder().encode(`troupe ${side} proof\0`);

const nonce = () => crypto.getRandomValues(new Uint8Array(32));

/** The byte both proofs end with: whether frames are sealed. */
const flag = (sealed: unknown) => new Uint8Array([sealed === true ? 1 : 0]);

/** A `TcpServer` on 127.0.0.1 that records what happens to it. */
function startServer(
  options: Partial<TcpServerOptions> & { engineId?: number } = {},
) {
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

/** An engine: connect, then `joinClient`. Closes the socket if it fails. */
async function joinEngine(
  port: number,
  key: string,
  hello: EngineHello = {},
  timeoutMs = 3000,
) {
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

/** Closes an engine's connection and waits until it is done. */
async function closeConn(conn: FramedConnection): Promise<void> {
  conn.close("test over");
  await conn.closed;
}

/** The next value a `FramedConnection` receives. */
function nextValue(conn: FramedConnection, ms = 5000): Promise<unknown> {
  const got = Promise.withResolvers<unknown>();
  conn.onValue = (value) => {
    conn.onValue = undefined;
    got.resolve(value);
  };
  return guard(got.promise, "a value", ms);
}

/**
 * A peer that speaks raw bytes: it sends what it likes and keeps every byte
 * it receives.
 */
class RawPeer {
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

/** Answers the server's hello as an engine would, with `key`. */
async function rawAuth(
  peer: RawPeer,
  key: string,
  options: { version?: unknown; hello?: EngineHello } = {},
) {
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

/**
 * A hand-written client side on 127.0.0.1 for one engine: `script` runs
 * the server's half of the handshake however it likes.
 */
function fakeServer(script: (conn: FramedConnection) => Promise<void>) {
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
 */
async function assertJoinFails(
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
 */
async function sendHello(
  conn: FramedConnection,
  sealed = false,
): Promise<{ clientNonce: Uint8Array; auth: Frame }> {
  const clientNonce = nonce();
  const auth = nextValue(conn);
  await conn.send({
    t: "hello",
    protocol: "troupe",
    version: PROTOCOL_VERSION,
    nonce: clientNonce,
    sealed,
  });
  return { clientNonce, auth: await auth as Frame };
}

function assertHandshakeError(
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

// ---------------------------------------------------------------------------

Deno.test("handshake: a real engine registers", async (t) => {
  await t.step("both sides agree; decide gets the engine's hello", async () => {
    const h = startServer({ engineId: 42 });
    try {
      const hello: EngineHello = {
        engineId: 3,
        token: "one-time-token",
        pid: 4242,
        hostname: "engine-host",
      };
      const { conn, engineId, localPort } = await joinEngine(
        h.port,
        KEY,
        hello,
      );
      try {
        assert.equal(engineId, 42);
        await h.engineCount(1);
        assert.equal(h.engines[0].engineId, 42);
        assert.equal(h.decided.length, 1);
        assert.deepStrictEqual(h.decided[0].hello, hello);
        assert.equal(h.decided[0].peer, `${HOST}:${localPort}`);
        assert.equal(h.engines[0].conn.peer, `${HOST}:${localPort}`);

        // The connection is usable both ways, and frames larger than the
        // handshake limit (4 KiB) are now accepted from the engine.
        const server = h.engines[0].conn;
        const big = new Float64Array(20_000).fill(1.5);
        await conn.send({ t: "ready", big });
        const got = await nextValue(server) as { t: string; big: unknown };
        assert.equal(got.t, "ready");
        assert.deepStrictEqual(got.big, big);
        const toEngine = nextValue(conn);
        await server.send({ t: "init", engineId: 42 });
        assert.deepStrictEqual(await toEngine, { t: "init", engineId: 42 });
        assert.deepEqual(h.logs, []);
      } finally {
        await closeConn(conn);
      }
    } finally {
      await h.close();
    }
  });

  await t.step("ten engines at once each get their own id", async () => {
    let next = 0;
    const h = startServer({ decide: () => next++ });
    try {
      const joined = await Promise.all(
        Array.from({ length: 10 }, () => joinEngine(h.port, KEY)),
      );
      try {
        const ids = joined.map((j) => j.engineId).sort((a, b) => a - b);
        assert.deepEqual(ids, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        await h.engineCount(10);
        assert.deepEqual(
          h.engines.map((e) => e.engineId).sort((a, b) => a - b),
          ids,
        );
      } finally {
        await Promise.all(joined.map((j) => closeConn(j.conn)));
      }
    } finally {
      await h.close();
    }
  });

  await t.step(
    "the wire matches PROTOCOL.md (a hand-written engine)",
    async () => {
      const h = startServer({ engineId: 5 });
      const peer = await RawPeer.connect(h.port);
      try {
        const { clientNonce, engineNonce } = await rawAuth(peer, KEY, {
          hello: { pid: 1 },
        });
        const welcome = await peer.nextFrame();
        assert.equal(welcome.t, "welcome");
        assert.equal(welcome.engineId, 5);
        assert.deepEqual(
          welcome.mac,
          await hmac(
            KEY,
            label("client"),
            engineNonce,
            clientNonce,
            flag(false),
          ),
        );
        const hello = peer.frames[0];
        assert.equal(hello.protocol, "troupe");
        assert.equal(hello.version, PROTOCOL_VERSION);
        assert.equal(hello.sealed, false, "plain on loopback by default");
        assert.equal((hello.nonce as Uint8Array).byteLength, 32);
        assertNoKey(peer.bytes, "what a registered engine received");
        await h.engineCount(1);
        // Nonces are fresh per connection.
        const other = await RawPeer.connect(h.port);
        try {
          const second = await other.nextFrame();
          assert.notDeepEqual(second.nonce, hello.nonce);
        } finally {
          other.close();
        }
      } finally {
        peer.close();
        await h.close();
      }
    },
  );

  await t.step("TcpServer binds 127.0.0.1 by default", async () => {
    const h = startServer();
    try {
      assert.equal(h.server.hostname, "127.0.0.1");
      assert.ok(h.port > 0);
    } finally {
      await h.close();
    }
  });
});

Deno.test("handshake: who holds the key", async (t) => {
  await t.step("an engine with the wrong key is refused", async () => {
    const h = startServer();
    try {
      await assert.rejects(
        joinEngine(h.port, "not-the-key"),
        (error) => assertHandshakeError(error, /does not hold the key/, true),
      );
      await until(() => h.logs.length > 0, "a log line", 5000);
      assert.equal(h.logs.length, 1);
      assert.match(
        h.logs[0],
        /dropped a connection from 127\.0\.0\.1:\d+: the engine does not hold the key/,
      );
      assert.equal(h.decided.length, 0, "decide is not asked");
      assert.equal(h.engines.length, 0);
    } finally {
      await h.close();
    }
  });

  await t.step("what a wrong-key engine receives holds no key", async () => {
    const h = startServer();
    const peer = await RawPeer.connect(h.port);
    try {
      await rawAuth(peer, "not-the-key");
      const refused = await peer.nextFrame();
      assert.equal(refused.t, "refused");
      assert.match(String(refused.reason), /does not hold the key/);
      assert.equal(await peer.untilEnd(), "eof");
      assertNoKey(peer.bytes, "what a wrong-key engine received");
    } finally {
      peer.close();
      await h.close();
    }
  });

  await t.step(
    "a server without the key cannot pose as the client",
    async () => {
      await assertJoinFails(async (conn) => {
        const { clientNonce, auth } = await sendHello(conn);
        const engineNonce = auth.nonce as Uint8Array;
        // What a client holding another key would compute.
        await conn.send({
          t: "welcome",
          engineId: 1,
          mac: await hmac(
            "a-guess",
            label("client"),
            engineNonce,
            clientNonce,
            flag(false),
          ),
        });
      }, /the client does not hold the key/);
    },
  );

  await t.step(
    "a server reflecting the engine's own proof is caught",
    async () => {
      await assertJoinFails(async (conn) => {
        const { auth } = await sendHello(conn);
        await conn.send({ t: "welcome", engineId: 1, mac: auth.mac });
      }, /the client does not hold the key/);
    },
  );

  await t.step("joinClient needs an engine id in the welcome", async () => {
    await assertJoinFails(async (conn) => {
      const { clientNonce, auth } = await sendHello(conn);
      const engineNonce = auth.nonce as Uint8Array;
      await conn.send({
        t: "welcome",
        mac: await hmac(
          KEY,
          label("client"),
          engineNonce,
          clientNonce,
          flag(false),
        ),
      });
    }, /gave no engine id/);
  });

  await t.step("joinClient gives up on a silent server", async () => {
    const fake = fakeServer(async () => {});
    try {
      const started = performance.now();
      await assert.rejects(
        joinEngine(fake.port, KEY, {}, 200),
        (error) =>
          assertHandshakeError(error, /no handshake within 200 ms/, false),
      );
      assert.ok(performance.now() - started >= 190);
    } finally {
      await fake.done;
    }
  });

  await t.step(
    "decide throwing refuses the engine with its message",
    async () => {
      const h = startServer({
        decide: () => {
          throw new Error("engine 3 is already connected");
        },
      });
      try {
        await assert.rejects(
          joinEngine(h.port, KEY, { engineId: 3 }),
          (error) =>
            assertHandshakeError(error, /engine 3 is already connected/, true),
        );
        await until(() => h.logs.length > 0, "a log line", 5000);
        assert.match(h.logs[0], /engine 3 is already connected/);
        assert.equal(h.engines.length, 0);
      } finally {
        await h.close();
      }
    },
  );
});

const OTHER_VERSION = PROTOCOL_VERSION + 1;
const VERSION_MISMATCH = new RegExp(
  `version ${OTHER_VERSION}.*speaks ${PROTOCOL_VERSION}`,
);

Deno.test("handshake: protocol versions", async (t) => {
  await t.step(
    "an engine on another version is refused, naming both",
    async () => {
      const h = startServer();
      const peer = await RawPeer.connect(h.port);
      try {
        await rawAuth(peer, KEY, { version: OTHER_VERSION });
        const refused = await peer.nextFrame();
        assert.equal(refused.t, "refused");
        assert.match(
          String(refused.reason),
          new RegExp(`version ${OTHER_VERSION}`),
        );
        assert.match(
          String(refused.reason),
          new RegExp(`speaks ${PROTOCOL_VERSION}`),
        );
        assert.equal(await peer.untilEnd(), "eof");
        await until(() => h.logs.length > 0, "a log line", 5000);
        assert.match(h.linesFor(peer.localPort)[0], VERSION_MISMATCH);
        assert.equal(h.engines.length, 0);
        assertNoKey(peer.bytes, "what a wrong-version engine received");
      } finally {
        peer.close();
        await h.close();
      }
    },
  );

  await t.step("joinClient refuses a client on another version", async () => {
    await assertJoinFails(async (conn) => {
      await conn.send({
        t: "hello",
        protocol: "troupe",
        version: OTHER_VERSION,
        nonce: nonce(),
        sealed: false,
      });
    }, VERSION_MISMATCH);
  });

  await t.step("joinClient refuses a server that is not troupe", async () => {
    await assertJoinFails(async (conn) => {
      await conn.send({ t: "hello", protocol: "other", version: 1 });
    }, /does not speak troupe/);
  });
});

Deno.test("handshake: bad peers are dropped, engines still get in", async (t) => {
  await t.step("garbage, HTTP, oversized lengths, with an engine", async () => {
    const h = startServer({ engineId: 9 });
    const cases: { name: string; bytes: Uint8Array; why: RegExp[] }[] = [
      {
        name: "a frame that is not msgpack",
        bytes: new Uint8Array([0, 0, 0, 5, 0xc1, 0xc1, 0xc1, 0xc1, 0xc1]),
        why: [/not valid msgpack/],
      },
      {
        name: "msgpack that is not a handshake frame",
        bytes: concatBytes([frameHeader(4), encodeValue([1, 2, 3])]),
        why: [/expected an? "auth" frame/],
      },
      {
        name: "an HTTP request",
        bytes: new TextEncoder().encode(
          "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n\r\n",
        ),
        why: [/text/, /HTTP/],
      },
      {
        name: "a 4 GiB length prefix",
        bytes: new Uint8Array([0xff, 0xff, 0xff, 0xff]),
        why: [/GiB/, /over the limit of 4 KiB/],
      },
      {
        name: "a length just over the handshake limit",
        bytes: frameHeader(4097),
        why: [/over the limit of 4 KiB/],
      },
    ];
    try {
      const peers = await Promise.all(cases.map(() => RawPeer.connect(h.port)));
      try {
        const [ends, engine] = await Promise.all([
          Promise.all(peers.map(async (peer, i) => {
            await peer.write(cases[i].bytes);
            return await peer.untilEnd();
          })),
          joinEngine(h.port, KEY, { pid: 7 }),
        ]);
        try {
          assert.equal(engine.engineId, 9, "the engine got in");
          await h.engineCount(1);
        } finally {
          await closeConn(engine.conn);
        }
        for (const [i, peer] of peers.entries()) {
          const { name, why } = cases[i];
          // The server hung up. EOF, or a reset if the kernel still held
          // bytes of ours when the server closed: both are a drop.
          assert.ok(["eof", "reset"].includes(ends[i]), name);
          for (const frame of peer.frames) {
            assert.equal(frame.t, "hello", `${name}: only a hello was sent`);
          }
          assertNoKey(peer.bytes, `what ${name} received`);
          await until(
            () => h.linesFor(peer.localPort).length > 0,
            `a log line for ${name}`,
            5000,
          );
          const lines = h.linesFor(peer.localPort);
          assert.equal(lines.length, 1, `${name}: ${lines}`);
          assert.match(lines[0], /dropped a connection/, name);
          for (const pattern of why) {
            assert.match(lines[0], pattern, `${name}: ${lines[0]}`);
          }
        }
        assert.equal(h.engines.length, 1, "no bad peer was handed over");
        assert.equal(h.decided.length, 1);
      } finally {
        for (const peer of peers) peer.close();
      }
    } finally {
      await h.close();
    }
  });

  await t.step("malformed auth frames are dropped with a reason", async () => {
    const h = startServer();
    const auths: {
      name: string;
      auth: (hello: Frame) => unknown;
      why: RegExp;
    }[] = [
      {
        name: "a short nonce",
        auth: () => ({
          t: "auth",
          version: PROTOCOL_VERSION,
          nonce: nonce().slice(0, 5),
        }),
        why: /nonce must be 32 bytes/,
      },
      {
        name: "a mac that is text",
        auth: () => ({
          t: "auth",
          version: PROTOCOL_VERSION,
          nonce: nonce(),
          mac: "x",
        }),
        why: /the mac is not bytes/,
      },
      {
        name: "a string instead of a frame",
        auth: () => "auth",
        why: /expected an? "auth" frame, got string/,
      },
      {
        name: "the hello sent back",
        auth: (hello) => hello,
        why: /expected an? "auth" frame, got "hello"/,
      },
    ];
    const peers = await Promise.all(auths.map(() => RawPeer.connect(h.port)));
    try {
      await Promise.all(peers.map(async (peer, i) => {
        await peer.send(auths[i].auth(await peer.nextFrame()));
        assert.ok(["eof", "reset"].includes(await peer.untilEnd()));
        assertNoKey(peer.bytes, auths[i].name);
      }));
      for (const [i, peer] of peers.entries()) {
        await until(() => h.linesFor(peer.localPort).length > 0, "a log", 5000);
        assert.match(
          h.linesFor(peer.localPort)[0],
          auths[i].why,
          auths[i].name,
        );
      }
      assert.equal(h.engines.length, 0);
    } finally {
      for (const peer of peers) peer.close();
      await h.close();
    }
  });

  await t.step(
    "a silent peer is dropped after handshakeTimeoutMs",
    async () => {
      const h = startServer({ handshakeTimeoutMs: 300 });
      const started = performance.now();
      const silent = await RawPeer.connect(h.port);
      // Half a frame, then nothing.
      const slow = await RawPeer.connect(h.port);
      try {
        await slow.write(concatBytes([frameHeader(100), new Uint8Array(10)]));
        const [silentEnd, slowEnd] = await Promise.all([
          silent.untilEnd(5000),
          slow.untilEnd(5000),
        ]);
        const elapsed = performance.now() - started;
        assert.equal(silentEnd, "eof");
        assert.ok(["eof", "reset"].includes(slowEnd));
        assert.ok(elapsed >= 290, `dropped after ${elapsed.toFixed(0)} ms`);
        assert.ok(
          elapsed < 3000,
          `dropped only after ${elapsed.toFixed(0)} ms`,
        );
        assert.deepEqual(silent.frames.map((f) => f.t), ["hello"]);
        // The same reason from the same address: the first drop is a line,
        // the second is counted into a summary that close() logs.
        const first = h.linesFor(silent.localPort)
          .concat(h.linesFor(slow.localPort));
        assert.equal(first.length, 1, h.logs.join("\n"));
        assert.match(first[0], /no handshake within 300 ms/);
        await h.server.close();
        assert.match(
          h.logs.at(-1)!,
          /… and 1 more connection from 127\.0\.0\.1 dropped for the same reason in the last [\d.]+ s$/,
        );
      } finally {
        silent.close();
        slow.close();
        await h.close();
      }
    },
  );

  await t.step(
    "a legitimate engine still succeeds next to a silent peer",
    async () => {
      const h = startServer({ handshakeTimeoutMs: 300 });
      const silent = await RawPeer.connect(h.port);
      try {
        const engine = await joinEngine(h.port, KEY);
        await closeConn(engine.conn);
        assert.equal(engine.engineId, 7);
        assert.equal(await silent.untilEnd(), "eof");
      } finally {
        silent.close();
        await h.close();
      }
    },
  );
});

Deno.test("handshake: TcpServer.close()", async (t) => {
  await t.step("drops peers still in their handshake", async () => {
    const h = startServer();
    const peer = await RawPeer.connect(h.port);
    try {
      assert.equal((await peer.nextFrame()).t, "hello");
      await guard(h.server.close(), "close()", 2000);
      assert.equal(await peer.untilEnd(2000), "eof");
      assert.deepEqual(h.logs, [], "closing is not a peer's failure");
      await assert.rejects(
        Deno.connect({ hostname: HOST, port: h.port }),
        Deno.errors.ConnectionRefused,
      );
    } finally {
      peer.close();
      await h.close();
    }
  });

  await t.step(
    "close() at once after a connect leaves nothing running",
    async () => {
      const h = startServer();
      const peer = await RawPeer.connect(h.port);
      try {
        await h.server.close();
        assert.ok(["eof", "reset"].includes(await peer.untilEnd(2000)));
      } finally {
        peer.close();
        await h.close();
      }
    },
  );
});

Deno.test("handshake: the key is in no log line", () => {
  assert.ok(allLogs.length >= 8, `${allLogs.length} lines were logged`);
  for (const line of allLogs) {
    assert.ok(!line.includes(KEY), `the key is in: ${line}`);
    assertNoKey(new TextEncoder().encode(line), "a log line");
  }
});
