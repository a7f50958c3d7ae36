/**
 * Launchers on this host, with real engine processes: the built-in `local`
 * one (restart under the id, `client.scale`), one a user writes against
 * the `Launcher` interface (here, one whose engines drain on SIGUSR1, as a
 * Slurm job's do at its walltime), and launchers that fail. Every client
 * runs with sealed frames, as launched engines off loopback do.
 */

import assert from "node:assert/strict";
import {
  Client,
  ClientClosedError,
  EngineError,
  HostProcess,
  type Launcher,
  type LaunchRequest,
  local,
} from "../mod.ts";
import { errorOf, guard, recordEvents, until, withTempDir } from "./helpers.ts";
import { fileLatch, holdUntilFile } from "./file_latch.ts";
import { isLive } from "./cluster_services.ts";

Deno.test("local engines register, show where they run, and come back under their id", async () => {
  const client = await Client.start({
    workers: 0,
    launch: local({ engines: 2 }),
    encrypt: true,
  });
  const pids: number[] = [];
  try {
    const status = client.engines();
    assert.deepEqual(status.map((e) => e.launcher), ["local", "local"]);
    assert.deepEqual(status.map((e) => e.host), [
      Deno.hostname(),
      Deno.hostname(),
    ]);
    pids.push(...status.map((e) => e.pid!));
    assert.deepEqual(
      await client.view().applySync(() => Deno.pid),
      pids,
      "engines() tells each engine's own pid",
    );
    // Killed mid-task, an engine fails its task and comes back.
    await withTempDir(async (dir) => {
      const go = fileLatch(dir, "go");
      const rec = recordEvents(client);
      const held = client.view(0).applyAsync(holdUntilFile, go.path);
      await until(() => client.engines()[0].state === "busy", "engine 0 busy");
      Deno.kill(pids[0], "SIGKILL");
      assert.ok((await errorOf(held)) instanceof EngineError);
      await until(
        () => rec.has("restarted", 0),
        "engine 0 to come back",
        30_000,
      );
      rec.stop();
      const back = client.engines()[0];
      assert.equal(back.launcher, "local");
      assert.notEqual(back.pid, pids[0]);
      pids.push(back.pid!);
      assert.equal(await client.view(0).applySync(() => 7), 7);
    });
  } finally {
    await client.close();
  }
  for (const pid of pids) {
    await until(
      async () => !(await isLive(pid)),
      `engine process ${pid} to end`,
    );
  }
});

Deno.test("client.scale grows a launcher's engines and retires idle ones first", async () => {
  const launcher = local({ engines: 1 });
  const client = await Client.start({
    workers: 0,
    launch: launcher,
    encrypt: true,
  });
  try {
    await client.scale(3);
    assert.deepEqual(client.ids, [0, 1, 2]);
    const pids = client.engines().map((e) => e.pid!);
    await withTempDir(async (dir) => {
      const go = fileLatch(dir, "go");
      const held = client.view(0).applyAsync(holdUntilFile, go.path);
      await until(() => client.engines()[0].state === "busy", "engine 0 busy");
      // Engines 1 and 2 are idle: they go; 0 keeps its task.
      const shrunk = client.scale(1, launcher);
      await until(
        () =>
          client.engines()[1].state === "stopped" &&
          client.engines()[2].state === "stopped",
        "the idle engines to be retired",
      );
      go.open();
      assert.equal(await guard(held, "the held task"), "released");
      await shrunk;
    });
    assert.deepEqual(client.ids, [0]);
    for (const pid of pids.slice(1)) {
      await until(
        async () => !(await isLive(pid)),
        `retired engine ${pid} to end`,
      );
    }
    // Grown again, a new engine takes a new id.
    await client.scale(2);
    assert.deepEqual(client.ids, [0, 3]);
  } finally {
    await client.close();
  }
});

/**
 * A launcher of one's own: local processes, with the engine flag a batch
 * system's launcher adds for the warning before its allocation ends.
 */
function drainingLocal(engines: number): Launcher {
  return {
    name: "draining",
    engines,
    start: (request) =>
      Promise.resolve(request.engines.map((engine) =>
        new HostProcess({
          command: Deno.execPath(),
          args: [
            ...request.args,
            "--secrets",
            "-",
            "--drain-on",
            "SIGUSR1",
          ],
          stdin: engine.secrets,
        })
      )),
  };
}

Deno.test("an engine warned of its end drains: its task finishes, the rest go elsewhere, it comes back", async () => {
  const client = await Client.start({
    workers: 0,
    launch: drainingLocal(2),
    encrypt: true,
    // A drain is no crash: it does not count against the policy.
    restart: { maxRestarts: 0, withinMs: 60_000 },
  });
  try {
    await withTempDir(async (dir) => {
      const go = fileLatch(dir, "go");
      const rec = recordEvents(client);
      const lv = client.loadBalancedView({ highWaterMark: 4 });
      // One long task on each engine, then short ones queued behind them.
      const long = [0, 1].map(() => lv.applyAsync(holdUntilFile, go.path));
      await until(
        () => client.engines().every((e) => e.state === "busy"),
        "both engines busy",
      );
      const short = Array.from(
        { length: 20 },
        (_, i) => lv.applyAsync((x: number) => x * 2, i),
      );
      const pid = client.engines()[0].pid!;
      Deno.kill(pid, "SIGUSR1");
      await until(() => rec.has("draining", 0), "engine 0 to drain");
      assert.equal(client.engines()[0].state, "draining");
      go.open();
      assert.deepEqual(
        await guard(Promise.all(long), "the long tasks"),
        ["released", "released"],
        "the running task finished on the draining engine",
      );
      assert.deepEqual(
        await guard(Promise.all(short), "the short tasks"),
        Array.from({ length: 20 }, (_, i) => i * 2),
        "no task was lost",
      );
      await until(
        () => rec.has("restarted", 0),
        "engine 0 to come back",
        30_000,
      );
      rec.stop();
      assert.notEqual(client.engines()[0].pid, pid);
      assert.ok(!rec.has("died", 1));
      assert.deepEqual(await client.view().applySync(() => 1), [1, 1]);
    });
  } finally {
    await client.close();
  }
});

Deno.test("a launcher that fails says so, and nothing is left running", async () => {
  const failing: Launcher = {
    name: "broken",
    engines: 2,
    start: () => Promise.reject(new Error("no nodes today")),
  };
  const error = await errorOf(
    Client.start({
      workers: 0,
      launch: failing,
      restart: { maxRestarts: 0, withinMs: 1000 },
    }),
  );
  assert.match(
    error.message,
    /broken launcher could not start it: no nodes today/,
  );

  const miscounting: Launcher = {
    name: "short",
    engines: 2,
    start: () => Promise.resolve([]),
  };
  const short = await errorOf(
    Client.start({
      workers: 0,
      launch: miscounting,
      restart: { maxRestarts: 0, withinMs: 1000 },
    }),
  );
  assert.match(short.message, /returned 0 handles for 2 engines/);
});

Deno.test("launch options are checked before anything starts", async () => {
  await assert.rejects(
    () => Client.start({ launch: { name: "x" } as unknown as Launcher }),
    /launch\[0\] is not a Launcher/,
  );
  await assert.rejects(
    () => Client.start({ launch: local({ engines: 1 }), listen: false }),
    /needs a listener/,
  );
  assert.throws(
    () => local({ engines: 1, engnes: 2 } as never),
    /engnes/,
  );
  assert.throws(() => local({ engines: -1 }), RangeError);
  await using client = await Client.start({ workers: 1 });
  await assert.rejects(() => client.scale(2), /no launcher to scale/);
});

Deno.test("engines dial the advertised address, apart from the one the listener binds", async () => {
  const seen: LaunchRequest[] = [];
  const inner = local({ engines: 1 });
  const recording: Launcher = {
    name: "recording",
    engines: 1,
    start: (request) => {
      seen.push(request);
      return inner.start(request);
    },
  };
  await using client = await Client.start({
    workers: 0,
    listen: { hostname: "127.0.0.1" },
    advertise: "localhost",
    launch: recording,
    encrypt: true,
  });
  const { port } = client.connectionInfo;
  assert.deepEqual(seen[0].connect, { hostname: "localhost", port });
  assert.ok(seen[0].args.includes(`localhost:${port}`));
  assert.ok(
    !seen[0].args.some((arg) => arg.includes(client.connectionInfo.key)),
    "the key is on no command line",
  );
  assert.equal(await client.view(0).applySync(() => 1), 1);
});

Deno.test("a scale still waiting when the client closes ends with it", async () => {
  const client = await Client.start({
    workers: 0,
    launch: local({ engines: 1 }),
  });
  const growing = client.scale(3);
  const closed = client.close();
  assert.ok((await errorOf(growing)) instanceof ClientClosedError);
  await closed;
});
