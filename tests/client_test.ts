/**
 * Client and DirectView against real Worker engines: the lifecycle,
 * engines() and waitForEngines, view targets, apply, values crossing, order
 * of tasks on an engine. AsyncResult: async_result_test.ts.
 *
 * Each `Deno.test` shares one client between its steps (starting engines
 * costs tens of ms each). Steps only depend on the engines' globals that they
 * set themselves.
 */

import assert from "node:assert/strict";
import {
  AsyncResult,
  Client,
  DirectView,
  EngineError,
  engineId,
  TimeoutError,
} from "../mod.ts";
import { liveWorkerCount } from "../transport/worker_link.ts";
import { errorOf, guard, range, withClient } from "./helpers.ts";

// ---------------------------------------------------------------- helpers

/** Engine-side globals used by tasks in this file. */
type G = {
  order?: string[];
};

/** A task that sleeps on the engine without blocking it (async). */
const sleepOnEngine = (ms: number) =>
  new Promise<string>((resolve) => setTimeout(() => resolve("slept"), ms));

// ------------------------------------------------------------ lifecycle

Deno.test("Client lifecycle", async (t) => {
  await t.step("workers: 0 gives an empty client", async () => {
    const client = await Client.start({ workers: 0 });
    try {
      assert.deepEqual(client.ids, []);
      assert.deepEqual(client.engines(), []);
      await client.waitForEngines(0);
      const e = await errorOf(client.waitForEngines(1));
      assert.ok(!(e instanceof TimeoutError), e.message);
      assert.throws(() => client.view().applyAsync(() => 1), /no engine/);
      assert.throws(() => client.view(0), RangeError);
    } finally {
      await client.close();
    }
    assert.equal(liveWorkerCount(), 0);
  });

  await t.step("invalid workers reject with RangeError", async () => {
    for (const workers of [-1, 1.5, NaN, Infinity]) {
      await assert.rejects(
        Client.start({ workers }),
        (e: unknown) =>
          e instanceof RangeError && /workers/.test(e.message) &&
          e.message.includes(String(workers)),
        `workers: ${workers}`,
      );
    }
    assert.equal(liveWorkerCount(), 0);
  });

  await t.step(
    "start rejects with TimeoutError when engines are not up in time, and stops them",
    async () => {
      // 4 Worker engines cannot load and register before a 0 ms timer fires:
      // this is the only public path to waitForEngines' TimeoutError (after
      // start() resolves every engine is up, and n beyond the engine count
      // rejects at once instead).
      const e = await errorOf(Client.start({ workers: 4, startTimeoutMs: 0 }));
      assert.ok(e instanceof TimeoutError, `${e.name}: ${e.message}`);
      assert.match(e.message, /of 4 engines are up after 0 ms/);
      assert.equal(liveWorkerCount(), 0, "start() left threads behind");
    },
  );

  await t.step(
    "close() twice is fine; a closed client refuses work",
    async () => {
      const client = await Client.start({ workers: 2 });
      assert.equal(liveWorkerCount(), 2);
      const first = client.close();
      const second = client.close();
      await Promise.all([first, second]);
      await client.close();
      assert.equal(liveWorkerCount(), 0);
      assert.deepEqual(client.ids, []);
      for (const s of client.engines()) {
        assert.ok(!["starting", "idle", "busy"].includes(s.state), s.state);
      }
      assert.match((await errorOf(client.waitForEngines(1))).message, /closed/);
      assert.throws(() => client.view().applyAsync(() => 1), /no engine/);
      const e = await errorOf(client.view(0).applyAsync(() => 1));
      assert.ok(e instanceof EngineError, `${e.name}: ${e.message}`);
      assert.equal(e.engineId, 0);
    },
  );

  await t.step(
    "close() fails running and queued tasks with EngineError",
    async () => {
      const client = await Client.start({ workers: 2 });
      // Spins for the whole step, but not for the rest of the run: Deno
      // 2.9.6 does not stop a spinning Worker it terminated (deno#35657).
      const spinning = client.view(0).applyAsync(() => {
        const end = Date.now() + 20_000;
        let x = 0;
        while (Date.now() < end) x++;
        return x;
      });
      const queued = client.view(0).applyAsync(() => 1);
      const pending = client.view(1).applyAsync(() => new Promise(() => {}));
      assert.equal(client.engines()[0].state, "busy");
      await guard(client.close(), "close() with a spinning task");
      assert.equal(liveWorkerCount(), 0);
      for (const ar of [spinning, queued, pending]) {
        const e = await errorOf(ar, "a task of a closed client");
        assert.ok(e instanceof EngineError, `${e.name}: ${e.message}`);
        assert.match(e.reason, /closed/);
        assert.deepEqual(ar.engineIds, [e.engineId]);
        assert.equal(ar.successful(), false);
      }
    },
  );

  await t.step("await using closes the client", async () => {
    {
      await using client = await Client.start({ workers: 2 });
      assert.deepEqual(client.ids, [0, 1]);
      assert.equal(liveWorkerCount(), 2);
      assert.deepEqual(await client.view().applySync(() => engineId), [0, 1]);
    }
    assert.equal(liveWorkerCount(), 0);
  });
});

// ------------------------------------------------- one 3-engine client

Deno.test("Client and views on 3 engines", async (t) => {
  await withClient({ workers: 3 }, async (client) => {
    await t.step("ids and engines() snapshot", () => {
      assert.deepEqual(client.ids, [0, 1, 2]);
      const snapshot = client.engines();
      assert.deepEqual(snapshot.map((s) => s.engineId), [0, 1, 2]);
      for (const s of snapshot) {
        assert.equal(s.kind, "worker");
        assert.equal(s.state, "idle");
        assert.equal(s.tasksDone, 0);
        assert.equal(s.currentTaskId, undefined);
        assert.equal(s.load, 0);
        assert.equal(s.deathReason, undefined);
      }
    });

    await t.step("engines() follows work: busy, load, tasksDone", async () => {
      const running = client.view(1).applyAsync(sleepOnEngine, 150);
      const queued = client.view(1).applyAsync(() => "second");
      const [, one] = client.engines();
      assert.equal(one.state, "busy");
      assert.equal(one.currentTaskId, running.taskIds[0]);
      assert.equal(one.load, 2);
      assert.equal(client.engines()[0].state, "idle");
      assert.deepEqual(await running, "slept");
      assert.equal(await queued, "second");
      const after = client.engines()[1];
      assert.equal(after.state, "idle");
      assert.equal(after.tasksDone, 2);
      assert.equal(after.load, 0);
      assert.equal(after.currentTaskId, undefined);
      // a snapshot: it does not change later
      assert.equal(one.state, "busy");
    });

    await t.step("waitForEngines", async () => {
      for (const n of [0, 1, 3]) await client.waitForEngines(n);
      await client.waitForEngines(3, { timeoutMs: 10_000 });
      // more than can ever be up: rejects at once, not by the timer
      const e = await errorOf(
        client.waitForEngines(4, { timeoutMs: 30_000 }),
        "waitForEngines(4)",
      );
      assert.ok(!(e instanceof TimeoutError), "should reject at once");
      assert.match(e.message, /4 engines can never be up/);
      await assert.rejects(client.waitForEngines(100), /can never be up/);
    });

    await t.step("view(): all, single, list; view(99) throws", async () => {
      const all = client.view();
      assert.ok(all instanceof DirectView);
      assert.equal(all.targets, "all");
      assert.deepEqual(await all.applySync(() => engineId), [0, 1, 2]);

      const single = client.view(2);
      assert.equal(single.targets, 2);
      assert.equal(await single.applySync(() => engineId), 2);

      assert.deepEqual(
        await client.view([0, 2]).applySync(() => engineId),
        [0, 2],
      );
      const reversed = client.view([2, 0]);
      assert.deepEqual(reversed.targets, [2, 0]);
      const ar = reversed.applyAsync((x: number) => x * 10 + engineId, 4);
      assert.deepEqual(ar.engineIds, [2, 0]);
      assert.deepEqual(await ar, [42, 40]);

      assert.throws(() => client.view(99), RangeError);
      assert.throws(() => client.view([0, 99]), /no engine 99/);
      assert.throws(() => client.view(-1), RangeError);
    });

    await t.step("applySync and apply", async () => {
      const add = (a: number, b: number) => a + b;
      assert.deepEqual(await client.view().applySync(add, 1, 2), [3, 3, 3]);
      assert.equal(await client.view(2).applySync(add, 40, 2), 42);
      const ar = client.view([0, 1]).apply(add, 2, 3);
      assert.ok(ar instanceof AsyncResult);
      assert.deepEqual(await ar, [5, 5]);
    });

    // Values and large typed arrays crossing both ways:
    // engine_kind_values.case.ts (Worker and process engines).

    await t.step("async tasks are awaited; engineId is in scope", async () => {
      const asyncTask = async (x: number) => {
        await new Promise((r) => setTimeout(r, 5));
        return x + engineId;
      };
      assert.deepEqual(
        await client.view().applySync(asyncTask, 100),
        [100, 101, 102],
      );
      assert.equal(
        await client.view(1).applySync(
          (x: number) => Promise.resolve(x * 3),
          5,
        ),
        15,
      );
      assert.deepEqual(await client.view().applySync(() => engineId), [
        0,
        1,
        2,
      ]);
    });

    await t.step(
      "each engine runs its tasks one at a time, in order",
      async () => {
        await client.view(1).applySync(() => {
          (globalThis as G).order = [];
        });
        const ars = range(50).map((i) =>
          client.view(1).applyAsync(async (i: number) => {
            const order = (globalThis as G).order!;
            order.push(`start ${i}`);
            // yield in the middle: the next task must still wait for this one
            if (i % 3 === 0) await new Promise((r) => setTimeout(r, 1));
            else await Promise.resolve();
            order.push(`end ${i}`);
            return i;
          }, i)
        );
        assert.deepEqual(await Promise.all(ars), range(50));
        const order = await client.view(1).applySync(() =>
          (globalThis as G).order
        );
        assert.deepEqual(
          order,
          range(50).flatMap((i) => [`start ${i}`, `end ${i}`]),
        );
        // globals are per engine
        assert.deepEqual(
          await client.view().applySync(() =>
            Array.isArray((globalThis as G).order)
          ),
          [false, true, false],
        );
      },
    );

    await t.step("10,000 tasks queued on one engine all complete", async () => {
      const before = client.engines()[0].tasksDone;
      const view = client.view(0);
      const ars = range(10_000).map((i) =>
        view.applyAsync((x: number) => x * 2 + 1, i)
      );
      const values = await guard(Promise.all(ars), "10,000 tasks", 60_000);
      assert.equal(values.length, 10_000);
      values.forEach((v, i) => {
        if (v !== i * 2 + 1) assert.fail(`task ${i} gave ${v}`);
      });
      assert.equal(client.engines()[0].tasksDone, before + 10_000);
      assert.equal(client.engines()[0].load, 0);
    });
  });
});

// ------------------------------------------------ many engines, few cores

Deno.test("16 Worker engines on few cores: start, run on all, close", async () => {
  await withClient({ workers: 16 }, async (client) => {
    assert.deepEqual(client.ids, range(16));
    assert.deepEqual(
      await guard(
        client.view().applySync((x: number) => x + engineId, 0),
        "a task on 16 engines",
        60_000,
      ),
      range(16),
    );
    assert.equal(liveWorkerCount(), 16);
  });
  assert.equal(liveWorkerCount(), 0);
});
