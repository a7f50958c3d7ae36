/**
 * DirectView's `scatter` and `gather` on real engines, Worker and process:
 * contiguous parts in target order, typed arrays that stay typed, and errors
 * that name the engine or the name at fault.
 *
 * Each kind of engine gets one `Deno.test` with one client of 2 engines that
 * its steps share.
 */

import assert from "node:assert/strict";
import { eachEngineKind, errorOf, range } from "./helpers.ts";

/** How long anything that must not hang may take (never a speed test). */
const HANG_MS = 30_000;

/** Engine-side globals used by tasks in this file. */
type G = Record<string, unknown>;

eachEngineKind("DirectView scatter and gather", 2, async ({ t, client }) => {
  const dv = client.view();

  await t.step(
    "scatter: contiguous parts in target order; gather joins them",
    async () => {
      const seq = ["a", "b", "c", "d", "e", "f", "g"];
      await dv.scatter("part", seq);
      assert.deepEqual(await client.view(0).pull("part"), [
        "a",
        "b",
        "c",
        "d",
      ]);
      assert.deepEqual(await client.view(1).pull("part"), [
        "e",
        "f",
        "g",
      ]);
      const gathered = await dv.gather("part");
      assert.ok(Array.isArray(gathered));
      assert.deepEqual(gathered, seq);

      // targets [1, 0]: the first part goes to engine 1
      const rev = client.view([1, 0]);
      await rev.scatter("rpart", [1, 2, 3, 4, 5]);
      assert.deepEqual(await client.view(1).pull("rpart"), [1, 2, 3]);
      assert.deepEqual(await client.view(0).pull("rpart"), [4, 5]);
      assert.deepEqual(await rev.gather("rpart"), [1, 2, 3, 4, 5]);
      assert.deepEqual(await dv.gather("rpart"), [4, 5, 1, 2, 3]);

      // a single-engine view takes it all; gather gives an array
      await client.view(1).scatter("whole", [7, 8]);
      assert.deepEqual(await client.view(1).pull("whole"), [7, 8]);
      assert.deepEqual(await client.view(1).gather("whole"), [7, 8]);

      // fewer items than engines, and none
      await dv.scatter("tiny", [9]);
      assert.deepEqual(await dv.pull("tiny"), [[9], []]);
      assert.deepEqual(await dv.gather("tiny"), [9]);
      await dv.scatter("none", []);
      assert.deepEqual(await dv.pull("none"), [[], []]);
      assert.deepEqual(await dv.gather("none"), []);

      // objects keep their types inside the parts
      const rich = [new Date(5), new Map([[1, 2]]), 3n, undefined];
      await dv.scatter("rich", rich);
      const back = await dv.gather("rich");
      assert.deepEqual(back, rich);
      assert.ok((back as unknown[])[0] instanceof Date);
    },
  );

  await t.step("scatter/gather of typed arrays", async () => {
    const f64 = Float64Array.from(range(7), (i) => i + 0.5);
    await dv.scatter("f", f64);
    const p0 = await client.view(0).pull("f");
    const p1 = await client.view(1).pull("f");
    assert.ok(p0 instanceof Float64Array, String(p0));
    assert.ok(p1 instanceof Float64Array, String(p1));
    assert.deepEqual(p0, new Float64Array([0.5, 1.5, 2.5, 3.5]));
    assert.deepEqual(p1, new Float64Array([4.5, 5.5, 6.5]));
    const g = await dv.gather("f");
    assert.ok(g instanceof Float64Array, String(g));
    assert.deepEqual(g, f64);

    // large: past the size where arrays travel boxed
    const big = Int32Array.from(range(100_001), (i) => i * 3);
    await dv.scatter("bigPart", big);
    assert.deepEqual(
      await dv.applySync(() => {
        const p = (globalThis as G).bigPart as Int32Array;
        return [p instanceof Int32Array, p.length, p[0]];
      }),
      [[true, 50_001, 0], [true, 50_000, 50_001 * 3]],
    );
    const gathered = await dv.gather("bigPart");
    assert.ok(gathered instanceof Int32Array);
    assert.deepEqual(gathered, big);
    assert.equal(big.length, 100_001, "scatter detached the input");

    // parts of different types gather into a plain array
    await client.view(0).push({ mixed: new Float64Array([1, 2]) });
    await client.view(1).push({ mixed: [3, 4] });
    assert.deepEqual(await dv.gather("mixed"), [1, 2, 3, 4]);
  });

  await t.step("scatter of a non-sequence is a TypeError", async () => {
    const bad: unknown[] = [
      42,
      "abc",
      { length: 2, 0: "a", 1: "b" },
      { a: 1 },
      null,
      undefined,
      new Set([1]),
      new DataView(new ArrayBuffer(4)),
    ];
    for (const value of bad) {
      await assert.rejects(
        () => dv.scatter("bad", value as never),
        TypeError,
        `scatter(${Deno.inspect(value)})`,
      );
    }
    // nothing was set
    assert.deepEqual(
      await dv.applySync(() => "bad" in globalThis),
      [false, false],
    );
  });

  await t.step(
    "gather of something that is not an array names the engine",
    async () => {
      await client.view(0).push({ notArr: [1, 2] });
      await client.view(1).push({ notArr: 5 });
      const e = await errorOf(
        dv.gather("notArr"),
        "gather notArr",
        HANG_MS,
      );
      assert.match(e.message, /engine 1\b/);
      assert.match(e.message, /notArr/);
      assert.doesNotMatch(e.message, /engine 0\b/);

      await client.view(0).push({ strPart: "abc" });
      await client.view(1).push({ strPart: ["d"] });
      const e2 = await errorOf(
        dv.gather("strPart"),
        "gather strPart",
        HANG_MS,
      );
      assert.match(e2.message, /engine 0\b/);

      // a name missing on the engines: it is named
      const e3 = await errorOf(
        dv.gather("missingPart_q7"),
        "missing",
        HANG_MS,
      );
      assert.match(e3.message, /missingPart_q7/);
    },
  );
});
