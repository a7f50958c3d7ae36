/**
 * 1,000 connections at once to a client's engine listener (issue 14: "the
 * client survives 1,000 engines knocking at once"): a quarter complete the
 * handshake with the key and hang up, a quarter hold the wrong key, a
 * quarter send garbage, a quarter send nothing and must be dropped at the
 * handshake deadline. Every connect gets through the accept backlog (Deno
 * listens with a backlog of 511, `ss -ltn`'s Send-Q; the kernel holds back
 * the rest and their SYNs are sent again, nothing is refused); the client
 * still runs tasks on its Worker engine, its log counts the drops in a few
 * lines, and nothing is left behind (sanitizers). And an engine that its
 * client started retries a connect that fails, until its listener is there.
 */

import assert from "node:assert/strict";
import { Client } from "../mod.ts";
import { HandshakeError } from "../transport/handshake.ts";
import { rng } from "./frame_streams.ts";
import {
  closeConn,
  joinEngine,
  KEY,
  startServer,
} from "./handshake_servers.ts";
import { startHandEngine } from "./hand_engine.ts";
import { guard, range, sleep, withTempDir } from "./helpers.ts";
import { RawPeer } from "./raw_peer.ts";

const PER_KIND = 250;
/** Generous: 1,000 handshakes on a busy 2-core machine. Never a speed test. */
const BOUND_MS = 90_000;

type Outcome = "joined" | "refused" | "dropped" | `connect failed: ${string}`;

/** Connects, or says how the connect failed (refused, reset: counted). */
async function connect(port: number): Promise<RawPeer | string> {
  try {
    return await RawPeer.connect(port);
  } catch (error) {
    return `connect failed: ${(error as Error).name}`;
  }
}

/** Holds the key: joins, then hangs up. */
async function honest(port: number, key: string): Promise<Outcome> {
  // As an engine does (engine/main.ts): a handshake the client could not
  // finish in time (a slow machine) is tried again after a jittered pause;
  // each such try is one more drop in the client's log.
  for (let attempt = 0;; attempt++) {
    try {
      const { conn } = await joinEngine(port, key, {}, BOUND_MS);
      await closeConn(conn);
      return "joined";
    } catch (error) {
      const refused = error instanceof HandshakeError && error.refused;
      if (refused || attempt === 4) {
        return `connect failed: ${(error as Error).message}`;
      }
      honestRetries++;
      await sleep(100 * 2 ** attempt * (0.5 + Math.random()));
    }
  }
}

/** Handshakes of honest peers tried again (0 unless the machine is slow). */
let honestRetries = 0;

/** Holds the wrong key: is refused. */
async function wrongKey(port: number): Promise<Outcome> {
  try {
    const { conn } = await joinEngine(port, "not-the-key", {}, BOUND_MS);
    await closeConn(conn);
    return "joined";
  } catch (error) {
    if (error instanceof HandshakeError && error.refused) return "refused";
    return `connect failed: ${(error as Error).message}`;
  }
}

/** Sends bytes that are no handshake, then waits to be dropped. */
async function garbage(port: number, bytes: Uint8Array): Promise<Outcome> {
  const peer = await connect(port);
  if (typeof peer === "string") return peer as Outcome;
  try {
    await peer.write(bytes);
    await peer.untilEnd(BOUND_MS);
    return "dropped";
  } finally {
    peer.close();
  }
}

/** Says nothing: the handshake deadline must drop it. */
async function silent(port: number): Promise<Outcome> {
  const peer = await connect(port);
  if (typeof peer === "string") return peer as Outcome;
  try {
    await peer.untilEnd(BOUND_MS);
    return "dropped";
  } finally {
    peer.close();
  }
}

Deno.test("1,000 peers knocking at once: the client drops the bad, logs a few lines, and still runs tasks", async () => {
  const lines: string[] = [];
  const client = await Client.start({
    workers: 1,
    listen: true,
    log: (line) => lines.push(line),
  });
  const { port, key } = client.connectionInfo;
  const random = rng(14);
  const http = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  let outcomes: Outcome[];
  try {
    // All 1,000 at once, interleaved, so that every kind meets the backlog.
    const knocks: Promise<Outcome>[] = [];
    for (const i of range(PER_KIND)) {
      knocks.push(honest(port, key));
      knocks.push(wrongKey(port));
      knocks.push(garbage(port, i % 2 ? http : random.bytes(64)));
      knocks.push(silent(port));
    }
    outcomes = await guard(
      Promise.all(knocks),
      "1,000 knocks to settle",
      BOUND_MS + 10_000,
    );
    // The Worker engine was never in the way of any of it.
    assert.equal(await client.view(0).applySync(() => 6 * 7), 42);
  } finally {
    await client.close(); // Logs the summaries still pending.
  }
  const count = (kind: number) => {
    const tally: Record<string, number> = {};
    for (let i = kind; i < outcomes.length; i += 4) {
      tally[outcomes[i]] = (tally[outcomes[i]] ?? 0) + 1;
    }
    return tally;
  };
  assert.deepEqual(count(0), { joined: PER_KIND }, "honest peers");
  assert.deepEqual(count(1), { refused: PER_KIND }, "wrong keys");
  assert.deepEqual(count(2), { dropped: PER_KIND }, "garbage");
  assert.deepEqual(count(3), { dropped: PER_KIND }, "silent peers");

  const drops = lines.filter((l) => /dropped/.test(l));
  assert.ok(
    lines.length < 30,
    `${lines.length} log lines for 750 drops:\n${lines.join("\n")}`,
  );
  assert.ok(
    drops.some((l) => /no handshake within \d+ ms/.test(l)),
    `a silent peer is dropped at the deadline:\n${lines.join("\n")}`,
  );
  assert.ok(
    drops.some((l) => /does not hold the key/.test(l)),
    lines.join("\n"),
  );
  // A hello whose write the garbage cut short is dropped for the garbage.
  assert.ok(
    !lines.some((l) => /operation canceled/.test(l)),
    lines.join("\n"),
  );
  // Text quoted from the garbage varies; the reason does not: one line.
  assert.equal(
    lines.filter((l) => /^troupe: dropped .*sent text, not frames/.test(l))
      .length,
    1,
    lines.join("\n"),
  );
  // The summaries count every drop: 750, one line each or counted in one.
  let counted = 0;
  for (const line of drops) {
    const summary = line.match(/… and ([\d,]+) more connections? /);
    counted += summary ? Number(summary[1].replaceAll(",", "")) : 1;
  }
  assert.equal(counted, 3 * PER_KIND + honestRetries, lines.join("\n"));
});

Deno.test("an engine its client started retries a connect that fails until the listener is there", async () => {
  // A port nobody listens on, for now.
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = probe.addr;
  probe.close();
  await withTempDir(async (dir) => {
    const secrets = `${dir}/secrets.json`;
    await Deno.writeTextFile(
      secrets,
      JSON.stringify({ key: KEY, token: "t0k3n", engineId: 7 }),
    );
    const engine = startHandEngine([
      "--connect",
      `127.0.0.1:${port}`,
      "--spawned",
      "--secrets",
      secrets,
    ]);
    let server: ReturnType<typeof startServer> | undefined;
    try {
      await engine.waitForStderr(
        /cannot reach the client \(.*\); retrying in \d+ ms/,
        "a refused connect, retried",
      );
      server = startServer({ port });
      await server.engineCount(1);
      assert.equal(server.decided[0].hello.token, "t0k3n");
    } finally {
      // Its connection gone, a registered engine that was started exits.
      await server?.close();
    }
    assert.equal((await engine.exited()).code, 1);
    assert.doesNotMatch(engine.stderr(), /could not reach the client/);
  });
});
