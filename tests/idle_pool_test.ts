// ClientOptions.idleTimeoutMs: engines that start on first use and stop
// when idle, on Worker and process engines, embedded and connected.
import assert from "node:assert/strict";
import { Client, type EngineEvent, engineId, local } from "../mod.ts";
import { parseArgs, UsageError } from "../cli/args.ts";
import { flagsOf } from "../cli/flags.ts";
import { controllerPlan } from "../cli/cluster_config.ts";
import { liveWorkerCount } from "../transport/worker_link.ts";
import { runCommand } from "../launch/run_command.ts";
import { isLive, processesMatching } from "./cluster_services.ts";
import { withCluster, withTroupeHome } from "./controller_rig.ts";
import { enginesDialing } from "./launch_checks.ts";
import { CLIENT_SIDES } from "./client_sides.ts";
import {
  ENGINE_KINDS,
  type EngineKind,
  engines,
  errorOf,
  guard,
  recordEvents,
  suiteKind,
  until,
  withClientOn,
} from "./helpers.ts";

/** Long enough for a task's round trip; short, so that the tests idle. */
const IDLE_MS = 300;

/** The live processes this one started (its engines, on either side). */
async function liveChildren(): Promise<number[]> {
  const r = await runCommand("pgrep", ["-P", String(Deno.pid)], {
    timeoutMs: 15_000,
  });
  const pids = r.stdout.split(/\s+/).filter(Boolean).map(Number);
  const live = await Promise.all(pids.map(isLive));
  return pids.filter((_, i) => live[i]);
}

/** The engines' own pids, as they said when they registered. */
function enginePids(client: Client): number[] {
  return client.engines().flatMap((e) => e.pid === undefined ? [] : [e.pid]);
}

/** Every engine the client has had is stopped, and none runs any more. */
async function untilStopped(client: Client, kind: EngineKind): Promise<void> {
  await until(
    () => client.engines().every((e) => e.state === "stopped"),
    "the pool's engines to stop",
    30_000,
  );
  assert.deepEqual(client.ids, []);
  if (kind === "worker") {
    await until(() => liveWorkerCount() === 0, "the Workers to end", 30_000);
  } else {
    await until(
      async () => (await liveChildren()).length === 0,
      "the engine processes to exit",
      30_000,
    );
  }
}

for (const side of CLIENT_SIDES) {
  for (const kind of ENGINE_KINDS) {
    const name = `${suiteKind(kind, side)} idle pool`;
    const options = { ...engines(kind, 2), idleTimeoutMs: IDLE_MS };

    Deno.test(`${name}: start returns with no engine, the first task starts them, idle stops them, the next task starts new ones`, async () => {
      await withClientOn(side, options, async (client) => {
        assert.deepEqual(client.ids, []);
        assert.deepEqual(client.engines(), []);
        if (kind === "process") assert.deepEqual(await liveChildren(), []);
        const events = recordEvents(client);
        const lv = client.loadBalancedView();
        const first = await guard(
          lv.applyAsync(() => engineId),
          "the first task",
          60_000,
        );
        assert.ok([0, 1].includes(first as number), `ran on ${first}`);
        // Events, not ids: the pool may be idle again by the time they are
        // looked at.
        await until(
          () => events.has("registered", 0) && events.has("registered", 1),
          "both engines up",
          60_000,
        );
        await untilStopped(client, kind);
        assert.ok(events.has("retired", 0) && events.has("retired", 1));
        events.stop();
        // Each process said its pid at registration; both have exited.
        const pids = enginePids(client);
        if (kind === "process") assert.equal(pids.length, 2);
        for (const pid of pids) assert.equal(await isLive(pid), false);
        // A direct task names a stopped engine: it says why it stopped.
        const direct = await errorOf(client.view(0).applyAsync(() => 1));
        assert.match(direct.message, /idle for 300 ms \(idleTimeoutMs\)/);
        assert.deepEqual(client.engines().map((e) => e.state), [
          "stopped",
          "stopped",
        ]);
        // New engines, under new ids: the stopped ones stay as stopped.
        const again = await guard(
          lv.applyAsync(() => engineId),
          "the task after the stop",
          60_000,
        );
        assert.ok([2, 3].includes(again as number), `ran on ${again}`);
        assert.deepEqual(
          client.engines().filter((e) => e.state === "stopped")
            .map((e) => e.engineId),
          [0, 1],
        );
        await untilStopped(client, kind);
      });
    });

    Deno.test(`${name}: a task submitted while the pool stops runs, and the pool starts again`, async () => {
      await withClientOn(side, options, async (client) => {
        const lv = client.loadBalancedView();
        await guard(lv.applyAsync(() => 1), "the first task", 60_000);
        // Submitted from the stop's first event: the other engine has not
        // stopped yet (embedded, its retirement is still in its mailbox).
        const { promise: submitted, resolve } = Promise.withResolvers<
          { ar: PromiseLike<unknown> }
        >();
        const off = client.onEngineEvent((event: EngineEvent) => {
          if (event.type !== "draining" && event.type !== "retired") return;
          off();
          resolve({ ar: lv.applyAsync(() => engineId) });
        });
        const { ar } = await guard(submitted, "the pool to stop", 30_000);
        const ranOn = await guard(ar, "the task during the stop", 60_000);
        // Either a stopping engine took it before it heard of its stop (it
        // finishes it, then stops) or a new one did: it ran, and the stop
        // started new engines.
        assert.equal(typeof ranOn, "number");
        await until(
          () => client.ids.some((id) => id >= 2),
          "the new engines",
          60_000,
        );
        await untilStopped(client, kind);
      });
    });

    Deno.test(`${name}: waitForEngines starts an idle pool, which then stops`, async () => {
      await withClientOn(side, options, async (client) => {
        await guard(
          client.waitForEngines(2, { timeoutMs: 60_000 }),
          "waitForEngines",
          60_000,
        );
        assert.deepEqual(client.ids, [0, 1]);
        await untilStopped(client, kind);
      });
    });

    Deno.test(`${name}: a direct view on every engine says that the pool is idle`, async () => {
      await withClientOn(side, options, (client) => {
        assert.throws(
          () => client.view().applyAsync(() => 1),
          /the client's pool is idle: with idleTimeoutMs, engines start on the first load-balanced task, or on await client.waitForEngines\(n\)/,
        );
        // It did not start them: a direct view resolves its engines now.
        assert.deepEqual(client.engines(), []);
        return Promise.resolve();
      });
    });

    Deno.test(`${name}: close while the engines start leaves nothing behind`, async () => {
      let ar: PromiseLike<unknown> = Promise.resolve();
      await withClientOn(side, options, (client) => {
        const task = client.loadBalancedView().applyAsync(() => 1);
        task.catch(() => {});
        ar = task;
        // Embedded, they start with the submit. A connected client hears
        // of them once they register: its controller stops while they
        // start (if the task reached it before the detach).
        if (side === "embedded") assert.equal(client.engines().length, 2);
        return Promise.resolve();
      });
      // The task was held, not lost: it failed with the close.
      const error = await errorOf(ar, "the task at close", 30_000);
      assert.match(error.message, /clos|detach/, error.message);
      await until(
        async () => (await liveChildren()).length === 0,
        "every engine process to exit",
        30_000,
      );
    });

    Deno.test(`${name}: close while the engines stop leaves nothing behind`, async () => {
      await withClientOn(side, options, async (client) => {
        await guard(
          client.loadBalancedView().applyAsync(() => 1),
          "the first task",
          60_000,
        );
        const { promise: stopping, resolve } = Promise.withResolvers<void>();
        const off = client.onEngineEvent((event) => {
          if (event.type === "draining" || event.type === "retired") resolve();
        });
        await guard(stopping, "the pool to stop", 30_000);
        off();
      });
      await until(
        async () => (await liveChildren()).length === 0,
        "every engine process to exit",
        30_000,
      );
    });
  }
}

Deno.test("idleTimeoutMs: a bad value, or a pool of no engines, is a clear error before anything starts", async () => {
  for (const bad of [0, -1, Number.NaN, Infinity, 2 ** 31]) {
    const error = await errorOf(
      Client.start({ workers: 1, idleTimeoutMs: bad }),
    );
    assert.ok(error instanceof RangeError, String(error));
    assert.match(error.message, /idleTimeoutMs must be a number of ms > 0/);
  }
  const text = await errorOf(
    // @ts-expect-error: a string where a number belongs
    Client.start({ workers: 1, idleTimeoutMs: "30s" }),
  );
  assert.ok(text instanceof TypeError, String(text));
  assert.match(text.message, /got "30s"/);
  const none = await errorOf(Client.start({ workers: 0, idleTimeoutMs: 100 }));
  assert.match(none.message, /give workers, processes or launch as well/);
  const misspelt = await errorOf(
    // @ts-expect-error: misspelt
    Client.start({ workers: 1, idleTimeoutMS: 100 }),
  );
  assert.match(misspelt.message, /idleTimeoutMS/);
  assert.equal(liveWorkerCount(), 0);
});

Deno.test("idleTimeoutMs: a script that forgets close() ends by itself; its idle timer does not hold it", async () => {
  // The pool would stop only after 10 minutes: the hang guard is far less.
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "tests/fixtures/idle_pool_forgets_close.ts"],
    cwd: new URL("../", import.meta.url),
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const said = new TextDecoder().decode(stdout);
  assert.equal(
    code,
    0,
    `it did not end by itself:\n${said}\n${new TextDecoder().decode(stderr)}`,
  );
  assert.match(said, /^42$/m);
});

Deno.test("idleTimeoutMs with a launcher: its engines start on the first task, their processes exit when idle, the next task scales it back up", async () => {
  await withClientOn("embedded", {
    launch: local({ engines: 2 }),
    idleTimeoutMs: IDLE_MS,
  }, async (client) => {
    assert.deepEqual(client.engines(), []);
    const events = recordEvents(client);
    const lv = client.loadBalancedView();
    await guard(lv.applyAsync(() => 1), "the first task", 60_000);
    await until(
      () => events.has("registered", 0) && events.has("registered", 1),
      "both engines up",
      60_000,
    );
    events.stop();
    assert.ok(client.engines().every((e) => e.launcher === "local"));
    await untilStopped(client, "process");
    const again = await guard(
      lv.applyAsync(() => engineId),
      "the task after the stop",
      60_000,
    );
    assert.ok([2, 3].includes(again as number), `ran on ${again}`);
    await untilStopped(client, "process");
    // A scale wakes it too, and the idle stop retires what it added.
    await guard(client.scale(3), "scale(3)", 60_000);
    assert.equal(client.ids.length, 3);
    await untilStopped(client, "process");
  });
});

for (
  const flags of [
    ["--processes", "2"],
    ["--engines", "2", "--launcher", "local"],
  ]
) {
  Deno.test(`troupe start ${flags.join(" ")} --idle-timeout-ms: a connected client's task wakes the controller's pool, which stops again when idle`, async () => {
    await withTroupeHome((home) =>
      withCluster(
        home,
        "pool",
        [...flags, "--idle-timeout-ms", String(IDLE_MS)],
        async ({ state }) => {
          const dialing = enginesDialing(state.engine.port);
          assert.deepEqual(await processesMatching(dialing), []);
          const client = await guard(Client.connect("pool"), "connect");
          try {
            const lv = client.loadBalancedView();
            await guard(lv.applyAsync(() => 1), "the first task", 60_000);
            await until(
              () => client.engines().some((e) => e.state === "stopped"),
              "the pool to stop",
              30_000,
            );
            await until(
              async () => (await processesMatching(dialing)).length === 0,
              "the engine processes to exit",
              30_000,
            );
            assert.deepEqual(client.ids, []);
            const again = await guard(
              lv.applyAsync(() => engineId),
              "the task after the stop",
              60_000,
            );
            assert.ok((again as number) >= 2, `ran on ${again}`);
          } finally {
            await client.close();
          }
        },
      )
    );
  });
}

Deno.test("troupe start --idle-timeout-ms: parsed as a count, handed back to the controller as given; 0 is a usage error", () => {
  const command = parseArgs([
    "start",
    "--workers",
    "2",
    "--idle-timeout-ms",
    "30000",
  ]);
  assert.deepEqual(command.config, { workers: 2, "idle-timeout-ms": 30000 });
  assert.deepEqual(
    parseArgs(["controller", ...flagsOf(command.config)]).config,
    command.config,
  );
  assert.equal(
    controllerPlan("p", command.config).engines.idleTimeoutMs,
    30000,
  );
  assert.throws(
    () => controllerPlan("p", { workers: 1, "idle-timeout-ms": 0 }),
    (error: Error) => {
      assert.ok(error instanceof UsageError, String(error));
      assert.match(error.message, /--idle-timeout-ms takes a number of ms > 0/);
      return true;
    },
  );
});
