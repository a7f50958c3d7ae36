/**
 * LoadBalancedView on real engines, Worker and process: one value per
 * apply, tasks spread over free engines, maps in chunks (ordered or in
 * completion order), failing items, a view of some engines, and options
 * checked at once. Deadlines, abort and retries are in
 * load_balanced_retries_test.ts.
 *
 * Each kind of engine gets one `Deno.test` with one client of 2 engines that
 * its steps share. An item is held on its engine with a latch file (Worker
 * and process engines both see it), never with a sleep.
 */

import assert from "node:assert/strict";
import {
  CompositeError,
  engineId,
  LoadBalancedView,
  publishData,
  RemoteError,
} from "../mod.ts";
import { fileLatch, waitThen } from "./file_latch.ts";
import {
  eachEngineKind,
  errorOf,
  guard,
  range,
  sleep,
  until,
  withClient,
} from "./helpers.ts";

/** How long anything that must not hang may take (never a speed test). */
const HANG_MS = 30_000;

eachEngineKind("LoadBalancedView", 2, async ({ t, client, dir }) => {
  const lv = client.loadBalancedView();
  assert.ok(lv instanceof LoadBalancedView);

  await t.step("LB applyAsync gives one value", async () => {
    const ar = lv.applyAsync((a: number, b: number) => a * b, 6, 7);
    const v = await guard(ar, "LB apply", HANG_MS);
    assert.equal(v, 42);
    assert.equal(await lv.applySync((s: string) => s + "!", "hi"), "hi!");
    assert.equal(await lv.applyAsync(() => undefined), undefined);
    assert.deepEqual(await lv.applyAsync(() => [1, 2]), [1, 2]);
    // metadata and data are not per engine either
    assert.ok(!Array.isArray(ar.metadata));
    assert.ok([0, 1].includes(ar.metadata.engineId));
    assert.deepEqual(ar.engineIds, [ar.metadata.engineId]);
    assert.equal(ar.taskIds.length, 1);
    const pub = lv.applyAsync(() => {
      publishData({ where: engineId });
      return engineId;
    });
    const where = await pub;
    assert.deepEqual(pub.data, { where });
    // iterating an LB apply gives its one value
    const once: unknown[] = [];
    for await (const v of lv.applyAsync((x: number) => x, 7)) {
      once.push(v);
    }
    assert.deepEqual(once, [7]);
    // a throwing task: its RemoteError, not a CompositeError
    const e = await errorOf(
      lv.applyAsync(() => {
        throw new SyntaxError("lb says no");
      }),
      "LB error",
      HANG_MS,
    );
    assert.ok(e instanceof RemoteError, String(e));
    assert.equal(e.remoteName, "SyntaxError");
    // what cannot be shipped is a TypeError at once
    assert.throws(() => lv.applyAsync(Math.max), TypeError);
    assert.throws(
      () => lv.applyAsync(42 as unknown as () => void),
      TypeError,
    );
  });

  await t.step("LB tasks are spread over the engines", async () => {
    const ars = range(20).map(() =>
      lv.applyAsync(async () => {
        await new Promise((r) => setTimeout(r, 20));
        return engineId;
      })
    );
    const ids = await guard(Promise.all(ars), "20 LB tasks", HANG_MS);
    assert.deepEqual([...new Set(ids)].toSorted(), [0, 1]);
    ars.forEach((ar, i) => {
      assert.equal(ar.metadata.engineId, ids[i]);
      assert.equal(ar.metadata.status, "ok");
    });
    // at most one at a time per engine: the first two went apart
    assert.notEqual(ids[0], ids[1]);
  });

  await t.step("LB mapSync: default chunks, chunkSize 1", async () => {
    const square = (x: number) => x * x;
    const ar = lv.mapAsync(square, range(1000));
    assert.ok(ar.taskIds.length > 1, "split into several tasks");
    assert.ok(ar.taskIds.length <= 8 * 2, `${ar.taskIds.length} tasks`);
    assert.deepEqual(
      await guard(ar, "default map", HANG_MS),
      range(1000).map(square),
    );
    assert.equal(ar.progress, 1000);

    const one = lv.mapAsync(square, range(10), { chunkSize: 1 });
    assert.equal(one.taskIds.length, 10);
    assert.deepEqual(await one, range(10).map(square));
    assert.equal(one.progress, 10);

    const three = lv.mapAsync(square, range(10), { chunkSize: 3 });
    assert.equal(three.taskIds.length, 4);
    assert.deepEqual(await three, range(10).map(square));

    assert.deepEqual(await lv.mapSync(square, []), []);
    assert.deepEqual(
      await lv.mapSync(
        (x: number) => x / 2,
        new Float32Array([1, 2, 3]),
        { chunkSize: 2 },
      ),
      [0.5, 1, 1.5],
    );
    assert.deepEqual(
      await lv.mapSync(async (x: number) => {
        await Promise.resolve();
        return -x;
      }, [1, 2, 3]),
      [-1, -2, -3],
    );
  });

  await t.step(
    "LB map ordered: false iterates in completion order",
    async () => {
      const latch = fileLatch(dir, "unordered");
      // item 0 holds one engine; items 1-5 then run on the other
      const items = [
        { wait: latch.path, v: 0 },
        ...range(5).map((i) => ({
          v: i + 1,
        })),
      ];
      const ar = lv.mapAsync(waitThen, items, {
        chunkSize: 1,
        ordered: false,
      });
      const seen: unknown[] = [];
      const iterating = (async () => {
        for await (const v of ar) seen.push(v);
      })();
      try {
        await until(() => seen.length === 5, "5 items iterated", HANG_MS);
        assert.deepEqual(seen, [1, 2, 3, 4, 5]);
        assert.equal(ar.progress, 5);
      } finally {
        latch.open();
        await guard(iterating, "unordered iteration", HANG_MS);
      }
      assert.deepEqual(seen, [1, 2, 3, 4, 5, 0]);
      // the result itself is in input order
      assert.deepEqual(await ar, [0, 1, 2, 3, 4, 5]);

      // ordered (the default): nothing before item 0
      const latch2 = fileLatch(dir, "ordered");
      const items2 = [
        { wait: latch2.path, v: 0 },
        ...range(5).map((
          i,
        ) => ({ v: i + 1 })),
      ];
      const ar2 = lv.mapAsync(waitThen, items2, { chunkSize: 1 });
      const seen2: unknown[] = [];
      const iterating2 = (async () => {
        for await (const v of ar2) seen2.push(v);
      })();
      try {
        await until(() => ar2.progress === 5, "5 items done", HANG_MS);
        await sleep(50);
        assert.deepEqual(seen2, [], "ordered iteration ran ahead");
      } finally {
        latch2.open();
        await guard(iterating2, "ordered iteration", HANG_MS);
      }
      assert.deepEqual(seen2, [0, 1, 2, 3, 4, 5]);
    },
  );

  await t.step("LB map: 100,000 items in few tasks", async () => {
    const n = 100_000;
    const ar = lv.mapAsync((x: number) => x - 1, range(n));
    assert.ok(ar.taskIds.length <= 100, `${ar.taskIds.length} tasks`);
    const values = await guard(ar, "100,000 LB items", HANG_MS);
    assert.equal(values.length, n);
    for (let i = 0; i < n; i++) {
      if (values[i] !== i - 1) assert.fail(`item ${i}: ${values[i]}`);
    }
    assert.equal(ar.progress, n);
    // with ordered: false, every item still arrives once
    const un = lv.mapAsync((x: number) => x, range(n), {
      ordered: false,
    });
    const got: number[] = [];
    await guard(
      (async () => {
        for await (const v of un) got.push(v as number);
      })(),
      "unordered 100,000",
      HANG_MS,
    );
    assert.equal(got.length, n);
    assert.deepEqual(got.toSorted((a, b) => a - b), range(n));
  });

  await t.step("LB map: an item error is a CompositeError", async () => {
    const ar = lv.mapAsync(
      (x: number) => {
        if (x === 3) throw new Error("lb item 3");
        return x;
      },
      range(8),
      { chunkSize: 2 },
    );
    const e = await errorOf(ar, "LB failing map", HANG_MS);
    // in order, iteration gives items 0 and 1, then throws
    const seen: unknown[] = [];
    await assert.rejects(
      async () => {
        for await (const v of ar) seen.push(v);
      },
      (error: unknown) =>
        error instanceof RemoteError && /lb item 3/.test(error.message),
    );
    assert.deepEqual(seen, [0, 1]);
    assert.equal(ar.progress, 8);
    assert.ok(e instanceof CompositeError, String(e));
    assert.equal(e.errors.length, 1);
    assert.ok(e.errors[0] instanceof RemoteError);
    assert.match(e.message, /lb item 3/);
    assert.deepEqual(
      e.results,
      [0, 1, undefined, undefined, 4, 5, 6, 7],
      "CompositeError.results of a map lost the failed chunk's slots",
    );
  });

  await t.step("loadBalancedView([1]) only uses engine 1", async () => {
    const lv1 = client.loadBalancedView([1]);
    const ars = range(8).map(() => lv1.applyAsync(() => engineId));
    assert.deepEqual(await Promise.all(ars), range(8).map(() => 1));
    const m = lv1.mapAsync((x: number) => [x, engineId], range(6), {
      chunkSize: 1,
    });
    assert.deepEqual(await m, range(6).map((x) => [x, 1]));
    assert.deepEqual(m.engineIds, range(6).map(() => 1));
  });

  await t.step("LB: invalid options are RangeErrors", async () => {
    assert.throws(() => client.loadBalancedView([99]), RangeError);
    assert.throws(() => client.loadBalancedView([0, 99]), RangeError);
    for (
      const bad of [
        { retries: -1 },
        { retries: 1.5 },
        { retries: NaN },
        { timeoutMs: -5 },
        { timeoutMs: NaN },
      ]
    ) {
      assert.throws(
        () => client.loadBalancedView(bad),
        RangeError,
        JSON.stringify(bad),
      );
      assert.throws(
        () => client.loadBalancedView([0], bad),
        RangeError,
        JSON.stringify(bad),
      );
    }
    const view = client.loadBalancedView({ retries: 2, timeoutMs: 500 });
    assert.equal(view.retries, 2);
    assert.equal(view.timeoutMs, 500);
    assert.throws(() => (view.retries = -1), RangeError);
    assert.throws(() => (view.timeoutMs = -1), RangeError);
    assert.equal(view.retries, 2, "a rejected setting is not kept");
    assert.equal(view.timeoutMs, 500);
    view.retries = 0;
    view.timeoutMs = undefined;
    assert.equal(view.retries, 0);
    assert.equal(view.timeoutMs, undefined);
    assert.equal(await view.applySync(() => 1), 1);
    for (const chunkSize of [0, -1, 1.5, NaN]) {
      assert.throws(
        () => lv.mapAsync((x: number) => x, [1, 2], { chunkSize }),
        RangeError,
        `chunkSize ${chunkSize}`,
      );
    }
    assert.throws(
      () => lv.mapAsync((x: number) => x, 5 as never),
      TypeError,
    );
  });

  await t.step("loadBalancedView([]) is refused at once", () => {
    // a view that can never run anything: its tasks would wait forever
    assert.throws(() => client.loadBalancedView([]), RangeError);
    assert.throws(
      () => client.loadBalancedView([], { retries: 1 }),
      RangeError,
    );
  });
});

Deno.test("load-balanced maps zip several sequences; a last plain object is the options", async (t) => {
  await withClient({ workers: 2 }, async (client) => {
    const lv = client.loadBalancedView();
    const add = (a: number, b: number) => a + b;

    await t.step("mapSync(f, seqA, seqB) calls f(a[i], b[i])", async () => {
      assert.deepEqual(
        await guard(lv.mapSync(add, [1, 2, 3], [10, 20, 30]), "mapSync"),
        [11, 22, 33],
      );
    });

    await t.step("three sequences of any kind, then options", async () => {
      const ar = lv.mapAsync(
        (a: number, b: number, c: string) => `${a * b}${c}`,
        range(5),
        new Int16Array([5, 4, 3, 2, 1]),
        ["a", "b", "c", "d", "e"],
        { chunkSize: 2, ordered: false },
      );
      assert.equal(ar.taskIds.length, 3, "5 items in chunks of 2");
      assert.deepEqual(await guard(ar, "mapAsync"), [
        "0a",
        "4b",
        "6c",
        "6d",
        "4e",
      ]);
      assert.equal(ar.progress, 5);
    });

    await t.step(
      "options made with Object.create(null) are options",
      async () => {
        const options = Object.assign(Object.create(null), { chunkSize: 1 });
        const ar = lv.mapAsync(add, [1, 2], [3, 4], options);
        assert.equal(ar.taskIds.length, 2);
        assert.deepEqual(await guard(ar, "mapAsync"), [4, 6]);
      },
    );

    await t.step("sequences of unequal length are a RangeError", () => {
      assert.throws(
        () => lv.mapAsync(add, [1, 2], [1], { chunkSize: 1 }),
        /map's sequences must be of equal length, got 2, 1/,
      );
    });

    await t.step(
      "anything last that is not a plain object is a sequence",
      () => {
        class Options {
          chunkSize = 1;
        }
        const notOptions: unknown[] = [
          { length: 2, 0: 1, 1: 2 }, // array-like
          { [Symbol.iterator]: () => [][Symbol.iterator]() }, // iterable
          new Options(), // a class instance
          new Map([["chunkSize", 1]]),
        ];
        for (const last of notOptions) {
          assert.throws(
            () => lv.mapAsync(add, [1, 2], last as never),
            /map takes an array or a typed array/,
            `${Deno.inspect(last)} taken for options`,
          );
        }
      },
    );
  });
});
