/**
 * The handshake's purposes (`"engine"`, `"client"`), against a real
 * `TcpServer` of each purpose with the SAME key: what keeps one purpose's
 * proof from passing for the other is the purpose itself (the hello's
 * protocol and the signed labels), not only that a controller's two keys
 * differ.
 */

import assert from "node:assert/strict";
import { FramedConnection } from "../transport/framed_connection.ts";
import {
  HANDSHAKE_MAX_FRAME_BYTES,
  joinClient,
  joinPeer,
} from "../transport/handshake.ts";
import {
  assertHandshakeError,
  closeConn,
  HOST,
  KEY,
  startServer,
} from "./handshake_servers.ts";
import { errorOf, guard, until } from "./helpers.ts";
import { rawAuth, RawPeer } from "./raw_peer.ts";

async function dial(port: number): Promise<FramedConnection> {
  return new FramedConnection(
    await Deno.connect({ hostname: HOST, port }),
    HANDSHAKE_MAX_FRAME_BYTES,
  );
}

Deno.test("handshake purpose: a client attaches to a client listener", async () => {
  const s = startServer({ purpose: "client", engineId: 4 });
  const conn = await dial(s.port);
  const id = await guard(
    joinPeer(conn, KEY, "client", { pid: 1 }, 5000),
    "joinPeer",
  );
  assert.equal(id, 4);
  assert.deepEqual(s.decided[0].hello, { pid: 1 });
  await s.engineCount(1);
  await closeConn(conn);
  await s.close();
});

Deno.test("handshake purpose: an engine's proof never passes for a client's", async () => {
  // A peer that plays along with the client hello but signs as engines
  // do, with the right key: the labels differ, so the proof fails.
  const s = startServer({ purpose: "client" });
  const peer = await RawPeer.connect(s.port);
  await rawAuth(peer, KEY);
  assert.equal(peer.frames[0].protocol, "troupe-client");
  const answer = await peer.nextFrame();
  assert.equal(answer.t, "refused");
  // A client is told which key it lacks: the client key.
  assert.equal(answer.reason, "it does not hold the client key");
  peer.close();
  await until(
    () => s.logs.some((l) => /the client does not hold the key/.test(l)),
    "the listener's log line",
  );
  assert.equal(s.engines.length, 0);
  await s.close();
});

Deno.test("handshake purpose: each side at the wrong port is told where to go", async () => {
  const clients = startServer({ purpose: "client" });
  const asEngine = await dial(clients.port);
  const engineError = await errorOf(
    joinClient(asEngine, KEY, {}, 5000),
    "an engine at a client port",
  );
  assertHandshakeError(engineError, /client port: engines connect/, true);
  await closeConn(asEngine);
  await until(
    () =>
      clients.logs.some((l) => /an engine came to this client port/.test(l)),
    "the client listener's log line",
  );
  await clients.close();

  const engines = startServer();
  const asClient = await dial(engines.port);
  const clientError = await errorOf(
    joinPeer(asClient, KEY, "client", {}, 5000),
    "a client at an engine port",
  );
  assertHandshakeError(clientError, /this is a troupe engine port/, true);
  await closeConn(asClient);
  await until(
    () => engines.logs.some((l) => /a client came to this engine port/.test(l)),
    "the engine listener's log line",
  );
  assert.equal(clients.engines.length + engines.engines.length, 0);
  await engines.close();
});
