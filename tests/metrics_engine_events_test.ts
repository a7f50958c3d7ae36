/**
 * Engine events as the core's metrics count them, on real engines: a
 * SIGKILLed process (what the OOM killer does) is a `killed` death and no
 * dropped connection; aborting a running task is a restart and no death, on
 * Worker and process engines alike; an engine scaled away leaves no memory
 * samples behind.
 */

import assert from "node:assert/strict";
import {
  type Client,
  type EngineEvent,
  local,
  type MetricFamily,
} from "../mod.ts";
import { startHandEngine } from "./hand_engine.ts";
import {
  errorOf,
  guard,
  RESTART_AT_ONCE,
  until,
  withClient,
} from "./helpers.ts";

function valueOf(
  families: MetricFamily[],
  name: string,
  labels: Record<string, string>,
): number | undefined {
  const family = families.find((f) => f.name === name);
  assert.ok(family && family.type !== "histogram", `no metric ${name}`);
  const key = JSON.stringify(Object.entries(labels).sort());
  return family.samples.find((s) =>
    JSON.stringify(Object.entries(s.labels).sort()) === key
  )?.value;
}

function positive(families: MetricFamily[], name: string) {
  const family = families.find((f) => f.name === name);
  assert.ok(family && family.type !== "histogram", `no metric ${name}`);
  return family.samples.filter((s) => s.value > 0).map((s) => ({
    ...s.labels,
    value: s.value,
  }));
}

async function comesBack(client: Client, restarts: number): Promise<void> {
  await until(
    () =>
      client.engines()[0]?.restarts === restarts &&
      client.engines()[0].state === "idle",
    "engine 0 to come back",
    20_000,
  );
}

Deno.test("a SIGKILLed engine process is a killed death, not a lost connection nor a dropped one", async () => {
  await withClient(
    { processes: 1, restart: RESTART_AT_ONCE, log: () => {} },
    async (client) => {
      const before = await client.metrics();
      assert.equal(
        valueOf(before, "troupe_engine_deaths_total", {
          kind: "process",
          reason: "killed",
        }),
        0,
        "a sample before the first death",
      );
      const pid = client.engines()[0].pid;
      assert.ok(pid !== undefined, "a process engine has a pid");
      Deno.kill(pid, "SIGKILL");
      await comesBack(client, 1);
      const f = await client.metrics();
      assert.deepEqual(positive(f, "troupe_engine_deaths_total"), [
        { kind: "process", reason: "killed", value: 1 },
      ]);
      assert.match(client.engines()[0].deathReason ?? "", /SIGKILL/);
      assert.deepEqual(positive(f, "troupe_connections_dropped_total"), []);
    },
  );
});

for (const kind of ["workers", "processes"] as const) {
  Deno.test(`aborting a running task on ${kind}: a restart, no death`, async () => {
    await withClient(
      { [kind]: 1, restart: RESTART_AT_ONCE, log: () => {} },
      async (client) => {
        const spin = client.view(0).applyAsync(() => {
          // Bounded: a terminated Worker that spins is never stopped
          // (denoland/deno#35657).
          const end = Date.now() + 20_000;
          while (Date.now() < end) { /* spin */ }
          return "spun";
        });
        await until(
          () => client.engines()[0].state === "busy",
          "the task to run",
          20_000,
        );
        await spin.abort();
        assert.equal((await errorOf(spin)).name, "TaskAbortedError");
        await comesBack(client, 1);
        const f = await client.metrics();
        const engineKind = kind === "workers" ? "worker" : "process";
        assert.deepEqual(positive(f, "troupe_engine_deaths_total"), []);
        assert.equal(
          valueOf(f, "troupe_engine_restarts_total", { kind: engineKind }),
          1,
        );
      },
    );
  });
}

Deno.test("an engine scaled away leaves no heap or rss samples", async () => {
  await withClient(
    {
      workers: 0,
      launch: local({ engines: 2 }),
      heartbeatMs: 100,
      log: () => {},
    },
    async (client) => {
      await client.waitForEngines(2, { timeoutMs: 30_000 });
      const heapOf = (f: MetricFamily[], engine: string) =>
        valueOf(f, "troupe_engine_heap_bytes", { engine });
      await until(
        async () => {
          const f = await client.metrics();
          return (heapOf(f, "0") ?? 0) > 0 && (heapOf(f, "1") ?? 0) > 0;
        },
        "both engines to say their heap",
        20_000,
      );
      await client.scale(1);
      const [gone] = client.engines().filter((e) => e.state === "stopped");
      assert.ok(gone, "one engine stopped");
      const after = await client.metrics();
      const id = String(gone.engineId);
      assert.equal(heapOf(after, id), undefined, "no heap of a stopped engine");
      assert.equal(
        valueOf(after, "troupe_engine_rss_bytes", { engine: id }),
        undefined,
      );
      assert.equal(gone.heapBytes, undefined, "engines() shows none either");
    },
  );
});

Deno.test("a hand-started engine that dies and rejoins under a new id: its old id is given up after the restart window", async () => {
  const events: EngineEvent[] = [];
  await withClient({
    workers: 0,
    listen: true,
    heartbeatMs: 100,
    restart: { maxRestarts: 5, withinMs: 400 },
    onEngineEvent: (event) => events.push(event),
    log: () => {},
  }, async (client) => {
    const { hostname, port, key } = client.connectionInfo!;
    const join = () =>
      startHandEngine(["--connect", `${hostname}:${port}`], {
        TROUPE_KEY: key,
      });
    const first = join();
    try {
      await guard(client.waitForEngines(1), "the first engine");
    } finally {
      await first.kill();
    }
    const second = join();
    try {
      await until(
        () =>
          client.engines().some((e) => e.engineId === 1 && e.state === "idle"),
        "the engine started again to join under a new id",
        20_000,
      );
      await until(
        () => client.engines()[0].state === "stopped",
        "the old id to be given up",
        20_000,
      );
      const gaveUp = events.find((e) => e.type === "gaveUp");
      assert.ok(gaveUp && gaveUp.type === "gaveUp" && gaveUp.engineId === 0);
      assert.match(gaveUp.reason, /did not reconnect within 400 ms/);
      const f = await client.metrics();
      assert.equal(
        valueOf(f, "troupe_engines", { state: "restarting", kind: "remote" }),
        0,
      );
      assert.equal(
        valueOf(f, "troupe_engines", { state: "idle", kind: "remote" }),
        1,
      );
    } finally {
      await second.kill();
    }
  });
});
