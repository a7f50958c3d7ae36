/**
 * Nothing waits forever for an engine: a process engine killed (or stopped)
 * before it connects back comes back; a close that arrives right after the
 * handshake reaches the engine, which retries; and once no engine is left
 * (given up, or none up for `noEngineTimeoutMs` on a listening client),
 * load-balanced tasks, maps and `waitForEngines` fail with an error that
 * says so and how to get engines. Real processes, Workers and sockets.
 */

import assert from "node:assert/strict";
import {
  type Client,
  type ClientOptions,
  EngineError,
  type EngineEvent,
  publishData,
} from "../mod.ts";
import { FramedConnection } from "../transport/framed_connection.ts";
import { acceptEngine, joinClient } from "../transport/handshake.ts";
import { holdUntilFile } from "./file_latch.ts";
import { childPids, pidOf, startHandEngine } from "./hand_engine.ts";
import {
  errorOf,
  guard,
  range,
  sleep,
  until,
  withClient,
  withTempDir,
} from "./helpers.ts";

/** Generous bound for anything that should take a second or two. */
const HANG_MS = 20_000;

/**
 * Options for a client of one process engine that must register within
 * `startTimeoutMs`, beating every 200 ms, whose engine events from its
 * start on go to `events`.
 */
function oneProcess(
  startTimeoutMs: number,
  events: EngineEvent[],
): ClientOptions {
  return {
    processes: 1,
    workers: 0,
    startTimeoutMs,
    heartbeatMs: 200,
    onEngineEvent: (e) => events.push(e),
  };
}

/**
 * Kills engine 0's process, then finds the process started to replace it
 * before that one has connected back, and sends it `signal`.
 */
async function hitReplacement(
  client: Client,
  signal: Deno.Signal,
): Promise<number> {
  const first = await pidOf(client, 0);
  Deno.kill(first, "SIGKILL");
  let next: number | undefined;
  await until(
    async () => {
      next = (await childPids()).find((pid) => pid !== first);
      return next !== undefined;
    },
    "the replacement process to start",
    HANG_MS,
  );
  // Before it connects back: a deno process takes far longer to start
  // than pgrep takes to find it.
  assert.equal(client.engines()[0].state, "starting");
  Deno.kill(next!, signal);
  return next!;
}

Deno.test("a process engine killed before it connects back comes back", async () => {
  await withClient({ processes: 1, workers: 0 }, async (client) => {
    const killed = await hitReplacement(client, "SIGKILL");
    // The next process under the same id registers and runs tasks.
    await until(
      () => client.engines()[0].state === "idle",
      "engine 0 to be back",
      HANG_MS,
    );
    const pid = await pidOf(client, 0);
    assert.notEqual(pid, killed);
    assert.equal(client.engines()[0].state, "idle");
    assert.ok(client.engines()[0].restarts >= 2);
  });
});

Deno.test("an engine that does not register within startTimeoutMs dies and is restarted", async () => {
  const events: EngineEvent[] = [];
  await withClient(
    oneProcess(4000, events),
    async (client) => {
      // Stopped before it connects: it neither registers nor exits.
      const stopped = await hitReplacement(client, "SIGSTOP");
      try {
        // A direct task on it fails when the deadline passes.
        const e = await errorOf(
          client.view(0).applyAsync(() => 1),
          "a task on the engine that never registers",
          HANG_MS,
        );
        assert.ok(e instanceof EngineError, `${e.name}: ${e.message}`);
        assert.match(
          e.reason,
          /did not say it was ready within 4000 ms of being started \(startTimeoutMs\)/,
        );
        // It counts as a death: the restart policy starts another process.
        const pid = await pidOf(client, 0);
        assert.notEqual(pid, stopped);
        assert.ok(
          events.some((ev) =>
            ev.type === "died" && /startTimeoutMs/.test(ev.reason)
          ),
        );
        await until(
          async () => !(await childPids()).includes(stopped),
          "the stopped process to be killed",
          HANG_MS,
        );
      } finally {
        try {
          Deno.kill(stopped, "SIGKILL");
        } catch {
          // Killed by the client already.
        }
      }
    },
  );
});

Deno.test("a remote engine retries when the client closes right after welcome", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const key = crypto.randomUUID();
  const engine = startHandEngine(
    ["--connect", `127.0.0.1:${listener.addr.port}`],
    { TROUPE_KEY: key },
  );
  try {
    // Each round is a race the engine lost often before closes were held
    // for the next owner; eight rounds lose it almost surely.
    for (const attempt of range(9)) {
      const socket = await guard(
        listener.accept(),
        `connection ${attempt} from the engine`,
        HANG_MS,
      );
      const conn = new FramedConnection(socket);
      // A client that welcomes the engine and goes away at once.
      // Sealed, as off loopback: deriving the keys gives the close time to
      // arrive while the handshake still owns the connection.
      await guard(acceptEngine(conn, key, () => 0, 5000, true), "handshake");
      conn.close("the fake client closes right after welcome");
      await conn.closed;
    }
    // Each connection after the first is a retry; the engine said why.
    assert.match(engine.stderr(), /connection lost/);
  } finally {
    await engine.kill();
  }
});

Deno.test("a client with process engines only: once they are given up, nothing waits", async () => {
  await withTempDir(async (dir) => {
    await withClient(
      {
        processes: 1,
        workers: 0,
        restart: { maxRestarts: 0, withinMs: 60_000 },
      },
      async (client) => {
        const lb = client.loadBalancedView();
        const pid = await pidOf(client, 0);
        // One task holds the engine; the rest wait in the scheduler.
        const held = lb.applyAsync(holdUntilFile, `${dir}/never`);
        const queued = range(20).map((i) => lb.applyAsync((x) => x, i));
        const map = lb.mapAsync((x: number) => x * 2, range(100));
        await until(() => held.metadata.status === "running", "held runs");
        Deno.kill(pid, "SIGKILL");
        const lost = await errorOf(held, "the held task", HANG_MS);
        assert.ok(lost instanceof EngineError, lost.message);
        for (const ar of [...queued, map]) {
          const e = await errorOf(ar, "a task with no engine left", HANG_MS);
          const first = e instanceof EngineError
            ? e
            : (e as AggregateError).errors?.[0];
          assert.ok(first instanceof EngineError, `${e.name}: ${e.message}`);
          assert.match(first.message, /no engine this task may run on is left/);
          assert.match(first.message, /engine 0 given up/);
          assert.match(first.message, /To get engines, start the client/);
        }
        // Submitted after the give-up: fails as well.
        const late = await errorOf(lb.applyAsync(() => 1), "a late task");
        assert.match(late.message, /no engine this task may run on is left/);
        const wait = await errorOf(client.waitForEngines(1), "waitForEngines");
        assert.match(wait.message, /can never be up/);
      },
    );
  });
});

Deno.test("a listening client fails a task after noEngineTimeoutMs with no engine up", async (t) => {
  await t.step("no engine ever joined", async () => {
    await withClient(
      { workers: 0, listen: true, noEngineTimeoutMs: 300 },
      async (client) => {
        const e = await errorOf(
          client.loadBalancedView().applyAsync(() => 1),
          "a task on a client without engines",
        );
        assert.match(e.message, /has been up for 300 ms \(noEngineTimeoutMs\)/);
        assert.match(e.message, /To get engines/);
      },
    );
  });

  await t.step("its only engine was given up", async () => {
    await withClient(
      {
        workers: 1,
        listen: true,
        noEngineTimeoutMs: 300,
        restart: { maxRestarts: 0, withinMs: 60_000 },
      },
      async (client) => {
        const lb = client.loadBalancedView({ retries: 2 });
        const dies = lb.applyAsync(() => Deno.exit(3));
        const waits = lb.applyAsync(() => 1);
        for (const ar of [dies, waits]) {
          const e = await errorOf(ar, "a task whose engine is given up");
          assert.ok(e instanceof EngineError, `${e.name}: ${e.message}`);
          assert.equal(e.engineId, 0);
          assert.match(e.reason, /noEngineTimeoutMs\): engine 0 given up/);
        }
      },
    );
  });

  await t.step("bad values are refused", async () => {
    for (const noEngineTimeoutMs of [-1, NaN, "1"]) {
      await assert.rejects(
        () =>
          withClient({
            workers: 0,
            noEngineTimeoutMs: noEngineTimeoutMs as number,
          }, () => Promise.resolve()),
        /noEngineTimeoutMs must be a number of ms >= 0/,
      );
    }
  });
});

Deno.test("a close that comes during the handshake reaches the next owner", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const key = crypto.randomUUID();
  const accepted = listener.accept();
  const engineSide = new FramedConnection(
    await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
  );
  const clientSide = new FramedConnection(await accepted);
  const client = (async () => {
    await acceptEngine(clientSide, key, () => 0, 5000);
    clientSide.close("the fake client closes right after welcome");
  })();
  await guard(joinClient(engineSide, key, {}, 5000), "joinClient");
  await guard(client, "the fake client");
  // The close has happened, while the handshake owned the connection or
  // just after: the engine's relay, which takes it over now, hears it.
  await guard(engineSide.closed, "the engine side to close");
  const heard = Promise.withResolvers<string>();
  engineSide.onClose = heard.resolve;
  assert.equal(
    await guard(heard.promise, "onClose of the next owner"),
    "the peer closed the connection",
  );
  await clientSide.closed;
});

Deno.test("a direct task on a remote engine that does not come back fails after noEngineTimeoutMs", async () => {
  await withClient(
    { workers: 0, listen: true, noEngineTimeoutMs: 500, heartbeatMs: 100 },
    async (client) => {
      const { hostname, port, key } = client.connectionInfo;
      const engine = startHandEngine(["--connect", `${hostname}:${port}`], {
        TROUPE_KEY: key,
      });
      try {
        await guard(client.waitForEngines(1), "the remote engine", HANG_MS);
      } finally {
        await engine.kill();
      }
      await until(
        () => client.engines()[0].state === "restarting",
        "the killed engine to be seen dead",
      );
      const e = await errorOf(
        client.view(0).applyAsync(() => 1),
        "a task for an engine that never comes back",
      );
      assert.ok(e instanceof EngineError, `${e.name}: ${e.message}`);
      assert.match(
        e.reason,
        /has not been up for 500 ms \(noEngineTimeoutMs\) since it died because/,
      );
    },
  );
});

Deno.test("each task-thread reset gets its own start deadline", async () => {
  const events: EngineEvent[] = [];
  await withClient(
    oneProcess(3000, events),
    async (client) => {
      const pid = await pidOf(client, 0);
      // Past the deadline of the engine's own start.
      await sleep(3200);
      const ar = client.view(0).applyAsync(() => {
        publishData({ started: true });
        const end = Date.now() + 20_000;
        while (Date.now() < end) {
          // spins until aborted
        }
        return "spun 20 s: abort did not stop the task";
      });
      await until(() => ar.data.started === true, "the spin to start");
      await guard(ar.abort(), "abort()");
      // Its task thread was replaced. Held back (stopped) past a heartbeat
      // before it says ready, it is within its new deadline; were it ready
      // already, 300 ms are too few missed beats to kill it.
      assert.equal(client.engines()[0].state, "starting");
      Deno.kill(pid, "SIGSTOP");
      try {
        await sleep(300);
      } finally {
        Deno.kill(pid, "SIGCONT");
      }
      await until(
        () => client.engines()[0].state === "idle",
        "the engine's new task thread to be ready",
      );
      // The same process, never taken for dead.
      assert.deepEqual(events.filter((e) => e.type === "died"), []);
      assert.equal(await pidOf(client, 0), pid);
    },
  );
});
