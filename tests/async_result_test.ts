/**
 * AsyncResult against real Worker engines: one value or one per engine
 * (value, data, stdout, metadata), get/wait/ready/successful/progress and
 * elapsed, metadata, engine and task ids, abort() of queued tasks and of a
 * multi-engine result, and publications() of one task.
 *
 * One `Deno.test` shares one client of 3 engines between its steps; tasks
 * are held with SharedArrayBuffer latches, never with sleeps.
 */

import assert from "node:assert/strict";
import {
  AsyncResult,
  engineId,
  type Publication,
  publishData,
  TaskAbortedError,
  TimeoutError,
} from "../mod.ts";
import { errorOf, guard, latch, sleep, until, withClient } from "./helpers.ts";
import { waitUntilOpen } from "./supervision_tasks.ts";

/** Engine-side globals used by tasks in this file. */
type G = {
  counter?: number;
};

/**
 * A task that busy-waits until the latch opens (capped at 20 s so that a
 * broken test cannot spin forever). It never yields to its event loop.
 */
const busyUntilOpen = (sab: SharedArrayBuffer) => {
  const flag = new Int32Array(sab);
  const end = Date.now() + 20_000;
  while (Atomics.load(flag, 0) === 0 && Date.now() < end) {
    // spin
  }
  return Atomics.load(flag, 0) === 1 ? "busy done" : "latch never opened";
};

/** A task that counts its runs in an engine global. */
const countRun = () => {
  const g = globalThis as { counter?: number };
  g.counter = (g.counter ?? 0) + 1;
  return g.counter;
};

Deno.test("AsyncResult on 3 engines", async (t) => {
  await withClient({ workers: 3 }, async (client) => {
    await t.step(
      "single-engine view unwraps value, data, stdout, metadata",
      async () => {
        const ar = client.view(1).applyAsync(() => {
          publishData({ x: 1 });
          publishData({ y: 2 });
          console.log("printed");
          console.error("complained");
          return engineId;
        });
        assert.equal(await ar, 1);
        assert.deepEqual(ar.data, { x: 1, y: 2 });
        assert.equal(ar.stdout, "printed\n");
        assert.equal(ar.stderr, "complained\n");
        const md = ar.metadata;
        assert.ok(!Array.isArray(md));
        assert.equal(md.engineId, 1);
        assert.equal(md.status, "ok");
        assert.deepEqual(ar.engineIds, [1]);
        assert.equal(ar.taskIds.length, 1);
        assert.equal(md.taskId, ar.taskIds[0]);
      },
    );

    await t.step(
      "every get(), asked while pending or once ready, gives the value, or rejects with the task's error",
      async () => {
        const gate = latch();
        const ar = client.view(2).applyAsync(busyUntilOpen, gate.sab);
        const early = [ar.get(), ar.get(), ar.then((v) => v)];
        assert.equal(ar.ready(), false);
        gate.open();
        assert.deepEqual(
          await guard(Promise.all(early), "the gets asked while pending"),
          ["busy done", "busy done", "busy done"],
        );
        assert.equal(await ar.get(), "busy done");

        const failing = client.view(2).applyAsync(() => {
          throw new RangeError("no such thing");
        });
        const pending = failing.get();
        const first = await errorOf(pending, "the get asked while pending");
        const later = await errorOf(failing.get(), "a get asked once ready");
        assert.equal(first.name, "RemoteError");
        assert.match(first.message, /no such thing/);
        assert.equal(later, first, "the same error, however it is asked");
      },
    );

    await t.step("multi-engine view gives arrays in target order", async () => {
      const ar = client.view([2, 0]).applyAsync(() => {
        publishData({ me: engineId });
        console.log(`engine ${engineId}`);
        return engineId;
      });
      assert.deepEqual(await ar, [2, 0]);
      assert.deepEqual(ar.data, [{ me: 2 }, { me: 0 }]);
      assert.deepEqual(ar.stdout, ["engine 2\n", "engine 0\n"]);
      assert.deepEqual(ar.stderr, ["", ""]);
      assert.deepEqual(ar.metadata.map((m) => m.engineId), [2, 0]);
    });

    await t.step(
      "AsyncResult: get, wait, ready, successful, progress, elapsed",
      async () => {
        const view = client.view(0);
        const gate = latch();
        const ar = view.applyAsync(waitUntilOpen, gate.sab);
        const submittedAt = performance.now();
        assert.ok(ar instanceof AsyncResult);
        assert.equal(
          Object.prototype.toString.call(ar),
          "[object AsyncResult]",
        );
        assert.equal(ar.ready(), false);
        assert.equal(ar.progress, 0);
        assert.throws(() => ar.successful(), /ready|finished/);

        const timeout = await errorOf(ar.get(20));
        assert.ok(timeout instanceof TimeoutError, timeout.message);
        assert.match(timeout.message, /20 ms/);
        assert.equal(ar.ready(), false, "get(timeout) must not stop the task");

        const e1 = ar.elapsed;
        assert.equal(await ar.wait(15), false);
        const e2 = ar.elapsed;
        assert.ok(e2 > e1, `elapsed should grow while running: ${e1} -> ${e2}`);
        const md = ar.metadata;
        assert.equal(md.status, "running");
        assert.equal(md.completed, null);
        assert.equal(md.error, null);
        assert.equal(ar.ready(), false);

        await sleep(30);
        const heldFor = performance.now() - submittedAt;
        gate.open();
        assert.equal(await guard(ar.wait(), "wait()"), true);
        assert.equal(ar.ready(), true);
        assert.equal(ar.successful(), true);
        assert.equal(ar.progress, 1);
        assert.equal(await ar, "released");
        assert.equal(await ar.get(), "released");
        assert.equal(
          await ar.get(0),
          "released",
          "a ready result never times out",
        );
        assert.equal(await ar.wait(0), true);

        const f1 = ar.elapsed;
        assert.ok(
          f1 >= heldFor,
          `elapsed ${f1} ms, but the task was held for ${heldFor} ms`,
        );
        await sleep(20);
        assert.equal(ar.elapsed, f1, "elapsed must freeze at completion");
      },
    );

    await t.step("metadata: Dates, statuses, a copy", async () => {
      const before = Date.now();
      const ar = client.view(0).applyAsync((x: number) => x + 1, 1);
      const queued = client.view(0).applyAsync(() => "queued one");
      assert.equal(ar.metadata.status, "running");
      assert.equal(queued.metadata.status, "queued");
      assert.equal(queued.metadata.started, null);
      assert.equal(await ar, 2);
      await queued;
      const md = ar.metadata;
      assert.equal(md.engineId, 0);
      assert.equal(md.taskId, ar.taskIds[0]);
      assert.equal(md.status, "ok");
      assert.equal(md.error, null);
      for (const d of [md.submitted, md.started, md.completed]) {
        assert.ok(d instanceof Date && !Number.isNaN(d.getTime()));
      }
      assert.ok(md.submitted.getTime() >= before - 1);
      assert.ok(md.started!.getTime() <= md.completed!.getTime());
      assert.ok(md.submitted.getTime() <= md.started!.getTime() + 50);

      md.status = "error";
      assert.equal(ar.metadata.status, "ok", "metadata must be a copy");

      const failed = client.view(0).applyAsync(() => {
        throw new Error("nope");
      });
      await errorOf(failed);
      assert.equal(failed.metadata.status, "error");
      assert.ok(failed.metadata.error instanceof Error);
      assert.equal(failed.successful(), false);
    });

    await t.step("engineIds and taskIds", async () => {
      const a = client.view().applyAsync(() => 0);
      const b = client.view([1, 1]).applyAsync(() => 0);
      assert.deepEqual(a.engineIds, [0, 1, 2]);
      assert.deepEqual(b.engineIds, [1, 1]);
      const ids = [...a.taskIds, ...b.taskIds];
      assert.equal(new Set(ids).size, ids.length, `task ids repeat: ${ids}`);
      for (const id of ids) assert.ok(Number.isInteger(id));
      await Promise.all([a, b]);
    });

    // console.* captured per task: engine_kind_tasks.case.ts (both kinds).

    await t.step(
      "abort() of queued tasks: they never run, the running one is unaffected",
      async () => {
        const view = client.view(2);
        await view.applySync(() => {
          (globalThis as G).counter = 0;
        });
        const gate = latch();
        const running = view.applyAsync(busyUntilOpen, gate.sab);
        const keptBefore = view.applyAsync(countRun);
        const aborted = view.applyAsync(countRun);
        const abortedToo = view.applyAsync(countRun);
        const keptAfter = view.applyAsync(countRun);
        assert.equal(running.metadata.status, "running");
        assert.equal(aborted.metadata.status, "queued");
        assert.equal(client.engines()[2].load, 5);

        await Promise.all([aborted.abort(), abortedToo.abort()]);
        const loadAfterAbort = client.engines()[2].load;
        assert.equal(aborted.ready(), true, "an aborted queued task is done");
        assert.equal(running.ready(), false);
        assert.equal(running.metadata.status, "running");
        for (const ar of [aborted, abortedToo]) {
          const e = await errorOf(ar, "aborted task");
          assert.ok(e instanceof TaskAbortedError, `${e.name}: ${e.message}`);
          assert.equal(e.engineId, 2);
          assert.equal(e.taskId, ar.taskIds[0]);
          assert.equal(ar.metadata.status, "aborted");
          assert.ok(ar.metadata.error instanceof TaskAbortedError);
          assert.ok(ar.metadata.completed instanceof Date);
          assert.equal(ar.successful(), false);
          assert.equal(ar.progress, 1);
        }

        gate.open();
        assert.equal(await guard(running, "busy task"), "busy done");
        assert.equal(running.metadata.status, "ok");
        assert.equal(await keptBefore, 1);
        assert.equal(await keptAfter, 2, "an aborted task ran");
        assert.equal(await view.applySync(() => (globalThis as G).counter), 2);

        // aborting a finished result changes nothing
        await running.abort();
        assert.equal(running.successful(), true);
        assert.equal(await running, "busy done");

        // checked last, so that the checks above run while it fails
        assert.equal(
          loadAfterAbort,
          3,
          "engines().load still counts the 2 aborted tasks as waiting",
        );
      },
    );

    await t.step(
      "abort() of a multi-engine result keeps what already ran",
      async () => {
        const gate = latch();
        const blocker = client.view(0).applyAsync(busyUntilOpen, gate.sab);
        const ar = client.view([1, 0]).applyAsync(() => engineId);
        await until(() => ar.progress >= 1, "engine 1's part");
        await ar.abort();
        gate.open();
        const e = await errorOf(ar);
        assert.equal(e.name, "CompositeError");
        const composite = e as AggregateError & { results: unknown[] };
        assert.deepEqual(composite.results, [1, undefined]);
        assert.equal(composite.errors.length, 1);
        assert.ok(composite.errors[0] instanceof TaskAbortedError);
        assert.deepEqual(ar.metadata.map((m) => m.status), ["ok", "aborted"]);
        assert.equal(await blocker, "busy done");
      },
    );

    await t.step(
      "publications() streams this task's publications and ends with it",
      async () => {
        const ar = client.view(0).applyAsync(() => {
          for (let i = 1; i <= 3; i++) publishData({ i, sq: i * i });
          return "published";
        });
        const seen: Publication[] = [];
        await guard(
          (async () => {
            for await (const p of ar.publications()) seen.push(p);
          })(),
          "publications() of one task",
        );
        assert.equal(ar.ready(), true);
        assert.deepEqual(seen.map((p) => p.data), [
          { i: 1, sq: 1 },
          { i: 2, sq: 4 },
          { i: 3, sq: 9 },
        ]);
        for (const p of seen) {
          assert.equal(p.engineId, 0);
          assert.equal(p.taskId, ar.taskIds[0]);
          assert.equal(typeof p.time, "number");
        }
        assert.ok(seen[0].seq < seen[1].seq && seen[1].seq < seen[2].seq);
        assert.equal(await ar, "published");
        assert.deepEqual(ar.data, { i: 3, sq: 9 });

        // on several engines it ends once all of them are done
        const multi = client.view().applyAsync(async () => {
          publishData({ from: engineId });
          await new Promise((r) => setTimeout(r, 5 * engineId));
          publishData({ again: engineId });
        });
        const engines: number[] = [];
        await guard(
          (async () => {
            for await (const p of multi.publications()) {
              engines.push(p.engineId);
            }
          })(),
          "publications() of three tasks",
        );
        assert.equal(multi.ready(), true);
        assert.deepEqual(engines.toSorted(), [0, 0, 1, 1, 2, 2]);

        // after the end: an empty stream that ends at once
        const late: Publication[] = [];
        for await (const p of ar.publications()) late.push(p);
        assert.deepEqual(late, []);

        // a task that publishes nothing still ends the stream
        const quiet = client.view(1).applyAsync(() => 0);
        let count = 0;
        await guard(
          (async () => {
            for await (const _ of quiet.publications()) count++;
          })(),
          "publications() of a quiet task",
        );
        assert.equal(count, 0);
      },
    );
  });
});
