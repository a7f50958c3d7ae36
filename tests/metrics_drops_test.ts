/**
 * `troupe_connections_dropped_total` and the wire counters over real
 * sockets: each way a listener drops a peer is counted under its cause
 * (a wrong key, bytes that are no frame, a frame over the limit, silence,
 * a peer that leaves), and a refused engine or client shows in
 * `client.metrics()` of an embedded client and of a controller's clients.
 */

import assert from "node:assert/strict";
import { Client, type MetricFamily } from "../mod.ts";
import type { DropCause } from "../transport/wire_counts.ts";
import { WireTotals } from "../transport/wire_counts.ts";
import { joinEngine, KEY, startServer } from "./handshake_servers.ts";
import { RawPeer } from "./raw_peer.ts";
import {
  errorOf,
  guard,
  until,
  withClient,
  withController,
} from "./helpers.ts";

function dropped(families: MetricFamily[], cause: string): number {
  const family = families.find((f) =>
    f.name === "troupe_connections_dropped_total"
  );
  assert.ok(family && family.type === "counter");
  return family.samples.find((s) => s.labels.cause === cause)?.value ?? 0;
}

Deno.test("a listener counts each drop under its cause, and every frame", async () => {
  const causes: DropCause[] = [];
  const wire = new WireTotals();
  const h = startServer({
    handshakeTimeoutMs: 300,
    dropped: (cause) => causes.push(cause),
    wire,
  });
  const seen = async (n: number) =>
    await until(() => causes.length >= n, `${n} drops`, 10_000);
  try {
    await assert.rejects(joinEngine(h.port, "not-the-key"));
    await seen(1);
    assert.deepEqual(causes, ["handshake_refused"]);

    const http = await RawPeer.connect(h.port);
    await http.write(new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n"));
    await seen(2);
    assert.equal(causes[1], "malformed_frame", "text is no frame");
    http.close();

    const huge = await RawPeer.connect(h.port);
    await huge.write(new Uint8Array([0xff, 0xff, 0xff, 0x00]));
    await seen(3);
    assert.equal(causes[2], "frame_too_large");
    huge.close();

    const silent = await RawPeer.connect(h.port);
    await seen(4);
    assert.equal(causes[3], "handshake_timeout");
    silent.close();

    const leaving = await RawPeer.connect(h.port);
    await leaving.nextFrame(); // The server's hello.
    leaving.close();
    await seen(5);
    assert.equal(causes[4], "closed");

    // An engine that gets in is no drop; every connection's frames count.
    const { conn } = await joinEngine(h.port, KEY);
    await h.engineCount(1);
    assert.equal(causes.length, 5);
    const sum = wire.sum();
    // Each peer got a hello; the engine sent its auth and got its welcome.
    assert.ok(sum.framesOut >= 6, `${sum.framesOut} frames out`);
    assert.ok(sum.framesIn >= 2, `${sum.framesIn} frames in`);
    assert.ok(sum.bytesIn > 0 && sum.bytesOut > sum.framesOut * 4);
    conn.close("test over");
    await conn.closed;
  } finally {
    await h.close();
  }
});

Deno.test("an engine with the wrong key counts in an embedded client's metrics", async () => {
  await withClient({ workers: 0, listen: true }, async (client) => {
    assert.equal(dropped(await client.metrics(), "handshake_refused"), 0);
    const { port } = client.connectionInfo!;
    await assert.rejects(joinEngine(port, "not-the-key"));
    let families: MetricFamily[] = [];
    await until(
      async () =>
        dropped(families = await client.metrics(), "handshake_refused") === 1,
      "the drop to be counted",
      10_000,
    );
    assert.equal(dropped(families, "malformed_frame"), 0);
  });
});

Deno.test("a controller counts refused engines and clients for every client", async () => {
  await withController(
    { id: `drops-${crypto.randomUUID()}`, engines: { workers: 0 } },
    async (controller) => {
      const client = await guard(
        Client.connect(controller.clientInfo),
        "Client.connect",
      );
      try {
        await assert.rejects(
          joinEngine(controller.engineInfo.port, "not-the-key"),
        );
        const wrong = await errorOf(
          Client.connect({ ...controller.clientInfo, key: "not-the-key" }),
        );
        assert.match(wrong.message, /key/);
        let families: MetricFamily[] = [];
        await until(
          async () =>
            dropped(families = await client.metrics(), "handshake_refused") ===
              2,
          "both drops to be counted",
          10_000,
        );
        // The controller's client connection is on its wire too.
        const frames = families.find((f) =>
          f.name === "troupe_wire_frames_total"
        );
        assert.ok(frames?.type === "counter");
        const inbound = frames.samples.find((s) => s.labels.direction === "in");
        assert.ok(inbound!.value >= 3, `${inbound!.value} frames in`);
      } finally {
        await guard(client.close(), "the client to detach");
      }
    },
  );
});
