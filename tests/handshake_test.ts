/**
 * The engine handshake over real sockets on 127.0.0.1: `TcpServer` (the
 * client's listener) against `joinClient` engines and raw peers: a real
 * engine registers, and `TcpServer.close()` ends what it started. Who is
 * refused (the key, protocol versions, bad peers): handshake_refusals_test.ts.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type EngineHello, PROTOCOL_VERSION } from "../transport/handshake.ts";
import {
  assertNoKey,
  closeConn,
  HOST,
  joinEngine,
  KEY,
  nextValue,
  startServer,
} from "./handshake_servers.ts";
import { guard } from "./helpers.ts";
import { flag, hmac, label, rawAuth, RawPeer } from "./raw_peer.ts";

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
