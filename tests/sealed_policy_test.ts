/**
 * Who asks for sealing, and the errors that say so: which hosts are
 * loopback, when an engine requires sealed frames, the `TcpServer`'s
 * default, the handshake refused by an engine that requires sealing, and
 * `Client.start`'s check of `encrypt`.
 */

import assert from "node:assert/strict";
import { Client } from "../mod.ts";
import { parseEngineArgs } from "../engine/main.ts";
import { FramedConnection } from "../transport/framed_connection.ts";
import { HandshakeError, joinClient } from "../transport/handshake.ts";
import { isLoopback } from "../transport/loopback.ts";
import { TcpServer } from "../transport/tcp_server.ts";
import { errorOf, until } from "./helpers.ts";

Deno.test("sealed: who asks for sealing, and the errors that say so", async (t) => {
  await t.step("loopback addresses", () => {
    for (
      const host of [
        "127.0.0.1",
        "127.8.9.10",
        "localhost",
        "::1",
        "[::1]",
        "::ffff:127.0.0.1",
      ]
    ) {
      assert.equal(isLoopback(host), true, host);
    }
    for (
      const host of [
        "0.0.0.0",
        "::",
        "10.0.0.5",
        "192.0.2.2",
        "fd00::2",
        "example.com",
        "128.0.0.1",
        "127.0.0.256",
      ]
    ) {
      assert.equal(isLoopback(host), false, host);
    }
  });

  await t.step(
    "engines: sealing required off loopback, unless --allow-plain",
    async () => {
      const args = (at: string, ...more: string[]) =>
        parseEngineArgs(["--connect", at, "--key", "k", ...more]);
      assert.equal((await args("127.0.0.1:5555")).requireSealed, false);
      assert.equal((await args("[::1]:5555")).requireSealed, false);
      assert.equal((await args("10.0.0.5:5555")).requireSealed, true);
      assert.equal(
        (await args("10.0.0.5:5555", "--allow-plain")).requireSealed,
        false,
      );
    },
  );

  await t.step("TcpServer: sealed by default off loopback", async () => {
    const servers = [
      new TcpServer({ key: "k", decide: () => 0, onEngine: () => {} }),
      new TcpServer({
        hostname: "0.0.0.0",
        key: "k",
        decide: () => 0,
        onEngine: () => {},
      }),
      new TcpServer({
        hostname: "0.0.0.0",
        encrypt: false,
        key: "k",
        decide: () => 0,
        onEngine: () => {},
      }),
    ];
    try {
      assert.deepEqual(servers.map((s) => s.encrypt), [false, true, false]);
    } finally {
      await Promise.all(servers.map((s) => s.close()));
    }
  });

  await t.step(
    "an engine that requires sealing turns a plain client down",
    async () => {
      const logs: string[] = [];
      const server = new TcpServer({
        key: "k",
        decide: () => 0,
        onEngine: (conn) => conn.close("unexpected"),
        log: (line) => logs.push(line),
      });
      const conn = new FramedConnection(
        await Deno.connect({ hostname: "127.0.0.1", port: server.port }),
      );
      try {
        const error = await errorOf(
          joinClient(conn, "k", {}, 5000, true),
          "joinClient",
        );
        assert.ok(error instanceof HandshakeError);
        assert.match(error.message, /requires sealed/);
        assert.match(error.message, /encrypt: true/);
        assert.match(error.message, /--allow-plain/);
      } finally {
        conn.close("test over");
        await conn.closed;
        await until(() => logs.length > 0, "the server's log line");
        await server.close();
      }
    },
  );

  await t.step("Client.start checks encrypt", async () => {
    const error = await errorOf(
      Client.start({ workers: 0, encrypt: "yes" as unknown as boolean }),
    );
    assert.ok(error instanceof TypeError);
    assert.match(error.message, /encrypt must be true or false, got "yes"/);
  });
});
