/**
 * DirectView's `map` on real engines, Worker and process: one or several
 * sequences (typed arrays too) split in a few contiguous chunks per engine,
 * iteration and progress by item, failing items, async mapping functions,
 * and a map on a view of no engine.
 *
 * Each kind of engine gets one `Deno.test` with one client of 2 engines that
 * its steps share. An item is held on its engine with a latch file (Worker
 * and process engines both see it), never with a sleep.
 */

import assert from "node:assert/strict";
import { AsyncResult, CompositeError, engineId, RemoteError } from "../mod.ts";
import { fileLatch, waitThen } from "./file_latch.ts";
import { eachEngineKind, errorOf, guard, range, until } from "./helpers.ts";

/** How long anything that must not hang may take (never a speed test). */
const HANG_MS = 30_000;

/** Engine-side globals used by tasks in this file. */
type G = Record<string, unknown>;

eachEngineKind("DirectView map", 2, async ({ t, client, dir }) => {
  const dv = client.view();

  await t.step("map: one sequence, in order", async () => {
    assert.deepEqual(
      await dv.mapSync((x: number) => x * 2, range(10)),
      range(10).map((x) => x * 2),
    );
    // contiguous parts in target order: the first items on engine 1
    assert.deepEqual(
      await client.view([1, 0]).mapSync(
        (x: number) => [x, engineId],
        range(4),
      ),
      [[0, 1], [1, 1], [2, 0], [3, 0]],
    );
    // a single-engine view maps to an array too
    const single = await client.view(1).mapSync(
      (x: string) => x.toUpperCase(),
      ["a", "b"],
    );
    assert.deepEqual(single, ["A", "B"]);
    // fewer items than engines
    assert.deepEqual(await dv.mapSync((x: number) => x + 1, [41]), [42]);
    // the mapping function is called once per item
    await dv.push({ mapCalls: 0 });
    await dv.mapSync(() => {
      (globalThis as G).mapCalls = ((globalThis as G).mapCalls as number) +
        1;
    }, range(9));
    const counts = await dv.pull("mapCalls");
    assert.equal((counts[0] as number) + (counts[1] as number), 9);
  });

  await t.step("map: two sequences zip; typed arrays", async () => {
    assert.deepEqual(
      await dv.mapSync(
        (a: number, b: string) => `${b}${a}`,
        [1, 2, 3, 4, 5],
        ["a", "b", "c", "d", "e"],
      ),
      ["a1", "b2", "c3", "d4", "e5"],
    );
    assert.deepEqual(
      await dv.mapSync(
        (a: number, b: number, c: number) => a * b + c,
        new Int32Array([1, 2, 3]),
        new Float64Array([0.5, 0.5, 0.5]),
        [10, 20, 30],
      ),
      [10.5, 21, 31.5],
    );
    // a typed array's items arrive as numbers
    assert.deepEqual(
      await dv.mapSync(
        (x: number) => [typeof x, x],
        new Float64Array([1.5, 2.5, 3.5]),
      ),
      [["number", 1.5], ["number", 2.5], ["number", 3.5]],
    );
    assert.deepEqual(
      await dv.mapSync(
        (x: bigint) => typeof x,
        new BigInt64Array([1n, 2n]),
      ),
      ["bigint", "bigint"],
    );
  });

  await t.step("map: empty, unequal, missing sequences", async () => {
    const empty = dv.mapAsync((x: number) => x, []);
    assert.deepEqual(await guard(empty, "empty map", HANG_MS), []);
    assert.equal(empty.progress, 0);
    assert.equal(empty.ready(), true);
    assert.deepEqual(
      await dv.mapSync((a: number, b: number) => a + b, [], []),
      [],
    );
    assert.deepEqual(
      await dv.mapSync((x: number) => x, new Float64Array(0)),
      [],
    );

    assert.throws(
      () => dv.mapAsync((a: number, b: number) => a + b, [1, 2], [1]),
      RangeError,
    );
    assert.throws(
      () => dv.mapSync((a: number, b: number) => a + b, [1], [1, 2]),
      RangeError,
    );
    // @ts-expect-error: a map needs a sequence (checked at run time too)
    assert.throws(() => dv.mapAsync((x: number) => x), TypeError);
    // @ts-expect-error: a map needs a sequence (checked at run time too)
    assert.throws(() => dv.mapSync((x: number) => x), TypeError);
    for (const bad of [5, "abc", { a: 1 }, null]) {
      assert.throws(
        () => dv.mapAsync((x: number) => x, bad as never),
        TypeError,
        `map over ${Deno.inspect(bad)}`,
      );
    }
    assert.throws(
      () => dv.mapAsync("not a function" as never, [1]),
      TypeError,
    );
  });

  await t.step(
    "map: 100,000 tiny items in a few tasks per engine",
    async () => {
      const n = 100_000;
      const ar = dv.mapAsync((x: number) => x * 2 + 1, range(n));
      assert.ok(
        ar.taskIds.length <= 4 * 2,
        `${ar.taskIds.length} tasks for ${n} items`,
      );
      assert.equal(new Set(ar.taskIds).size, ar.taskIds.length);
      const values = await guard(ar, "100,000 items", HANG_MS);
      assert.equal(values.length, n);
      for (let i = 0; i < n; i++) {
        if (values[i] !== i * 2 + 1) {
          assert.fail(`item ${i}: ${values[i]}`);
        }
      }
      assert.equal(ar.progress, n);
      assert.deepEqual(
        [...new Set(ar.engineIds)].toSorted(),
        [0, 1],
        "both engines took part",
      );

      // a typed array of 100,000 too
      const f = Float64Array.from(range(n), (i) => i / 2);
      const ar2 = dv.mapAsync((x: number) => x * 2, f);
      assert.ok(ar2.taskIds.length <= 4 * 2);
      const v2 = await guard(ar2, "100,000 typed items", HANG_MS);
      assert.equal(v2.length, n);
      assert.equal(v2[n - 1], n - 1);
      assert.equal(v2[12_345], 12_345);
    },
  );

  await t.step(
    "map: for await gives every item in order; progress counts items",
    async () => {
      const n = 5_000;
      const ar = dv.mapAsync((x: number) => x * 3, range(n));
      assert.ok(ar instanceof AsyncResult);
      let i = 0;
      await guard(
        (async () => {
          for await (const v of ar) {
            if (v !== i * 3) assert.fail(`item ${i} gave ${v}`);
            if (ar.progress < i + 1 || ar.progress > n) {
              assert.fail(`progress ${ar.progress} at item ${i}`);
            }
            i++;
          }
        })(),
        "iterating the map",
        HANG_MS,
      );
      assert.equal(i, n);
      assert.equal(ar.progress, n);
      assert.equal(ar.ready(), true);
      assert.equal(ar.successful(), true);
      assert.deepEqual(await ar, range(n).map((x) => x * 3));
      // iterating again gives them again
      const again: unknown[] = [];
      for await (const v of ar) again.push(v);
      assert.equal(again.length, n);
      // an apply iterates per engine, in target order
      const perEngine: unknown[] = [];
      const applied = client.view([1, 0]).applyAsync(() => engineId);
      for await (const v of applied) perEngine.push(v);
      assert.deepEqual(perEngine, [1, 0]);

      // progress moves by items while a map runs: hold engine 0
      const latch = fileLatch(dir, "map-progress");
      const held = client.view([1, 0]).mapAsync(
        waitThen,
        [
          ...range(6).map((v) => ({ v })),
          { wait: latch.path, v: 6 },
          ...range(5).map((v) => ({ v: v + 7 })),
        ],
      );
      const streamed: unknown[] = [];
      const streaming = (async () => {
        for await (const v of held) streamed.push(v);
      })();
      try {
        // engine 1 has items 0-5, engine 0 items 6-11 (6 waits)
        await until(
          () => held.progress === 6,
          "engine 1's items",
          HANG_MS,
        );
        assert.equal(held.ready(), false);
        // iteration gives them before the map is done
        await until(
          () => streamed.length === 6,
          "6 items streamed",
          HANG_MS,
        );
        assert.deepEqual(streamed, range(6));
      } finally {
        latch.open();
        await guard(streaming, "streaming the held map", HANG_MS);
      }
      assert.deepEqual(streamed, range(12));
      assert.deepEqual(await guard(held, "held map", HANG_MS), range(12));
      assert.equal(held.progress, 12);
    },
  );

  await t.step(
    "map: an item that throws fails the map with a CompositeError",
    async () => {
      const n = 40;
      const fails = (x: number) => {
        if (x === 13) throw new RangeError(`item ${x} is unlucky`);
        return x;
      };
      const ar = dv.mapAsync(fails, range(n));
      const e = await errorOf(ar, "the failing map", HANG_MS);
      assert.ok(e instanceof CompositeError, String(e));
      assert.equal(e.errors.length, 1);
      const [cause] = e.errors;
      assert.ok(cause instanceof RemoteError, String(cause));
      assert.equal(cause.remoteName, "RangeError");
      assert.match(cause.remoteMessage, /item 13 is unlucky/);
      assert.equal(cause.engineId, 0);
      assert.match(e.message, /item 13 is unlucky/);
      assert.match(e.message, /engine 0\b/);
      assert.equal(ar.successful(), false);
      assert.equal(ar.progress, n, "every item is finished");

      // iteration gives the items before it, then throws
      const seen: unknown[] = [];
      let thrown: unknown;
      try {
        for await (const v of ar) seen.push(v);
      } catch (error) {
        thrown = error;
      }
      assert.ok(thrown instanceof RemoteError, String(thrown));
      assert.match(thrown.message, /item 13 is unlucky/);
      assert.ok(seen.length <= 13, `${seen.length} items before 13`);
      assert.deepEqual(seen, range(seen.length));

      // an async item that rejects, on one engine
      const e2 = await errorOf(
        client.view(1).mapAsync(async (x: number) => {
          await Promise.resolve();
          if (x === 2) throw new Error("async item failed");
          return x;
        }, range(5)),
        "async failing map",
        HANG_MS,
      );
      assert.ok(e2 instanceof CompositeError);
      assert.match(e2.message, /async item failed/);

      // the results keep every item that succeeded, in its place
      // (the failed chunk, items 10-14 of engine 0's 4 chunks, is lost)
      assert.equal(
        e.results.length,
        n,
        "CompositeError.results of a map lost the failed chunk's slots",
      );
      assert.deepEqual(
        e.results,
        range(n).map((x) => (x >= 10 && x < 15 ? undefined : x)),
      );
      // its message does not count items as engines
      const count = /(\d+) of (\d+) engines failed/.exec(e.message);
      assert.ok(
        count === null || Number(count[2]) <= 2,
        `a map on 2 engines says: ${e.message.split("\n")[0]}`,
      );
    },
  );

  await t.step("map: async mapping functions are awaited", async () => {
    const values = await dv.mapSync(async (x: number) => {
      await new Promise((r) => setTimeout(r, 1));
      return x * 10;
    }, range(20));
    assert.deepEqual(values, range(20).map((x) => x * 10));
    // a thenable that is not a Promise is awaited too
    assert.deepEqual(
      await dv.mapSync(
        (x: number) => ({
          then: (resolve: (v: number) => void) => resolve(x + 1),
        }),
        [1, 2, 3],
      ),
      [2, 3, 4],
    );
  });

  await t.step("a map on view([]) does not drop its items", async () => {
    let mapped: unknown;
    try {
      mapped = await guard(
        client.view([]).mapAsync((x: number) => x, [1, 2, 3]),
        "map on view([])",
        HANG_MS,
      );
    } catch (error) {
      // refusing (at once or by rejecting) is fine; hanging is not
      assert.doesNotMatch(String(error), /hang guard/);
      return;
    }
    assert.fail(
      `view([]).mapAsync(fn, [1, 2, 3]) resolved to ` +
        `${Deno.inspect(mapped)}: the items were dropped`,
    );
  });
});
