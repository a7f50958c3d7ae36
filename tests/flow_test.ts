/**
 * Call options on real engines, Worker and process, embedded and
 * connected: `view.with()` (its checks, what it keeps, how it merges), a
 * call's `signal` (aborting queued and running tasks as `ar.abort()` does,
 * a signal aborted already, no listener left behind). A load-balanced
 * view's `maxQueue` is tests/max_queue_test.ts's.
 *
 * Engines are held busy with latch files (Worker and process engines both
 * see them), never with sleeps.
 */

import assert from "node:assert/strict";
import {
  CompositeError,
  DirectView,
  engineId,
  LoadBalancedView,
  TaskAbortedError,
} from "../mod.ts";
import {
  fileLatch,
  holdUntilFile,
  occupyAll,
  whileBusy,
} from "./file_latch.ts";
import { exists, markRan } from "./markers.ts";
import {
  eachEngineKind,
  errorOf,
  guard,
  range,
  RESTART_AT_ONCE,
  until,
  withClient,
} from "./helpers.ts";

/** How long anything that must not hang may take (never a speed test). */
const HANG_MS = 30_000;

/** A real AbortSignal whose live "abort" listeners are counted. */
function countedSignal(): { controller: AbortController; live(): number } {
  const controller = new AbortController();
  const signal = controller.signal;
  let live = 0;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  const listeners = new Set<unknown>();
  signal.addEventListener = ((type: string, listener: unknown, o?: unknown) => {
    if (type === "abort" && !listeners.has(listener)) {
      listeners.add(listener);
      live++;
    }
    add(type, listener as EventListener, o as AddEventListenerOptions);
  }) as typeof signal.addEventListener;
  signal.removeEventListener =
    ((type: string, listener: unknown, o?: unknown) => {
      if (type === "abort" && listeners.delete(listener)) live--;
      remove(type, listener as EventListener, o as EventListenerOptions);
    }) as typeof signal.removeEventListener;
  return { controller, live: () => live };
}

Deno.test("with(): bad call options are clear TypeErrors", async () => {
  await withClient({ workers: 0 }, (client) => {
    const lv = client.loadBalancedView();
    const dv = client.view();
    const bad: [unknown, RegExp][] = [
      [{ signl: AbortSignal.abort() }, /unknown option "signl".*"signal"/],
      [{ signal: "stop" }, /signal in with options must be an AbortSignal/],
      [{ after: "x" }, /after in with options must be an array/],
      [{ follow: [1] }, /follow\[0\] in with options must be an AsyncResult/],
      [
        { onDependencyFailure: "skip" },
        /onDependencyFailure in with options must be "fail" or "run"/,
      ],
      [null, /with options must be an object, got null/],
    ];
    for (const [options, message] of bad) {
      assert.throws(
        () => lv.with(options as never),
        (e: Error) => e instanceof TypeError && message.test(e.message),
        String(message),
      );
    }
    // dependencies are for load-balanced views
    for (const name of ["after", "follow", "onDependencyFailure"]) {
      const value = name === "onDependencyFailure" ? "run" : [];
      assert.throws(
        () => dv.with({ [name]: value }),
        (e: Error) =>
          e instanceof TypeError &&
          e.message.includes(name) &&
          e.message.includes("dependencies are for load-balanced views"),
      );
    }
    assert.throws(
      () => lv.mapAsync((x: number) => x, [1], { signl: 1 } as never),
      /unknown option "signl" in mapAsync options \(did you mean "signal"\?\)/,
    );
    assert.throws(
      () => lv.mapAsync((x: number) => x, [1], { signal: 1 } as never),
      /signal in mapAsync options must be an AbortSignal/,
    );
    return Promise.resolve();
  });
});

eachEngineKind("Call options", 2, async ({ t, client, dir }) => {
  await t.step(
    "with() keeps the view's kind, engines and options",
    async () => {
      const lv = client.loadBalancedView([1], { retries: 1 });
      const child = lv.with({});
      assert.ok(child instanceof LoadBalancedView);
      assert.notEqual(child, lv);
      assert.equal(child.retries, 1);
      assert.deepEqual(
        await child.mapSync(() => engineId, range(4), { chunkSize: 1 }),
        [1, 1, 1, 1],
      );
      const one = client.view(1).with({});
      assert.ok(one instanceof DirectView);
      assert.equal(one.targets, 1);
      assert.equal(await one.applySync(() => engineId), 1); // unwrapped
      const all = client.view().with({ signal: new AbortController().signal });
      assert.deepEqual(await all.applySync(() => engineId), [0, 1]);
      await all.push({ flowGlobal: 5 });
      assert.deepEqual(await all.pull("flowGlobal"), [5, 5]);
      await all.scatter("flowPart", [1, 2, 3, 4]);
      assert.deepEqual(await all.gather("flowPart"), [1, 2, 3, 4]);
      await all.execute("var flowVar = engineId");
      assert.deepEqual(await all.mapSync((x: number) => x * 2, [1, 2]), [2, 4]);
    },
  );

  await t.step(
    "a signal aborts the call's queued tasks; with(a).with(b): b wins",
    async () => {
      const latch = fileLatch(dir, "queued");
      const ran = `${dir}/queued-ran`;
      const { busy } = await occupyAll(client, latch, HANG_MS);
      const a = new AbortController();
      const b = new AbortController();
      const lv = client.loadBalancedView({ highWaterMark: 1 });
      try {
        const onA = lv.with({ signal: a.signal });
        const onB = onA.with({ signal: b.signal });
        const single = onB.applyAsync(markRan, ran);
        const map = onB.mapAsync(markRan, [`${ran}-1`, `${ran}-2`], {
          chunkSize: 1,
        });
        const kept = onA.applyAsync(() => "kept");
        assert.equal(single.metadata.status, "queued");
        b.abort();
        const e = await errorOf(single, "the aborted task", HANG_MS);
        assert.ok(e instanceof TaskAbortedError, `${e.name}: ${e.message}`);
        assert.equal(e.taskId, single.taskIds[0]);
        assert.equal(single.metadata.status, "aborted");
        const e2 = await errorOf(map, "the aborted map", HANG_MS);
        assert.ok(e2 instanceof CompositeError, String(e2));
        assert.ok(e2.errors.every((x) => x instanceof TaskAbortedError));
        assert.equal(kept.ready(), false, "b's abort reached a's call");
        // the map's own options carry a signal too
        const c = new AbortController();
        const mapped = lv.mapAsync(markRan, [`${ran}-3`], { signal: c.signal });
        c.abort();
        const e3 = await errorOf(mapped, "map with its signal", HANG_MS);
        assert.ok(e3 instanceof CompositeError, String(e3));
        assert.ok(e3.errors.every((x) => x instanceof TaskAbortedError));
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
      for (const path of [ran, `${ran}-1`, `${ran}-2`, `${ran}-3`]) {
        assert.equal(exists(path), false, `${path}: an aborted task ran`);
      }
    },
  );

  await t.step(
    "a signal stops a running task, as ar.abort() does",
    async () => {
      const latch = fileLatch(dir, "running");
      const controller = new AbortController();
      const dv = client.view(0).with({ signal: controller.signal });
      const restarts = client.engines()[0].restarts;
      try {
        const ar = dv.applyAsync(holdUntilFile, latch.path);
        await until(() => ar.data.started === true, "the task runs", HANG_MS);
        controller.abort();
        const e = await errorOf(ar, "the stopped task", HANG_MS);
        assert.ok(e instanceof TaskAbortedError, `${e.name}: ${e.message}`);
        assert.equal(e.engineId, 0);
        assert.equal(ar.metadata.status, "aborted");
      } finally {
        latch.open();
      }
      // a Worker engine is restarted, a process replaces its task thread:
      // both count as one restart (measured), and engine 0 takes tasks again
      await until(
        () =>
          client.engines()[0].restarts > restarts &&
          client.ids.length === 2 && client.engines()[0].load === 0,
        "engine 0 restarted and back",
        HANG_MS,
      );
      assert.equal(client.engines()[0].restarts, restarts + 1);
      assert.equal(await client.view(0).applySync(() => engineId), 0);
    },
  );

  await t.step(
    "a signal aborted already: a failed result, nothing submitted",
    async () => {
      const ran = `${dir}/pre-ran`;
      const signal = AbortSignal.abort(new Error("changed my mind"));
      const lv = client.loadBalancedView().with({ signal });
      const ar = lv.applyAsync(markRan, ran);
      assert.equal(ar.ready(), true);
      const e = await errorOf(ar, "the pre-aborted task", HANG_MS);
      assert.ok(e instanceof TaskAbortedError, `${e.name}: ${e.message}`);
      assert.equal(e.taskId, ar.taskIds[0]);
      assert.equal((e.cause as Error).message, "changed my mind");
      assert.equal(ar.metadata.status, "aborted");
      const map = lv.mapAsync(markRan, [`${ran}-a`, `${ran}-b`], {
        chunkSize: 1,
      });
      const e2 = await errorOf(map, "pre-aborted map", HANG_MS);
      assert.ok(e2 instanceof CompositeError, String(e2));
      assert.equal(e2.errors.length, 2);
      const dv = client.view().with({ signal });
      const e3 = await errorOf(
        dv.push({ never: 1 }),
        "pre-aborted push",
        HANG_MS,
      );
      // A namespace call sent nothing anywhere: one error says so, not
      // one per engine (tests/call_signal_test.ts has the rest).
      assert.ok(e3 instanceof TaskAbortedError, String(e3));
      assert.equal((e3.cause as Error).message, "changed my mind");
      // every call of a direct view carries it
      for (
        const [what, call, one] of [
          ["execute", () => dv.execute("globalThis.never = 1"), true],
          ["scatter", () => dv.scatter("never", [1, 2]), true],
          ["gather", () => dv.gather("flowPart"), true],
          ["mapAsync", () => dv.mapAsync((x: number) => x, [1, 2]), false],
          ["applyAsync", () => dv.applyAsync(() => 1), false],
        ] as const
      ) {
        const e = await errorOf(call(), `pre-aborted ${what}`, HANG_MS);
        if (one) {
          assert.ok(e instanceof TaskAbortedError, `${what}: ${e}`);
          continue;
        }
        assert.ok(e instanceof CompositeError, `${what}: ${e}`);
        assert.ok(
          e.errors.every((x) => x instanceof TaskAbortedError),
          `${what}: ${e.message}`,
        );
      }
      const pulled = await errorOf(
        client.view(0).with({ signal }).pull("never"),
        "pre-aborted pull",
        HANG_MS,
      );
      assert.ok(pulled instanceof TaskAbortedError, String(pulled));
      // nothing ran, nothing was pushed
      await client.loadBalancedView().mapSync(() => 0, range(4), {
        chunkSize: 1,
      });
      for (const path of [ran, `${ran}-a`, `${ran}-b`]) {
        assert.equal(exists(path), false, `${path}: a pre-aborted task ran`);
      }
      assert.deepEqual(
        await client.view().applySync(() => "never" in globalThis),
        [false, false],
      );
    },
  );

  await t.step(
    "one long-lived signal: its listeners are removed as calls finish",
    async () => {
      const { controller, live } = countedSignal();
      const lv = client.loadBalancedView().with({ signal: controller.signal });
      const dv = client.view().with({ signal: controller.signal });
      for (let round = 0; round < 5; round++) {
        const results = range(100).map((i) =>
          lv.applyAsync((x: number) => x, i)
        );
        assert.ok(live() <= 100);
        assert.deepEqual(
          await guard(Promise.all(results), "100 calls", HANG_MS),
          range(100),
        );
        assert.deepEqual(
          await dv.mapSync((x: number) => x, range(10)),
          range(10),
        );
        assert.deepEqual(await dv.applySync(() => 1), [1, 1]);
        assert.equal(live(), 0, `round ${round}: listeners left behind`);
      }
      // the signal still works for the next call
      await whileBusy(client, dir, "live", async () => {
        const ar = client.loadBalancedView({ highWaterMark: 1 })
          .with({ signal: controller.signal }).applyAsync(() => 1);
        assert.equal(live(), 1);
        controller.abort();
        assert.ok(
          (await errorOf(ar, "aborted", HANG_MS)) instanceof TaskAbortedError,
        );
        assert.equal(live(), 0);
      }, HANG_MS);
    },
  );
}, { restart: RESTART_AT_ONCE });
