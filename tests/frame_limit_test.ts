/**
 * Frames over `maxFrameBytes` (issue #11, item 5), on real engine processes
 * with a small limit (1 MiB) to stay cheap: what would not fit in a frame
 * fails that call, that task or that publication alone, with an error that
 * names the limit and the option, and no engine dies or loses its globals.
 * A load-balanced task with retries fails once. Only an engine that breaks
 * the limit itself has its connection closed.
 */

import assert from "node:assert/strict";
import {
  type Client,
  type ClientOptions,
  type EngineEvent,
  publishData,
  RemoteError,
} from "../mod.ts";
import type { ToEngine } from "../protocol/messages.ts";
import { FramedConnection } from "../transport/framed_connection.ts";
import { joinClient } from "../transport/handshake.ts";
import { errorOf, guard, until, withClient } from "./helpers.ts";

const MiB = 2 ** 20;
const LIMIT =
  /over the 1 MiB limit of one frame .*ClientOptions\.maxFrameBytes/;

/** Engine processes with a 1 MiB frame limit; `died` collects deaths. */
async function withSmallFrames(
  processes: number,
  body: (client: Client, died: EngineEvent[]) => Promise<void>,
  options: ClientOptions = {},
): Promise<void> {
  const died: EngineEvent[] = [];
  await withClient(
    {
      workers: 0,
      processes,
      maxFrameBytes: MiB,
      onEngineEvent: (e) => e.type === "died" && died.push(e),
      ...options,
    },
    (client) => body(client, died),
  );
}

function restartsOf(client: Client): number {
  return client.engines().reduce((n, e) => n + e.restarts, 0);
}

Deno.test("a call too big for a frame fails alone, naming the limit; the engine keeps its globals", async () => {
  await withSmallFrames(1, async (client, died) => {
    const dv = client.view(0);
    await dv.push({ kept: 42 });
    const pushed = await errorOf(dv.push({ big: new Uint8Array(2 * MiB) }));
    assert.ok(
      pushed instanceof RangeError,
      `${pushed.name}: ${pushed.message}`,
    );
    assert.match(
      pushed.message,
      /could not be sent to engine 0: it is 2\.0 MiB/,
    );
    assert.match(pushed.message, LIMIT);
    const applied = await errorOf(
      dv.applyAsync((a: Uint8Array) => a.length, new Uint8Array(2 * MiB)),
    );
    assert.ok(applied instanceof RangeError);
    assert.match(applied.message, LIMIT);
    // Under the limit crosses, and the engine is the one it was.
    assert.equal(
      await dv.applySync((a: Uint8Array) => a.length, new Uint8Array(MiB / 2)),
      MiB / 2,
    );
    assert.equal(await dv.pull("kept"), 42);
    assert.deepEqual(died, []);
    assert.equal(restartsOf(client), 0);
  });
});

Deno.test("a result too big for a frame fails its task alone", async () => {
  await withSmallFrames(1, async (client, died) => {
    const dv = client.view(0);
    await dv.push({ kept: "yes" });
    const e = await errorOf(
      dv.applyAsync(() => new Float64Array(256 * 1024)), // 2 MiB
    );
    assert.ok(e instanceof RemoteError, `${e.name}: ${e.message}`);
    assert.equal(e.remoteName, "RangeError");
    assert.match(e.remoteMessage, /the task's result could not be sent/);
    assert.match(e.remoteMessage, LIMIT);
    // A map chunk's results, the same.
    const mapped = await errorOf(
      dv.mapAsync(() => new Uint8Array(2 * 2 ** 20), [1]),
    );
    assert.match(mapped.message, LIMIT);
    assert.equal(await dv.pull("kept"), "yes");
    assert.deepEqual(died, []);
    assert.equal(restartsOf(client), 0);
  });
});

Deno.test("a publication too big for a frame is not sent: stderr says so at once, and the task fails when it ends", async () => {
  await withSmallFrames(1, async (client, died) => {
    const ar = client.view(0).applyAsync(() => {
      publishData({ before: 1 });
      publishData({ big: new Uint8Array(2 * 2 ** 20) });
      publishData({ after: 2 });
      return "ran to its end";
    });
    const e = await errorOf(ar);
    assert.ok(e instanceof RemoteError, `${e.name}: ${e.message}`);
    assert.equal(e.remoteName, "RangeError");
    assert.match(
      e.remoteMessage,
      /^the task ended, but publishData's data \(publication 2\) could not be sent/,
    );
    assert.match(e.remoteMessage, LIMIT);
    assert.match(
      ar.stderr as string,
      /troupe: publishData's data \(publication 2\) could not be sent.*1 MiB/,
    );
    assert.deepEqual(ar.data, { before: 1, after: 2 });
    // The engine goes on, publishing included.
    const next = client.view(0).applyAsync(() => publishData({ again: 3 }));
    await next;
    assert.deepEqual(next.data, { again: 3 });
    assert.deepEqual(died, []);
  });
});

Deno.test("a load-balanced task with retries that sends too much fails once, on one engine, killing none", async () => {
  await withSmallFrames(2, async (client, died) => {
    const lb = client.loadBalancedView({ retries: 3 });
    const done = () => client.engines().reduce((n, e) => n + e.tasksDone, 0);
    const args = await errorOf(
      lb.applyAsync((a: Uint8Array) => a.length, new Uint8Array(2 * MiB)),
    );
    assert.ok(args instanceof RangeError, `${args.name}: ${args.message}`);
    assert.match(args.message, LIMIT);

    const before = done();
    const result = await errorOf(
      lb.applyAsync(() => new Uint8Array(2 * 2 ** 20)),
    );
    assert.ok(result instanceof RemoteError, result.message);
    assert.match(result.remoteMessage, LIMIT);
    await until(() => done() === before + 1, "the task to be counted");
    assert.equal(done(), before + 1, "it ran once, not once per retry");
    assert.deepEqual(died, []);
    assert.equal(restartsOf(client), 0);
    assert.deepEqual(await lb.mapSync((x: number) => x * 2, [1, 2, 3]), [
      2,
      4,
      6,
    ]);
  });
});

Deno.test("an engine told the limit that breaks it anyway has only its own connection closed", async () => {
  const logs: string[] = [];
  await withClient(
    {
      workers: 1,
      listen: true,
      maxFrameBytes: MiB,
      log: (line) => logs.push(line),
    },
    async (client) => {
      const { hostname, port, key } = client.connectionInfo;
      const conn = new FramedConnection(await Deno.connect({ hostname, port }));
      try {
        const engineId = await guard(
          joinClient(conn, key, {}, 5000),
          "the fake engine's handshake",
        );
        const init = Promise.withResolvers<ToEngine>();
        conn.onValue = (value) => {
          const message = value as ToEngine;
          if (message.t === "init") init.resolve(message);
          else if (message.t === "ping") {
            conn.send({ t: "pong" }).catch(() => {});
          }
        };
        const told = await guard(init.promise, "init");
        assert.equal(told.t === "init" && told.maxFrameBytes, MiB);
        await conn.send({ t: "ready" });
        await until(() => client.ids.includes(engineId), "the fake to join");
        // Its own connection keeps the default limit: it ignores init.
        await conn.send({
          t: "pub",
          taskId: 1,
          seq: 1,
          time: 0,
          data: { big: new Uint8Array(2 * MiB) },
        }).catch(() => {});
        await guard(conn.closed, "the client to close the connection");
        await until(
          () => logs.some((l) => /over the limit of 1 MiB/.test(l)),
          "the client to log why",
        );
        assert.equal(await client.view(0).applySync(() => "fine"), "fine");
      } finally {
        conn.close("the test is over");
        await conn.closed;
      }
    },
  );
});
