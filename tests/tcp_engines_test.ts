/**
 * TCP engines with real processes and sockets on 127.0.0.1: process engines
 * that a client starts (`processes`), engines started by hand from the
 * command line (`--file`, `--connect`), and what happens when they are
 * killed, stopped, aborted, cut off by the frame limit, or outlive their
 * client. What every kind of engine does alike (results, publications,
 * output, errors, values, abort, deaths, a busy loop's heartbeat) is in
 * engine_kind.case.ts, run on process engines by process_engines_test.ts.
 *
 * Tasks that must stay running while the test acts wait for a latch file
 * that the test creates (the task polls it with `Deno.statSync`), so that no
 * assertion depends on how fast this machine is. Every child process that a
 * test starts is killed and its status awaited; `childPids()` (`pgrep -P`)
 * checks that the client's own engine processes are gone.
 */

import assert from "node:assert/strict";
import {
  Client,
  EngineError,
  engineId,
  publishData,
  TaskAbortedError,
} from "../mod.ts";
import { holdUntilFile } from "./file_latch.ts";
import { childPids, pidOf, startHandEngine } from "./hand_engine.ts";
import {
  assertRestartedAlone,
  errorOf,
  guard,
  recordEvents,
  until,
  withClient,
  withTempDir,
} from "./helpers.ts";

// ---------------------------------------------------------------- helpers

/** Generous bound for anything that should take well under a second. */
const HANG_MS = 20_000;

// ------------------------------------------------------- tasks (shipped)

// They run on the engines, shipped by their source: `publishData` and
// `engineId` are in scope there; the imports are for the type checker.

/** Spins without yielding for up to 20 s, after saying it started. */
function spin(): string {
  publishData({ started: true });
  const end = Date.now() + 20_000;
  while (Date.now() < end) {
    // spin
  }
  return "spun 20 s: abort did not stop the task";
}

type G = { marker?: string };

// ------------------------------------------------------------ the seed

// What a user could not tell from Worker engines (the seed notebook's
// publishIt and simulation loop, output, errors, values) runs on both kinds
// in engine_kind.case.ts; here, what only a process engine has.

Deno.test("process engines run in processes of their own", async (t) => {
  await withClient({ processes: 2, workers: 0 }, async (client) => {
    await t.step(
      "ids [0, 1], both process engines in processes of their own",
      async () => {
        assert.deepEqual(client.ids, [0, 1]);
        const engines = client.engines();
        assert.deepEqual(engines.map((e) => e.kind), ["process", "process"]);
        assert.deepEqual(engines.map((e) => e.state), ["idle", "idle"]);
        const pids = [await pidOf(client, 0), await pidOf(client, 1)];
        assert.notEqual(pids[0], pids[1]);
        assert.ok(!pids.includes(Deno.pid), "engines run in this process");
        const children = await childPids();
        for (const pid of pids) {
          assert.ok(children.includes(pid), `${pid} not in ${children}`);
        }
      },
    );
  });
});

// ----------------------------------------------- engines started by hand

Deno.test("an engine started by hand with --file registers as remote", async () => {
  await withTempDir(async (dir) => {
    await withClient({ workers: 0, listen: true }, async (client) => {
      const path = `${dir}/conn.json`;
      await client.writeConnectionFile(path);
      const stat = await Deno.stat(path);
      assert.equal(stat.mode! & 0o777, 0o600);
      const info = JSON.parse(await Deno.readTextFile(path));
      assert.deepEqual(info, client.connectionInfo);
      assert.equal(info.hostname, "127.0.0.1");
      assert.ok(Number.isInteger(info.port) && info.port > 0);
      assert.equal(typeof info.key, "string");
      assert.ok(info.key.length >= 32);

      const engine = startHandEngine(["--file", path]);
      try {
        await guard(
          client.waitForEngines(1),
          "the engine to register",
          HANG_MS,
        );
        assert.deepEqual(client.ids, [0]);
        assert.equal(client.engines()[0].kind, "remote");
        const ar = client.view(0).applyAsync((x: number) => {
          publishData({ x });
          return [engineId, Deno.pid, x * 2];
        }, 21);
        assert.deepEqual(
          await guard(ar, "a task on the remote engine", HANG_MS),
          [0, engine.pid, 42],
        );
        assert.deepEqual(ar.data, { x: 21 });
        await engine.waitForStderr(/engine 0 registered/, "registered");
        assert.ok(!engine.stderr().includes(info.key), "the key was logged");
      } finally {
        const status = await engine.kill("SIGTERM");
        assert.equal(status.success, false);
      }
    });
  });
});

Deno.test("--connect HOST:PORT --key KEY; a wrong key is refused", async (t) => {
  const logs: string[] = [];
  const key = "right-" + crypto.randomUUID();
  const wrong = "wrong-" + crypto.randomUUID();
  await withClient(
    { workers: 0, listen: true, key, log: (line) => logs.push(line) },
    async (client) => {
      const at = `127.0.0.1:${client.connectionInfo.port}`;

      await t.step("the right key registers and runs a task", async () => {
        const engine = startHandEngine(["--connect", at, "--key", key]);
        try {
          await guard(
            client.waitForEngines(1),
            "the engine to register",
            HANG_MS,
          );
          assert.equal(client.engines()[0].kind, "remote");
          assert.equal(
            await guard(
              client.view(0).applyAsync(() => Deno.pid),
              "task",
              HANG_MS,
            ),
            engine.pid,
          );
        } finally {
          await engine.kill();
        }
        assert.ok(!engine.stderr().includes(key), "the engine logged the key");
      });

      await t.step("a wrong key: exit code 1, refused, logged", async () => {
        const before = logs.length;
        const engine = startHandEngine(["--connect", at, "--key", wrong]);
        let status: Deno.CommandStatus;
        try {
          status = await engine.exited();
        } finally {
          await engine.kill();
        }
        assert.equal(status.code, 1, engine.stderr());
        assert.match(engine.stderr(), /refused|does not hold the key/);
        await until(() => logs.length > before, "a client log line", HANG_MS);
        const line = logs.slice(before).join("\n");
        assert.match(line, /does not hold the key|refused/);
        for (const secret of [key, wrong]) {
          assert.ok(!engine.stderr().includes(secret), "engine logged a key");
          assert.ok(
            !logs.some((l) => l.includes(secret)),
            "client logged a key",
          );
        }
        // Only the engine that held the key ever registered.
        assert.deepEqual(client.engines().map((e) => e.engineId), [0]);
      });
    },
  );
});

// ------------------------------------------------- deaths and restarts

Deno.test("SIGSTOP of a process engine: heartbeat death, then killed and restarted", async () => {
  let stopped: number | undefined;
  try {
    await withTempDir(async (dir) => {
      await withClient(
        { processes: 1, workers: 0, heartbeatMs: 200 },
        async (client) => {
          const rec = recordEvents(client);
          const pid = await pidOf(client, 0);
          const ar = client.view(0).applyAsync(holdUntilFile, `${dir}/never`);
          await until(
            () => ar.data.started === true,
            "the task to start",
            HANG_MS,
          );
          Deno.kill(pid, "SIGSTOP");
          stopped = pid;
          const e = await errorOf(ar, "the stopped engine's task", HANG_MS);
          assert.ok(e instanceof EngineError, `${e.name}: ${e.message}`);
          assert.equal(e.engineId, 0);
          assert.match(e.reason, /heartbeat/);
          await until(
            () => rec.has("restarted", 0),
            "engine 0 to restart",
            HANG_MS,
          );
          const died = rec.events.find((x) => x.type === "died");
          assert.ok(died?.type === "died" && /heartbeat/.test(died.reason));
          // The supervisor killed the stopped process before restarting.
          await until(
            async () => !(await childPids()).includes(pid),
            "the stopped process to be gone",
            HANG_MS,
          );
          stopped = undefined;
          const newPid = await pidOf(client, 0);
          assert.notEqual(newPid, pid);
          assert.deepEqual(client.ids, [0]);
          assert.equal(client.engines()[0].restarts, 1);
          rec.stop();
        },
      );
    });
  } finally {
    // Leave no stopped process behind, whatever failed.
    if (stopped !== undefined && (await childPids()).includes(stopped)) {
      Deno.kill(stopped, "SIGCONT");
      Deno.kill(stopped, "SIGKILL");
    }
  }
});

Deno.test("abort() of a busy loop on a process engine keeps the process", async () => {
  await withClient({ processes: 1, workers: 0 }, async (client) => {
    const rec = recordEvents(client);
    const pid = await guard(
      client.view(0).applyAsync(() => {
        (globalThis as G).marker = "set";
        return Deno.pid;
      }),
      "setting a global",
      HANG_MS,
    );
    const before = await childPids();
    assert.ok(before.includes(pid));

    const busy = client.view(0).applyAsync(spin);
    const queued = client.view(0).applyAsync(
      () => [Deno.pid, (globalThis as G).marker ?? "unset"],
    );
    await until(
      () => busy.data.started === true,
      "the busy loop to start",
      HANG_MS,
    );
    assert.equal(queued.metadata.status, "queued");
    await guard(busy.abort(), "abort()", HANG_MS);
    const e = await errorOf(busy, "the aborted busy loop", HANG_MS);
    assert.ok(e instanceof TaskAbortedError, `${e.name}: ${e.message}`);
    assert.equal(busy.metadata.status, "aborted");

    assert.deepEqual(await guard(queued, "the queued task", HANG_MS), [
      pid,
      "unset",
    ]);
    assert.deepEqual(await childPids(), before, "the engine process changed");
    assert.equal(await pidOf(client, 0), pid);
    assert.ok(!rec.has("died", 0), "aborting took the engine for dead");
    assert.deepEqual(client.ids, [0]);
    rec.stop();
  });
});

Deno.test("a remote engine waits out a client restart and joins the new one", async () => {
  const key = "restart-" + crypto.randomUUID();
  const a = await Client.start({ workers: 0, listen: true, key });
  let b: Client | undefined;
  const port = a.connectionInfo.port;
  const engine = startHandEngine([
    "--connect",
    `127.0.0.1:${port}`,
    "--key",
    key,
  ]);
  try {
    await guard(a.waitForEngines(1), "the engine to register with A", HANG_MS);
    assert.equal(await pidOf(a, 0), engine.pid);
    await guard(a.close(), "closing A", HANG_MS);

    await engine.waitForStderr(/retrying/, "says it retries");
    assert.match(engine.stderr(), /cannot reach the client/);

    b = await Client.start({ workers: 0, listen: { port }, key });
    assert.equal(b.connectionInfo.port, port);
    await guard(b.waitForEngines(1), "the engine to register with B", HANG_MS);
    const [status] = b.engines();
    assert.equal(status.kind, "remote");
    assert.equal(
      await guard(
        b.view(status.engineId).applyAsync(() => Deno.pid),
        "task",
        HANG_MS,
      ),
      engine.pid,
    );
    assert.ok(!engine.stderr().includes(key), "the engine logged the key");
  } finally {
    await engine.kill();
    await a.close();
    await b?.close();
  }
});

// maxFrameBytes: tests/frame_limit_test.ts (a result too big fails its task,
// not the engine; only an engine that breaks the limit is disconnected).

Deno.test("close() ends every engine process and the listener", async () => {
  const client = await Client.start({ processes: 2, workers: 0 });
  let port: number;
  let pids: number[];
  try {
    port = client.connectionInfo.port;
    pids = [await pidOf(client, 0), await pidOf(client, 1)].sort((a, b) =>
      a - b
    );
    assert.deepEqual(await childPids(), pids);
  } finally {
    await guard(client.close(), "close()", HANG_MS);
  }
  assert.deepEqual(await childPids(), [], "engine processes outlived close()");
  await assert.rejects(async () => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
  }, "the listener still accepts connections after close()");
});

// Last in the file: when it fails by crashing the test process (see the
// report on TcpLink), the other tests have run already.
Deno.test("kill -9 of a process engine mid-task: EngineError, restarted under its id", async () => {
  await withTempDir(async (dir) => {
    await withClient({ processes: 2, workers: 0 }, async (client) => {
      const rec = recordEvents(client);
      const latch = `${dir}/go`;
      const pid0 = await pidOf(client, 0);
      const pid1 = await pidOf(client, 1);
      assert.ok((await childPids()).includes(pid0));

      const victim = client.view(0).applyAsync(holdUntilFile, latch);
      const other = client.view(1).applyAsync(holdUntilFile, latch);
      try {
        await until(
          () => victim.data.started === true && other.data.started === true,
          "both tasks to start",
          HANG_MS,
        );
        Deno.kill(pid0, "SIGKILL");
        // The client is busy for a moment when its engine dies, as a client
        // computing something would be: the process's exit and its closed
        // connection are then seen together.
        const busyUntil = Date.now() + 200;
        while (Date.now() < busyUntil) {
          // busy
        }
        const e = await errorOf(victim, "the killed engine's task", HANG_MS);
        assert.ok(e instanceof EngineError, `${e.name}: ${e.message}`);
        assert.equal(e.engineId, 0);
        assert.equal(e.taskId, victim.taskIds[0]);
        assert.match(e.reason, /SIGKILL|killed|connection closed/);
        assert.equal(victim.metadata.status, "error");
        assert.equal(other.ready(), false, "the other engine's task ended");
      } finally {
        await Deno.writeTextFile(latch, "");
      }
      await assertRestartedAlone(client, rec, other, {
        restarts: [0, 0],
        kind: "process",
      }, { ms: HANG_MS });
      const newPid0 = await pidOf(client, 0);
      assert.notEqual(newPid0, pid0);
      assert.equal(await pidOf(client, 1), pid1);
      const children = await childPids();
      assert.ok(!children.includes(pid0), "the killed process is still there");
      assert.ok(children.includes(newPid0));
      rec.stop();
    });
  });
});

Deno.test("shutdown() tells a remote engine to exit instead of retrying", async () => {
  const client = await Client.start({ workers: 0, listen: true });
  const { hostname, port, key } = client.connectionInfo;
  const engine = startHandEngine(["--connect", `${hostname}:${port}`], {
    TROUPE_KEY: key,
  });
  try {
    await guard(client.waitForEngines(1), "the remote engine", HANG_MS);
    assert.equal(client.engines()[0].kind, "remote");
  } finally {
    await client.shutdown();
  }
  const status = await engine.exited(HANG_MS);
  assert.equal(status.code, 0, engine.stderr());
  assert.doesNotMatch(engine.stderr(), /retrying/);
});
