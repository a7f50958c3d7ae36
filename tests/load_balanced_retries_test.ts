/**
 * LoadBalancedView when things go wrong, on real engines, Worker and
 * process: a start deadline (`timeoutMs`), `abort()` of queued and running
 * tasks, and `retries` when an engine dies under a task (which then runs
 * elsewhere, or on the engine once it is back).
 *
 * Each kind of engine gets one `Deno.test` with one client of 2 engines that
 * its steps share, with a restart policy that always brings an engine back
 * at once. Engines are held busy with latch files (Worker and process
 * engines both see them), never with sleeps. Engine deaths are
 * `Deno.exit(1)` in a task, with a marker file where a task must die only
 * once (globals are lost when an engine restarts).
 */

import assert from "node:assert/strict";
import {
  type Client,
  ClientClosedError,
  CompositeError,
  EngineError,
  engineId,
  TaskAbortedError,
  TimeoutError,
} from "../mod.ts";
import { fileLatch, holdUntilFile, occupyAll } from "./file_latch.ts";
import { exists, markRan } from "./markers.ts";
import {
  eachEngineKind,
  errorOf,
  guard,
  range,
  RESTART_AT_ONCE,
  until,
  withClient,
  withTempDir,
} from "./helpers.ts";

/** How long anything that must not hang may take (never a speed test). */
const HANG_MS = 30_000;

/**
 * A task that ends its engine the first time it runs (it leaves a marker
 * file saying where), and returns its engine id once the marker exists.
 * A file, not a global: globals are lost when the engine restarts.
 */
const dieOnce = (marker: string) => {
  try {
    Deno.statSync(marker);
  } catch {
    Deno.writeTextFileSync(marker, String(engineId));
    Deno.exit(1);
  }
  return engineId;
};

/** Waits until `id` has been restarted past `before` and is up again. */
async function restarted(client: Client, id: number, before: number) {
  await until(
    () =>
      client.engines()[id].restarts > before &&
      client.ids.includes(id) &&
      client.ids.length === 2,
    `engine ${id} restarted`,
    HANG_MS,
  );
}

eachEngineKind(
  "LoadBalancedView deadlines, abort, retries",
  2,
  async ({ t, client, dir }) => {
    const dv = client.view();
    const lv = client.loadBalancedView();

    await t.step(
      "LB timeoutMs: a task that cannot start in time fails and never runs",
      async () => {
        const latch = fileLatch(dir, "timeout");
        const ran = `${dir}/timeout-ran`;
        const { busy } = await occupyAll(client, latch, HANG_MS);
        try {
          const view = client.loadBalancedView();
          view.timeoutMs = 100;
          const ar = view.applyAsync(markRan, ran);
          const e = await errorOf(
            ar,
            "the LB task with timeoutMs",
            HANG_MS,
          );
          assert.ok(e instanceof TimeoutError, `${e.name}: ${e.message}`);
          assert.equal(ar.metadata.status, "error");
          assert.ok(ar.metadata.error instanceof TimeoutError);
          // the option given at creation works the same
          const ar2 = client.loadBalancedView({ timeoutMs: 50 })
            .mapAsync(markRan, [`${ran}-2`, `${ran}-3`], { chunkSize: 1 });
          const e2 = await errorOf(
            ar2,
            "the LB map with timeoutMs",
            HANG_MS,
          );
          assert.ok(e2 instanceof CompositeError, String(e2));
          assert.equal(e2.errors.length, 2);
          assert.ok(e2.errors.every((x) => x instanceof TimeoutError));
        } finally {
          latch.open();
        }
        assert.deepEqual(await guard(busy, "occupiers", HANG_MS), [
          "released",
          "released",
        ]);
        // a task after them runs on each engine: nothing else was queued
        await dv.applySync(() => 0);
        await lv.mapSync(() => 0, range(4), { chunkSize: 1 });
        assert.equal(exists(ran), false, "the timed-out task ran");
        assert.equal(exists(`${ran}-2`), false);
        assert.equal(exists(`${ran}-3`), false);
      },
    );

    await t.step(
      "LB abort() of queued tasks: TaskAbortedError, they never run",
      async () => {
        const latch = fileLatch(dir, "abort");
        const ran = `${dir}/abort-ran`;
        const restartsBefore = client.engines().map((e) => e.restarts);
        const { busy } = await occupyAll(client, latch, HANG_MS);
        try {
          const single = lv.applyAsync(markRan, ran);
          const map = lv.mapAsync(markRan, [`${ran}-a`, `${ran}-b`], {
            chunkSize: 1,
          });
          const kept = lv.applyAsync(() => "kept");
          assert.equal(single.metadata.status, "queued");
          await guard(single.abort(), "abort single", HANG_MS);
          await guard(map.abort(), "abort map", HANG_MS);
          assert.equal(single.ready(), true);
          const e = await errorOf(single, "aborted LB task", HANG_MS);
          assert.ok(
            e instanceof TaskAbortedError,
            `${e.name}: ${e.message}`,
          );
          assert.equal(e.taskId, single.taskIds[0]);
          assert.equal(single.metadata.status, "aborted");
          const e2 = await errorOf(map, "aborted LB map", HANG_MS);
          assert.ok(e2 instanceof CompositeError, String(e2));
          assert.equal(e2.errors.length, 2);
          assert.ok(e2.errors.every((x) => x instanceof TaskAbortedError));
          assert.deepEqual(
            map.metadata.map((m) => m.status),
            ["aborted", "aborted"],
          );
          assert.equal(kept.ready(), false);
          latch.open();
          assert.equal(await guard(kept, "the kept task", HANG_MS), "kept");
        } finally {
          latch.open();
        }
        assert.deepEqual(await guard(busy, "occupiers", HANG_MS), [
          "released",
          "released",
        ]);
        await lv.mapSync(() => 0, range(4), { chunkSize: 1 });
        await dv.applySync(() => 0);
        for (const path of [ran, `${ran}-a`, `${ran}-b`]) {
          assert.equal(exists(path), false, `${path}: an aborted task ran`);
        }
        assert.deepEqual(
          client.engines().map((e) => e.restarts),
          restartsBefore,
          "aborting queued tasks restarted an engine",
        );
      },
    );

    await t.step(
      "LB without retries: a task whose engine dies is an EngineError",
      async () => {
        const restarts = client.engines().map((e) => e.restarts);
        const ar = lv.applyAsync(() => Deno.exit(1));
        const e = await errorOf(ar, "the dying task", HANG_MS);
        assert.ok(e instanceof EngineError, `${e.name}: ${e.message}`);
        const died = ar.metadata.engineId;
        assert.ok([0, 1].includes(died));
        assert.equal(e.engineId, died);
        assert.equal(ar.metadata.status, "error");
        await restarted(client, died, restarts[died]);
      },
    );

    await t.step(
      "LB retries: a task whose engine dies runs again and succeeds",
      async () => {
        const restarts = client.engines().map((e) => e.restarts);
        const marker = `${dir}/die-once`;
        const view = client.loadBalancedView({ retries: 1 });
        const ar = view.applyAsync(dieOnce, marker);
        const v = await guard(ar, "the retried task", HANG_MS);
        const died = Number(Deno.readTextFileSync(marker));
        assert.ok([0, 1].includes(died));
        assert.ok([0, 1].includes(v));
        assert.equal(ar.metadata.status, "ok");
        assert.equal(ar.metadata.engineId, v);
        await restarted(client, died, restarts[died]);

        // the retries setter applies to later tasks
        const marker2 = `${dir}/die-once-2`;
        view.retries = 0;
        const e = await errorOf(
          view.applyAsync(dieOnce, marker2),
          "no retries left",
          HANG_MS,
        );
        assert.ok(e instanceof EngineError, String(e));
        const died2 = Number(Deno.readTextFileSync(marker2));
        await restarted(
          client,
          died2,
          restarts[died2] + (died2 === died ? 1 : 0),
        );
        view.retries = 1;
      },
    );

    await t.step(
      "LB: an engine that comes back takes the queued work",
      async () => {
        const restarts = client.engines()[0].restarts;
        const marker = `${dir}/die-once-on-0`;
        const lv0 = client.loadBalancedView([0], { retries: 1 });
        const first = lv0.applyAsync(dieOnce, marker);
        const second = lv0.applyAsync(() => engineId);
        const map = lv0.mapAsync((x: number) => x + engineId, [10, 20], {
          chunkSize: 1,
        });
        assert.equal(await guard(first, "the retried task", HANG_MS), 0);
        assert.equal(await guard(second, "the queued task", HANG_MS), 0);
        assert.deepEqual(
          await guard(map, "the queued map", HANG_MS),
          [10, 20],
        );
        assert.equal(Deno.readTextFileSync(marker), "0");
        assert.ok(client.engines()[0].restarts > restarts);
        assert.deepEqual(client.ids, [0, 1]);
      },
    );

    await t.step(
      "LB retries: 1 means at most 2 runs, then the EngineError",
      async () => {
        const runs = `${dir}/always-dies`;
        const view = client.loadBalancedView({ retries: 1 });
        const ar = view.applyAsync((path: string) => {
          Deno.writeTextFileSync(path, `${engineId}\n`, { append: true });
          Deno.exit(1);
        }, runs);
        const e = await errorOf(ar, "the task that always dies", HANG_MS);
        assert.ok(e instanceof EngineError, `${e.name}: ${e.message}`);
        assert.equal(ar.metadata.status, "error");
        const ran = Deno.readTextFileSync(runs).trim().split("\n");
        assert.equal(ran.length, 2, `ran on engines ${ran}`);
        assert.equal(e.engineId, Number(ran[1]));
        await until(
          () =>
            client.ids.length === 2 &&
            client.engines().every((s) => s.state === "idle"),
          "both engines back",
          HANG_MS,
        );
      },
    );

    await t.step(
      "LB abort() of a running task with retries: stopped, not retried",
      async () => {
        const runs = `${dir}/abort-running-runs`;
        const latch = fileLatch(dir, "abort-running");
        const view = client.loadBalancedView({ retries: 2 });
        const ar = view.applyAsync(
          async (p: { runs: string; wait: string }) => {
            Deno.writeTextFileSync(p.runs, "run\n", { append: true });
            const end = Date.now() + 25_000;
            for (;;) {
              try {
                Deno.statSync(p.wait);
                return "finished";
              } catch {
                if (Date.now() > end) return "latch never opened";
              }
              await new Promise((r) => setTimeout(r, 2));
            }
          },
          { runs, wait: latch.path },
        );
        try {
          // The engine runs the task before its `started` event crosses a
          // controller's wire: wait for both, or the status check races it.
          await until(
            () => exists(runs) && ar.metadata.status === "running",
            "the task started, and its client heard so",
            HANG_MS,
          );
          await guard(ar.abort(), "abort() of the running task", HANG_MS);
          const e = await errorOf(ar, "the aborted task", HANG_MS);
          assert.ok(
            e instanceof TaskAbortedError,
            `${e.name}: ${e.message}`,
          );
          assert.equal(ar.metadata.status, "aborted");
        } finally {
          latch.open();
        }
        await until(
          () =>
            client.ids.length === 2 &&
            client.engines().every((s) => s.state === "idle"),
          "both engines idle",
          HANG_MS,
        );
        await view.mapSync(() => 0, range(4), { chunkSize: 1 });
        assert.equal(Deno.readTextFileSync(runs), "run\n", "it ran again");
      },
    );

    await t.step(
      "LB retries with timeoutMs: a task that started is retried, not timed out",
      async () => {
        const restarts = client.engines().map((e) => e.restarts);
        const marker = `${dir}/late-death`;
        const view = client.loadBalancedView({
          retries: 1,
          timeoutMs: 100,
        });
        // starts at once, dies well after its start deadline has passed
        const ar = view.applyAsync(async (m: string) => {
          await new Promise((r) => setTimeout(r, 300));
          try {
            Deno.statSync(m);
          } catch {
            Deno.writeTextFileSync(m, String(engineId));
            Deno.exit(1);
          }
          return engineId;
        }, marker);
        let outcome: unknown;
        try {
          outcome = await guard(ar, "the retried task", HANG_MS);
        } catch (error) {
          outcome = error;
        }
        const died = Number(Deno.readTextFileSync(marker));
        await restarted(client, died, restarts[died]);
        assert.ok(
          [0, 1].includes(outcome as number),
          `the retry of a task that had started gave ${outcome}`,
        );
      },
    );
  },
  {
    restart: RESTART_AT_ONCE,
  },
);

Deno.test("LB tasks still queued when the client closes fail with ClientClosedError", async () => {
  await withTempDir(async (dir) => {
    await withClient({ workers: 1 }, async (client) => {
      const lv = client.loadBalancedView();
      // Never opened: the task runs until close() ends its engine.
      const latch = fileLatch(dir, "never");
      const running = lv.applyAsync(holdUntilFile, latch.path);
      await until(
        () => client.engines()[0].load > 0,
        "the first task",
        HANG_MS,
      );
      const queued = range(2).map(() => lv.applyAsync(() => "ran"));
      await guard(client.close(), "close() with queued LB tasks", HANG_MS);
      for (const ar of queued) {
        const e = await errorOf(ar, "an LB task queued at close()", HANG_MS);
        assert.ok(e instanceof ClientClosedError, `${e.name}: ${e.message}`);
        assert.equal(e.message, "cannot run a task: the client is closed");
      }
      // The running task is its engine's, which close() stopped.
      const e = await errorOf(running, "the running LB task", HANG_MS);
      assert.ok(e instanceof EngineError, `${e.name}: ${e.message}`);
      assert.match(e.reason, /closed/);
    });
  });
});
