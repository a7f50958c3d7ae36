/**
 * Who gets through the engine handshake, over real sockets on 127.0.0.1:
 * only peers that hold the key (both ways: an engine also refuses a client
 * that does not), of the same protocol version; bad peers are dropped while
 * engines still get in; and the key is in no log line of any server here.
 * `TcpServer` (the client's listener) meets `joinClient` engines,
 * hand-written fake servers and raw peers that send whatever they like.
 *
 * @module
 */

import assert from "node:assert/strict";
import { concatBytes } from "../transport/bytes.ts";
import { encodeValue } from "../transport/codec.ts";
import { frameHeader } from "../transport/frame.ts";
import { PROTOCOL_VERSION } from "../transport/handshake.ts";
import {
  allLogs,
  assertHandshakeError,
  assertJoinFails,
  assertNoKey,
  closeConn,
  fakeServer,
  type Frame,
  joinEngine,
  KEY,
  nonce,
  sendHello,
  startServer,
} from "./handshake_servers.ts";
import { until } from "./helpers.ts";
import { flag, hmac, label, rawAuth, RawPeer } from "./raw_peer.ts";

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

Deno.test("handshake: the key is in no log line", () => {
  assert.ok(allLogs.length >= 8, `${allLogs.length} lines were logged`);
  for (const line of allLogs) {
    assert.ok(!line.includes(KEY), `the key is in: ${line}`);
    assertNoKey(new TextEncoder().encode(line), "a log line");
  }
});
