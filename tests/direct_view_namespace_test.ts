/**
 * DirectView's namespace on real engines, Worker and process: `push` and
 * `pull` (values keep their types, missing names are named, bad arguments
 * are TypeErrors) and `execute` (code that persists, errors that name their
 * line).
 *
 * Each kind of engine gets one `Deno.test` with one client of 2 engines that
 * its steps share, in order: a step may rely on globals an earlier step of
 * this file set (`onlyOn1`), never on another file's.
 */

import assert from "node:assert/strict";
import { CompositeError, engineId, RemoteError } from "../mod.ts";
import { eachEngineKind, errorOf, range } from "./helpers.ts";

/** How long anything that must not hang may take (never a speed test). */
const HANG_MS = 30_000;

/** Engine-side globals used by tasks in this file. */
type G = Record<string, unknown>;

eachEngineKind("DirectView push, pull, execute", 2, async ({ t, client }) => {
  const dv = client.view();

  await t.step("push/pull: values keep their types", async () => {
    const big = Float64Array.from(range(10_000), (i) => i / 4);
    const values = {
      vF64: new Float64Array([1.5, -2.25, Math.PI]),
      vI32: Int32Array.of(-7, 8),
      vU8: new Uint8Array([0, 255]),
      vBigArray: big,
      vMap: new Map<unknown, unknown>([["k", 1], [2, { x: [3] }]]),
      vSet: new Set(["a", 1]),
      vDate: new Date(1_700_000_000_000),
      vBig: 2n ** 70n,
      vUndef: undefined,
      vNull: null,
      vNested: { a: [1, { b: "c" }], when: new Date(0) },
    };
    await dv.push(values);

    // the engines see the types
    const seen = await dv.applySync(() => {
      const g = globalThis as G;
      return [
        g.vF64 instanceof Float64Array,
        g.vI32 instanceof Int32Array,
        g.vU8 instanceof Uint8Array,
        g.vBigArray instanceof Float64Array &&
        (g.vBigArray as Float64Array).length,
        g.vMap instanceof Map && (g.vMap as Map<unknown, unknown>).get(2),
        g.vSet instanceof Set,
        g.vDate instanceof Date && (g.vDate as Date).getTime(),
        typeof g.vBig,
        "vUndef" in g && g.vUndef === undefined,
      ];
    });
    for (const s of seen) {
      assert.deepEqual(s, [
        true,
        true,
        true,
        10_000,
        { x: [3] },
        true,
        1_700_000_000_000,
        "bigint",
        true,
      ]);
    }

    // one name on a multi view: per engine
    for (const [name, value] of Object.entries(values)) {
      const pulled = await dv.pull(name);
      assert.deepEqual(pulled, [value, value], name);
    }
    const f64s = await dv.pull("vF64");
    assert.ok(f64s.every((v) => v instanceof Float64Array));
    const maps = await dv.pull("vMap");
    assert.ok(maps.every((v) => v instanceof Map));

    // one name on a single view: unwrapped
    const one = await client.view(1).pull("vI32");
    assert.ok(one instanceof Int32Array);
    assert.deepEqual(one, values.vI32);
    assert.equal(await client.view(0).pull("vBig"), 2n ** 70n);
    assert.equal(await client.view(0).pull("vUndef"), undefined);
    const date = await client.view(0).pull("vDate");
    assert.ok(date instanceof Date);
    assert.equal(date.getTime(), 1_700_000_000_000);

    // a list of names: an array of values (per engine)
    assert.deepEqual(
      await client.view(0).pull(["vBig", "vNull", "vUndef"]),
      [2n ** 70n, null, undefined],
    );
    assert.deepEqual(await dv.pull(["vDate", "vSet"]), [
      [values.vDate, values.vSet],
      [values.vDate, values.vSet],
    ]);
    assert.deepEqual(await client.view([1, 0]).pull(["vI32"]), [
      [values.vI32],
      [values.vI32],
    ]);

    // pulling a large typed array leaves the engine's own intact
    const back = await client.view(0).pull("vBigArray");
    assert.deepEqual(back, big);
    assert.deepEqual(await client.view(0).pull("vBigArray"), big);
    assert.equal(
      await client.view(0).applySync(() =>
        ((globalThis as G).vBigArray as Float64Array)[9_999]
      ),
      9_999 / 4,
    );
    // and pushing did not detach the client's arrays
    assert.equal(big.length, 10_000);
    assert.equal(values.vF64.length, 3);

    // push sets on the view's engines only; later pushes overwrite
    await client.view(1).push({ onlyOn1: "one", vBig: 5n });
    assert.deepEqual(
      await dv.applySync(() => [
        "onlyOn1" in globalThis,
        (globalThis as G).vBig,
      ]),
      [[false, 2n ** 70n], [true, 5n]],
    );
  });

  await t.step(
    "pull of a missing name: RemoteError / CompositeError naming it",
    async () => {
      const single = await errorOf(
        client.view(0).pull("noSuchName_q7"),
        "single pull",
        HANG_MS,
      );
      assert.ok(single instanceof RemoteError, String(single));
      assert.equal(single.engineId, 0);
      assert.match(single.message, /noSuchName_q7/);

      const multi = await errorOf(
        dv.pull("noSuchName_q7"),
        "multi pull",
        HANG_MS,
      );
      assert.ok(multi instanceof CompositeError, String(multi));
      assert.equal(multi.errors.length, 2);
      assert.match(multi.message, /noSuchName_q7/);
      for (const e of multi.errors) {
        assert.ok(e instanceof RemoteError);
        assert.match(e.message, /noSuchName_q7/);
      }

      // in a list, the missing one is named
      const listed = await errorOf(
        client.view(1).pull(["onlyOn1", "alsoMissing_q7"]),
        "pull of a list",
        HANG_MS,
      );
      assert.ok(listed instanceof RemoteError);
      assert.match(listed.message, /alsoMissing_q7/);

      // present on one engine only: the other one fails, named
      const partial = await errorOf(
        dv.pull("onlyOn1"),
        "partial pull",
        HANG_MS,
      );
      assert.ok(partial instanceof CompositeError, String(partial));
      assert.equal(partial.errors.length, 1);
      assert.equal((partial.errors[0] as RemoteError).engineId, 0);
      assert.match(partial.message, /onlyOn1/);
      assert.match(partial.message, /engine 0/);
      // results hold what pull gives on success: the value, unwrapped
      assert.deepEqual(
        partial.results,
        [undefined, "one"],
        "CompositeError.results of pull(name) are not the values",
      );
    },
  );

  await t.step("push/pull: bad arguments are TypeErrors", async () => {
    for (const bad of [42, "x", null, undefined, [1, 2], true]) {
      await assert.rejects(
        () => dv.push(bad as never),
        TypeError,
        `push(${String(bad)})`,
      );
    }
    await assert.rejects(() => dv.pull([]), TypeError);
    await assert.rejects(() => dv.pull(42 as never), TypeError);
    await assert.rejects(() => dv.pull(["a", 1] as never), TypeError);
    // nothing was pushed
    assert.deepEqual(
      await dv.applySync(() => ["0" in globalThis, "x" in globalThis]),
      [[false, false], [false, false]],
    );
  });

  // ------------------------------------------------------ execute

  await t.step("execute: var and globalThis.y persist", async () => {
    await dv.execute(
      "var execVar = 1;\nglobalThis.execY = 2;\nfunction execFn() { return 3; }",
    );
    assert.deepEqual(await dv.pull("execVar"), [1, 1]);
    assert.deepEqual(await dv.pull(["execVar", "execY"]), [
      [1, 2],
      [1, 2],
    ]);
    // a function declared by execute is callable by later tasks
    assert.deepEqual(
      await dv.applySync(() => ((globalThis as G).execFn as () => number)()),
      [3, 3],
    );
    // later code sees earlier code's variables
    await client.view(1).execute("var execZ = execVar + execY;");
    assert.equal(await client.view(1).pull("execZ"), 3);
    // execute on one engine leaves the other alone
    const e = await errorOf(
      client.view(0).pull("execZ"),
      "execZ on 0",
      HANG_MS,
    );
    assert.ok(e instanceof RemoteError);
    await assert.rejects(() => dv.execute(42 as never), TypeError);
  });

  await t.step(
    "execute: a runtime error is a RemoteError naming the line",
    async () => {
      const code = [
        "var lineA = 1;",
        "var lineB = 2;",
        "null.boom;",
        "var lineD = 4;",
      ].join("\n");
      const e = await errorOf(
        client.view(0).execute(code),
        "execute",
        HANG_MS,
      );
      assert.ok(e instanceof RemoteError, String(e));
      assert.equal(e.remoteName, "TypeError");
      assert.match(e.message, /line 3\b/);
      // what ran before the error stays
      assert.deepEqual(
        await client.view(0).pull(["lineA", "lineB", "lineD"]),
        [1, 2, undefined],
      );

      // an error thrown inside a function: the line of the throw
      const nested = [
        "function inner() {",
        '  throw new Error("deep trouble");',
        "}",
        "inner();",
      ].join("\n");
      const e2 = await errorOf(
        client.view(1).execute(nested),
        "nested",
        HANG_MS,
      );
      assert.ok(e2 instanceof RemoteError, String(e2));
      assert.match(e2.message, /deep trouble/);
      assert.match(e2.message, /line 2\b/);

      // an error on the first line
      const e3 = await errorOf(
        client.view(0).execute("undefinedThing_q7();"),
        "first line",
        HANG_MS,
      );
      assert.ok(e3 instanceof RemoteError);
      assert.equal(e3.remoteName, "ReferenceError");
      assert.match(e3.message, /undefinedThing_q7/);
      assert.match(e3.message, /line 1\b/);

      // on a multi view: a CompositeError, each naming the line
      const e4 = await errorOf(
        dv.execute("var ok4 = 1;\n\nthrow new RangeError('bad4');"),
        "multi execute",
        HANG_MS,
      );
      assert.ok(e4 instanceof CompositeError, String(e4));
      assert.equal(e4.errors.length, 2);
      for (const err of e4.errors) assert.match(err.message, /line 3\b/);
    },
  );

  await t.step("execute: a SyntaxError is a RemoteError", async () => {
    const e = await errorOf(
      client.view(0).execute("var = ;"),
      "syntax error",
      HANG_MS,
    );
    assert.ok(e instanceof RemoteError, String(e));
    assert.equal(e.remoteName, "SyntaxError");
    const multi = await errorOf(
      dv.execute("let let = 1;"),
      "multi",
      HANG_MS,
    );
    assert.ok(multi instanceof CompositeError);
    assert.ok(
      multi.errors.every((e) =>
        e instanceof RemoteError && e.remoteName === "SyntaxError"
      ),
    );
    // the engines are fine afterwards
    assert.deepEqual(await dv.applySync(() => engineId), [0, 1]);

    // if the message names a line, it is the line of the error
    const code = "var fine = 1;\nvar fine2 = 2;\nvar = ;";
    const e2 = await errorOf(
      client.view(1).execute(code),
      "line 3",
      HANG_MS,
    );
    assert.ok(e2 instanceof RemoteError, String(e2));
    assert.equal(e2.remoteName, "SyntaxError");
    const named = /line (\d+)/.exec(e2.message)?.[1];
    assert.ok(
      named === undefined || named === "3",
      `a SyntaxError on line 3 of 3 is reported as: ${e2.message}`,
    );
  });
});
