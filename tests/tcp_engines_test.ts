/**
 * TCP engines with real processes and sockets on 127.0.0.1: process engines
 * that a client starts (`processes`), engines started by hand from the
 * command line (`--file`, `--connect`), and what happens when they are
 * killed, stopped, aborted, cut off by the frame limit, or outlive their
 * client.
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
  CompositeError,
  EngineError,
  type EngineEvent,
  engineId,
  type Publication,
  publishData,
  RemoteError,
  TaskAbortedError,
} from "../mod.ts";
import { holdUntilFile } from "./file_latch.ts";
import { childPids, pidOf, startHandEngine } from "./hand_engine.ts";
import {
  errorOf,
  guard,
  sleep,
  until,
  withClient,
  withTempDir,
} from "./helpers.ts";

// ---------------------------------------------------------------- helpers

/** Generous bound for anything that should take well under a second. */
const HANG_MS = 20_000;

/** Records a client's engine events until `stop()`. */
function recordEvents(client: Client) {
  const events: EngineEvent[] = [];
  const stop = client.onEngineEvent((e) => events.push(e));
  return {
    events,
    stop,
    has: (type: EngineEvent["type"], id: number) =>
      events.some((e) => e.type === type && e.engineId === id),
  };
}

// ------------------------------------------------------- tasks (shipped)

// They run on the engines, shipped by their source: `publishData` and
// `engineId` are in scope there; the imports are for the type checker.

function publishIt(): void {
  publishData({ a: "hi" });
}

async function simulationLoop(steps: number, intervalMs: number) {
  for (let i = 0; i < steps; i++) {
    publishData({ a: new Float64Array(20).map(() => Math.random()), i });
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * The simulation loop, held after its first step until the client creates
 * `latch` (capped at 20 s so that a broken test cannot hang an engine).
 */
async function latchedSimulation(steps: number, latch: string) {
  for (let i = 0; i < steps; i++) {
    publishData({ a: new Float64Array(20).map(() => Math.random()), i });
    const end = Date.now() + 20_000;
    while (i === 0 && Date.now() < end) {
      try {
        Deno.statSync(latch);
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
  }
  return "done";
}

/**
 * A busy synchronous loop that never yields: publishes a step every 50 ms
 * until `latch` exists (capped at 20 s). Returns the steps published.
 */
function busyPublishUntilFile(latch: string): number | string {
  const end = Date.now() + 20_000;
  let i = 0;
  let last = 0;
  for (;;) {
    const now = Date.now();
    if (now > end) return "latch never opened";
    if (now - last >= 50) {
      last = now;
      publishData({ i: i++ });
      try {
        Deno.statSync(latch);
        return i;
      } catch {
        // not yet
      }
    }
  }
}

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

Deno.test("the seed notebook on 2 process engines", async (t) => {
  await withClient({ processes: 2, workers: 0 }, async (client) => {
    const dv = client.view();

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

    await t.step("publishIt: ar.data is [{a:'hi'}, {a:'hi'}]", async () => {
      const ar = dv.applyAsync(publishIt);
      assert.deepEqual(await guard(ar, "publishIt", HANG_MS), [
        undefined,
        undefined,
      ]);
      assert.deepEqual(ar.data, [{ a: "hi" }, { a: "hi" }]);
      assert.ok(ar.successful());
    });

    await t.step(
      "the simulation loop: ar.data holds the array and the final i",
      async () => {
        const steps = 5;
        const ar = dv.applyAsync(simulationLoop, steps, 10);
        const seen: Publication[] = [];
        await guard(
          (async () => {
            for await (const p of ar.publications()) seen.push(p);
          })(),
          "the publication stream",
          HANG_MS,
        );
        await guard(ar, "the simulation loop", HANG_MS);
        for (const id of [0, 1]) {
          const data = ar.data[id];
          assert.ok(data.a instanceof Float64Array, String(data.a));
          assert.equal((data.a as Float64Array).length, 20);
          for (const x of data.a as Float64Array) assert.ok(x >= 0 && x < 1);
          assert.equal(data.i, steps - 1);
          // Never reordered: this engine's steps arrive in order. Under
          // pressure unsent publications may merge, so some steps may be
          // skipped, but never the last.
          const is = seen.filter((p) => p.engineId === id).map((p) =>
            p.data.i as number
          );
          assert.ok(is.length >= 1, `no publication from engine ${id}`);
          assert.deepEqual(is, [...is].sort((a, b) => a - b));
          assert.equal(is.at(-1), steps - 1);
          const seqs = seen.filter((p) => p.engineId === id).map((p) => p.seq);
          assert.deepEqual(seqs, [...new Set(seqs)].sort((a, b) => a - b));
        }
      },
    );

    await t.step("publications() streams while the loop runs", async () => {
      await withTempDir(async (dir) => {
        const latch = `${dir}/go`;
        const ar = dv.applyAsync(latchedSimulation, 3, latch);
        const seen: { p: Publication; ready: boolean }[] = [];
        const reading = (async () => {
          for await (const p of ar.publications()) {
            seen.push({ p, ready: ar.ready() });
          }
        })();
        try {
          await until(
            () => new Set(seen.map((s) => s.p.engineId)).size === 2,
            "step 0 from both engines",
            HANG_MS,
          );
          assert.equal(ar.ready(), false);
          for (const id of [0, 1]) {
            assert.equal(ar.data[id].i, 0);
            assert.ok(ar.data[id].a instanceof Float64Array);
          }
          assert.ok(seen.every((s) => !s.ready));
        } finally {
          await Deno.writeTextFile(latch, "");
          await guard(reading, "the publication stream to end", HANG_MS);
        }
        assert.deepEqual(await guard(ar, "the latched loop", HANG_MS), [
          "done",
          "done",
        ]);
        assert.deepEqual(ar.data.map((d) => d.i), [2, 2]);
      });
    });

    await t.step("stdout and stderr are captured per engine", async () => {
      const ar = dv.applyAsync(() => {
        console.log("out from", engineId);
        console.error("err from", engineId);
      });
      await guard(ar, "printing task", HANG_MS);
      assert.deepEqual(ar.stdout, ["out from 0\n", "out from 1\n"]);
      assert.deepEqual(ar.stderr, ["err from 0\n", "err from 1\n"]);
    });

    await t.step(
      "a task that throws: RemoteError, CompositeError",
      async () => {
        const one = await errorOf(
          client.view(1).applyAsync(() => {
            throw new TypeError("boom on a process");
          }),
          "a task that throws on engine 1",
          HANG_MS,
        );
        assert.ok(one instanceof RemoteError, `${one.name}: ${one.message}`);
        assert.equal(one.engineId, 1);
        assert.equal(one.remoteName, "TypeError");
        assert.equal(one.remoteMessage, "boom on a process");
        assert.match(one.remoteStack, /boom on a process/);

        const all = await errorOf(
          dv.applyAsync(() => {
            if (engineId === 1) throw new RangeError(`bad ${engineId}`);
            return "fine";
          }),
          "a task that throws on engine 1 of 2",
          HANG_MS,
        );
        assert.ok(all instanceof CompositeError, `${all.name}: ${all.message}`);
        assert.equal(all.errors.length, 1);
        assert.deepEqual(all.results, ["fine", undefined]);
        const inner = all.errors[0];
        assert.ok(inner instanceof RemoteError);
        assert.equal(inner.engineId, 1);
        assert.equal(inner.remoteName, "RangeError");
        assert.match(all.message, /engine 1/);

        const both = await errorOf(
          dv.applyAsync(() => {
            throw new Error(`fail ${engineId}`);
          }),
          "a task that throws on both engines",
          HANG_MS,
        );
        assert.ok(both instanceof CompositeError);
        assert.deepEqual(
          both.errors.map((e) => (e as RemoteError).remoteMessage),
          ["fail 0", "fail 1"],
        );
        // The engines are still fine.
        assert.deepEqual(client.engines().map((e) => e.restarts), [0, 0]);
      },
    );

    await t.step("engineId is in scope", async () => {
      assert.deepEqual(
        await guard(dv.applyAsync(() => engineId), "ids", HANG_MS),
        [0, 1],
      );
      assert.equal(
        await guard(client.view(1).applyAsync(() => engineId), "1", HANG_MS),
        1,
      );
    });

    await t.step("structured types cross both ways", async () => {
      const date = new Date("2024-02-29T12:34:56.789Z");
      const value = {
        map: new Map<unknown, unknown>([["k", 1], [2, [3n, undefined]]]),
        set: new Set([1, "two", 3n]),
        date,
        big: -(2n ** 70n),
        undef: undefined,
        list: [1, undefined, null, "x"],
        f64: new Float64Array([1.5, -0, NaN, Infinity]),
        f32: new Float32Array([0.25, -2]),
        i8: new Int8Array([-128, 127]),
        u8: new Uint8Array([0, 255]),
        u8c: new Uint8ClampedArray([7]),
        i16: new Int16Array([-32768]),
        u16: new Uint16Array([65535]),
        i32: new Int32Array([-(2 ** 31)]),
        u32: new Uint32Array([2 ** 32 - 1]),
        bi64: new BigInt64Array([-(2n ** 63n)]),
        bu64: new BigUint64Array([2n ** 64n - 1n]),
        nested: { deep: [{ m: new Map([["a", new Set([1])]]) }] },
      };
      // What the engine sees, checked there; then it echoes the value back
      // and builds fresh ones of its own.
      const ar = client.view(0).applyAsync((v: typeof value) => {
        const seen = {
          map: v.map instanceof Map && v.map.get("k") === 1,
          set: v.set instanceof Set && v.set.has(3n),
          date: v.date instanceof Date && v.date.getTime() === 1709210096789,
          big: typeof v.big === "bigint",
          undef: "undef" in v && v.undef === undefined,
          hole: v.list[1] === undefined && v.list[2] === null,
          f64: v.f64 instanceof Float64Array && Object.is(v.f64[1], -0) &&
            Number.isNaN(v.f64[2]),
          bu64: v.bu64 instanceof BigUint64Array,
        };
        return {
          seen,
          echo: v,
          made: {
            map: new Map([[1, "one"]]),
            set: new Set(["s"]),
            date: new Date(0),
            big: 12345678901234567890n,
            undef: undefined,
            f64: new Float64Array([3.25]),
          },
        };
      }, value);
      const got = await guard(ar, "structured echo", HANG_MS);
      assert.deepEqual(got.seen, {
        map: true,
        set: true,
        date: true,
        big: true,
        undef: true,
        hole: true,
        f64: true,
        bu64: true,
      });
      assert.deepEqual(got.echo, value);
      for (const [k, v] of Object.entries(value)) {
        const back = (got.echo as Record<string, unknown>)[k];
        if (v !== null && typeof v === "object") {
          assert.equal(
            (back as object).constructor,
            v.constructor,
            `${k} came back as another type`,
          );
        }
      }
      assert.ok("undef" in got.echo);
      assert.ok(Object.is(got.echo.f64[1], -0));
      assert.deepEqual(got.made, {
        map: new Map([[1, "one"]]),
        set: new Set(["s"]),
        date: new Date(0),
        big: 12345678901234567890n,
        undef: undefined,
        f64: new Float64Array([3.25]),
      });
      assert.ok("undef" in got.made);
    });

    await t.step("an 80 MB Float64Array goes there and back", async () => {
      const n = 10 * 2 ** 20; // 80 MiB of float64
      const arg = new Float64Array(n);
      for (let i = 0; i < n; i++) arg[i] = i * 0.5;
      const ar = client.view(0).applyAsync((a: Float64Array) => {
        let bad = -1;
        for (let i = 0; i < a.length; i++) {
          if (a[i] !== i * 0.5) {
            bad = i;
            break;
          }
        }
        const out = new Float64Array(a.length);
        for (let i = 0; i < a.length; i++) out[i] = a[i] * 2 + 1;
        return { length: a.length, isF64: a instanceof Float64Array, bad, out };
      }, arg);
      const got = await guard(ar, "80 MB round trip", 60_000);
      assert.equal(got.length, n);
      assert.equal(got.isF64, true);
      assert.equal(got.bad, -1, `the engine saw a wrong value at ${got.bad}`);
      assert.ok(got.out instanceof Float64Array);
      assert.equal(got.out.length, n);
      let bad = -1;
      for (let i = 0; i < n; i++) {
        if (got.out[i] !== i + 1) {
          bad = i;
          break;
        }
      }
      assert.equal(bad, -1, `wrong value at ${bad}: ${got.out[bad]}`);
      // The engine is still fine.
      assert.equal(
        await guard(client.view(0).applyAsync(() => 1), "after", HANG_MS),
        1,
      );
    });
  });
});

// ------------------------------------- a busy loop keeps publishing

Deno.test("a busy loop on a process engine publishes and keeps its heartbeat", async () => {
  await withTempDir(async (dir) => {
    await withClient(
      { processes: 1, workers: 0, heartbeatMs: 200 },
      async (client) => {
        const rec = recordEvents(client);
        const latch = `${dir}/go`;
        const ar = client.view(0).applyAsync(busyPublishUntilFile, latch);
        const seen: { p: Publication; ready: boolean }[] = [];
        const reading = (async () => {
          for await (const p of ar.publications()) {
            seen.push({ p, ready: ar.ready() });
          }
        })();
        try {
          await until(
            () => seen.length >= 3,
            "3 publications from the loop",
            HANG_MS,
          );
          // The loop goes on not yielding for 2 s: 10 heartbeat periods,
          // more than 3 times the 3 missed beats that would mean death.
          const from = seen.length;
          await sleep(2000);
          assert.equal(ar.ready(), false, "the loop ended by itself");
          assert.ok(
            seen.length > from,
            "no publication arrived during 2 s of the busy loop",
          );
          assert.equal(client.engines()[0].state, "busy");
        } finally {
          await Deno.writeTextFile(latch, "");
          await guard(reading, "the publication stream to end", HANG_MS);
        }
        const steps = await guard(ar, "the busy loop", HANG_MS);
        assert.equal(typeof steps, "number", String(steps));
        assert.ok(ar.successful());
        assert.ok(seen.slice(0, 3).every((s) => !s.ready));
        assert.equal(ar.data.i, (steps as number) - 1);
        assert.deepEqual(
          rec.events.filter((e) => e.type !== "registered"),
          [],
          "the busy engine was taken for dead",
        );
        assert.equal(client.engines()[0].restarts, 0);
        rec.stop();
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
      assert.equal(
        await guard(other, "the other engine's task", HANG_MS),
        "released",
      );

      await until(
        () => rec.has("restarted", 0),
        "engine 0 to be restarted",
        HANG_MS,
      );
      assert.ok(rec.has("died", 0));
      assert.ok(!rec.has("died", 1), "engine 1 died too");
      assert.deepEqual(client.ids, [0, 1]);
      const status = client.engines();
      assert.equal(status[0].restarts, 1);
      assert.equal(status[0].kind, "process");
      assert.equal(status[1].restarts, 0);
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
