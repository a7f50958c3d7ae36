/**
 * The view API against real engines, on Worker engines and on process
 * engines: DirectView's push, pull, execute, scatter, gather and map;
 * LoadBalancedView's apply, map, retries, start deadlines and abort; module
 * tasks; and the types that flow from a task function to its result.
 *
 * Each kind of engine gets one `Deno.test` with one client of 2 engines that
 * its steps share. Steps only rely on engine globals they set themselves.
 * Engines are held busy with latches (a file that the test creates, which
 * Worker and process engines both see), never with sleeps that race the
 * test's own timers; the only timings are generous hang guards. Engine
 * deaths are `Deno.exit(1)` in a task, with a marker file where a task must
 * die only once (globals are lost when an engine restarts).
 *
 * This file is type-checked: the `@ts-expect-error` lines are part of the
 * test (an unused one is a type error).
 */

import assert from "node:assert/strict";
import {
  AsyncResult,
  type Client,
  CompositeError,
  EngineError,
  engineId,
  LoadBalancedView,
  moduleFunction,
  publishData,
  RemoteError,
  TaskAbortedError,
  TimeoutError,
} from "../mod.ts";
import type * as tasks from "./fixtures/tasks.ts";
import { errorOf, guard, range, sleep, until, withClient } from "./helpers.ts";

// ---------------------------------------------------------------- helpers

/** How long anything that must not hang may take (never a speed test). */
const HANG_MS = 30_000;

/** Whether a file exists, for markers that tasks leave behind. */
function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * A latch in the file system: tasks wait until the file exists. Worker and
 * process engines both see it (a SharedArrayBuffer cannot reach a process).
 */
function fileLatch(dir: string, name: string) {
  const path = `${dir}/${name}`;
  return { path, open: () => Deno.writeTextFileSync(path, "open") };
}

/**
 * A task that waits, without blocking its engine, until the latch file
 * exists (capped at 25 s so that a broken test cannot hold an engine).
 */
const waitForFile = async (path: string) => {
  const end = Date.now() + 25_000;
  for (;;) {
    try {
      Deno.statSync(path);
      return "released";
    } catch {
      // not yet
    }
    if (Date.now() > end) return "latch never opened";
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
};

/**
 * A map task that returns `x.v`, first waiting (without blocking its
 * engine, capped at 25 s) for the latch file `x.wait` if it names one: one
 * item holds its engine while the others run.
 */
const waitThen = async (x: { wait?: string; v: number }) => {
  if (x.wait) {
    const end = Date.now() + 25_000;
    for (;;) {
      try {
        Deno.statSync(x.wait);
        break;
      } catch {
        if (Date.now() > end) break;
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  }
  return x.v;
};

/** A task that leaves a marker file: proof that it ran. */
const markRan = (path: string) => {
  Deno.writeTextFileSync(path, `ran on engine ${engineId}`);
  return "ran";
};

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

/**
 * Occupies both engines with direct tasks held by a latch. The result comes
 * boxed: an async function would await an AsyncResult that it returned.
 */
async function occupyAll(client: Client, latch: { path: string }) {
  const ar = client.view().applyAsync(waitForFile, latch.path);
  await until(
    () => client.engines().every((e) => e.load > 0),
    "both engines busy",
    HANG_MS,
  );
  return { busy: ar };
}

/** Engine-side globals used by tasks in this file. */
type G = Record<string, unknown>;

const HOW = {
  worker: { workers: 2 },
  process: { workers: 0, processes: 2 },
} as const;

// ------------------------------------------------------- the view API

for (const kind of ["worker", "process"] as const) {
  Deno.test(`views on 2 ${kind} engines`, async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "troupe_views_" });
    try {
      await withClient({
        ...HOW[kind],
        restart: {
          maxRestarts: 100,
          withinMs: 60_000,
          backoffMs: 1,
          maxBackoffMs: 5,
        },
      }, async (client) => {
        assert.deepEqual(client.ids, [0, 1]);
        assert.deepEqual(client.engines().map((e) => e.kind), [kind, kind]);
        const dv = client.view();

        // ------------------------------------------------ push and pull

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
            await dv.applySync(() =>
              ((globalThis as G).execFn as () => number)()
            ),
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

        // ---------------------------------------------- scatter and gather

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

        // ------------------------------------------------ DirectView map

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
            (globalThis as G).mapCalls =
              ((globalThis as G).mapCalls as number) +
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

        // ----------------------------------------------- LoadBalancedView

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

        await t.step(
          "LB timeoutMs: a task that cannot start in time fails and never runs",
          async () => {
            const latch = fileLatch(dir, "timeout");
            const ran = `${dir}/timeout-ran`;
            const { busy } = await occupyAll(client, latch);
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
            const { busy } = await occupyAll(client, latch);
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
              await until(() => exists(runs), "the task started", HANG_MS);
              assert.equal(ar.metadata.status, "running");
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

        await t.step("loadBalancedView([]) is refused at once", () => {
          // a view that can never run anything: its tasks would wait forever
          assert.throws(() => client.loadBalancedView([]), RangeError);
          assert.throws(
            () => client.loadBalancedView([], { retries: 1 }),
            RangeError,
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

        // ------------------------------------------------- module tasks

        const url = new URL("./fixtures/tasks.ts", import.meta.url);
        const addOffset = moduleFunction<typeof tasks.addOffset>(
          url,
          "addOffset",
        );

        await t.step(
          "module tasks on direct and LB views, in maps",
          async () => {
            // the result type flows from the module function's type
            const n: number = await client.view(0).applySync(addOffset, 1);
            assert.equal(n, 101);
            const ns: number[] = await dv.applySync(addOffset, 2);
            assert.deepEqual(ns, [102, 102]);
            const lb: number = await lv.applySync(addOffset, 3);
            assert.equal(lb, 103);
            assert.deepEqual(await dv.mapSync(addOffset, range(5)), [
              100,
              101,
              102,
              103,
              104,
            ]);
            assert.deepEqual(
              await lv.mapSync(addOffset, new Int16Array([1, 2, 3]), {
                chunkSize: 1,
              }),
              [101, 102, 103],
            );
            // a URL given as a string works too
            const asString = moduleFunction<typeof tasks.addOffset>(
              url.href,
              "addOffset",
            );
            assert.equal(await client.view(1).applySync(asString, 0), 100);

            const doubleLater = moduleFunction<typeof tasks.doubleLater>(
              url,
              "doubleLater",
            );
            const d: number = await client.view(1).applySync(doubleLater, 21);
            assert.equal(d, 42);
            assert.deepEqual(
              await dv.mapSync(doubleLater, [1, 2, 3]),
              [2, 4, 6],
            );
          },
        );

        await t.step(
          "module tasks: imports, module state, publishData",
          async () => {
            const whereAmI = moduleFunction<typeof tasks.whereAmI>(
              url,
              "whereAmI",
            );
            const ar = dv.applyAsync(whereAmI);
            assert.deepEqual(await ar, ["engine 0", "engine 1"]);
            assert.deepEqual(ar.data, [{ from: 0 }, { from: 1 }]);

            const countCalls = moduleFunction<typeof tasks.countCalls>(
              url,
              "countCalls",
            );
            const view0 = client.view(0);
            const first = await view0.applySync(countCalls);
            assert.equal(await view0.applySync(countCalls), first + 1);
            assert.equal(await view0.applySync(countCalls), first + 2);

            const publishSteps = moduleFunction<typeof tasks.publishSteps>(
              url,
              "publishSteps",
            );
            const steps = client.view(1).applyAsync(publishSteps, 4);
            const seen: unknown[] = [];
            for await (const p of steps.publications()) seen.push(p.data);
            assert.deepEqual(await steps, { engine: 1, sum: 10 });
            assert.deepEqual(steps.data, { step: 4, sum: 10, engine: 1 });
            assert.ok(seen.length >= 1);
            const lbSteps = lv.applyAsync(publishSteps, 2);
            const r = await lbSteps;
            assert.deepEqual(lbSteps.data, {
              step: 2,
              sum: 3,
              engine: r.engine,
            });
          },
        );

        await t.step("module tasks: what cannot be imported", async () => {
          const missing = moduleFunction<() => void>(
            new URL("./fixtures/no_such_module_q7.ts", import.meta.url),
            "f",
          );
          const e = await errorOf(
            client.view(0).applySync(missing),
            "import",
            HANG_MS,
          );
          assert.ok(e instanceof RemoteError, String(e));
          assert.match(e.message, /could not import/);
          assert.match(e.message, /no_such_module_q7/);
          const e2 = await errorOf(lv.applySync(missing), "LB import", HANG_MS);
          assert.ok(e2 instanceof RemoteError, String(e2));
          assert.match(e2.message, /could not import/);
          const e3 = await errorOf(
            dv.mapSync(missing, [1, 2]),
            "map import",
            HANG_MS,
          );
          assert.ok(e3 instanceof CompositeError, String(e3));
          assert.match(e3.message, /could not import/);

          const notFn = moduleFunction<() => void>(url, "notAFunction");
          const e4 = await errorOf(
            client.view(1).applySync(notFn),
            "notFn",
            HANG_MS,
          );
          assert.ok(e4 instanceof RemoteError, String(e4));
          assert.match(e4.message, /notAFunction/);
          assert.match(e4.message, /not a function/);
          const noExport = moduleFunction<() => void>(url, "noSuchExport_q7");
          const e5 = await errorOf(
            client.view(0).applySync(noExport),
            "none",
            HANG_MS,
          );
          assert.ok(e5 instanceof RemoteError, String(e5));
          assert.match(e5.message, /noSuchExport_q7/);

          // the engines still run the module's real exports
          assert.deepEqual(await dv.applySync(addOffset, 0), [100, 100]);
        });

        await t.step(
          "moduleFunction: a relative or invalid URL is a TypeError at once",
          () => {
            for (const bad of ["./fixtures/tasks.ts", "tasks.ts", "", "::"]) {
              assert.throws(
                () => moduleFunction(bad, "addOffset"),
                TypeError,
                bad,
              );
            }
            assert.throws(() => moduleFunction(url, ""), TypeError);
            assert.throws(() => moduleFunction(url, 42 as never), TypeError);
          },
        );
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

// ------------------------------------------------- given-up engines

Deno.test("LB tasks for an engine that was given up fail, never hang", async () => {
  const dir = await Deno.makeTempDir({ prefix: "troupe_views_" });
  try {
    await withClient({
      workers: 2,
      restart: { maxRestarts: 0, withinMs: 60_000 },
    }, async (client) => {
      const latch = fileLatch(dir, "then-exit");
      // engine 0 is busy, then exits and is given up (no restarts)
      const killer = client.view(0).applyAsync(async (wait: string) => {
        const end = Date.now() + 25_000;
        for (;;) {
          try {
            Deno.statSync(wait);
            break;
          } catch {
            if (Date.now() > end) break;
          }
          await new Promise((r) => setTimeout(r, 2));
        }
        Deno.exit(1);
      }, latch.path);
      await until(() => client.engines()[0].load > 0, "engine 0 busy", HANG_MS);
      const lv0 = client.loadBalancedView([0]);
      const queued = lv0.applyAsync(() => "ran");
      latch.open();
      const e = await errorOf(killer, "the task that exits", HANG_MS);
      assert.ok(e instanceof EngineError, String(e));
      await until(
        () => client.engines()[0].state === "stopped",
        "engine 0 given up",
        HANG_MS,
      );
      assert.deepEqual(client.ids, [1]);
      // untargeted work goes on on engine 1
      assert.equal(
        await client.loadBalancedView().applySync(() => engineId),
        1,
      );

      // queued for engine 0 before it was given up, or submitted after:
      // each settles (an error), neither waits forever
      const late = lv0.applyAsync(() => "ran");
      const settled = await Promise.all([
        guard(queued.wait(5_000), "queued.wait()", HANG_MS),
        guard(late.wait(5_000), "late.wait()", HANG_MS),
      ]);
      if (!queued.ready()) await queued.abort();
      if (!late.ready()) await late.abort();
      assert.deepEqual(
        settled,
        [true, true],
        "LB tasks for a given-up engine wait forever",
      );
      assert.equal(queued.successful(), false);
      assert.equal(late.successful(), false);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ------------------------------------------------------------- types

/**
 * Never called: `deno check` (and `deno test`, which type-checks) proves
 * that arguments and results are typed by the task function. Every
 * `@ts-expect-error` must be a real error, or checking fails.
 */
async function typeFlow(client: Client): Promise<void> {
  const add = (a: number, b: number) => a + b;
  const n: number = await client.view(0).applySync(add, 1, 2);
  const ns: number[] = await client.view().applySync(add, 1, 2);
  const nl: number[] = await client.view([0, 1]).applyAsync(add, 1, 2);
  const lb: number = await client.loadBalancedView().applySync(add, 1, 2);
  const s: string = await client.view(0).applyAsync(
    (x: number) => Promise.resolve(String(x)),
    1,
  );
  const m: string[] = await client.view().mapSync(
    (x: number) => `${x}`,
    [1],
  );
  const lm: boolean[] = await client.loadBalancedView().mapSync(
    (x: number) => x > 0,
    [1],
    { chunkSize: 1, ordered: false },
  );
  const added = moduleFunction<typeof tasks.addOffset>(
    new URL("./fixtures/tasks.ts", import.meta.url),
    "addOffset",
  );
  const mn: number = await client.view(0).applySync(added, 1);
  void [n, ns, nl, lb, s, m, lm, mn];

  // @ts-expect-error: a string where the function takes a number
  client.view(0).applyAsync(add, "1", 2);
  // @ts-expect-error: a missing argument
  client.view(0).applyAsync(add, 1);
  // @ts-expect-error: one argument too many
  client.view().applyAsync(add, 1, 2, 3);
  // @ts-expect-error: a string where the function takes a number
  client.loadBalancedView().applyAsync(add, 1, "2");
  // @ts-expect-error: a module function's parameters are typed too
  client.view(0).applySync(added, "1");
  // @ts-expect-error: a module function's parameters are typed on LB too
  client.loadBalancedView().applySync(added);
  // @ts-expect-error: a single view's result is not an array
  const notArray: number[] = await client.view(0).applySync(add, 1, 2);
  // @ts-expect-error: a multi view's result is an array
  const notSingle: number = await client.view().applySync(add, 1, 2);
  // @ts-expect-error: a load-balanced result is one value
  const notLbArray: number[] = await client.loadBalancedView().applySync(
    add,
    1,
    2,
  );
  // @ts-expect-error: the result is the function's (awaited) return type
  const notString: string = await client.view(0).applySync(add, 1, 2);
  // @ts-expect-error: a map gives an array of the function's values
  const notMapped: number[] = await client.view().mapSync(String, [1]);
  // @ts-expect-error: map options are typed
  client.loadBalancedView().mapAsync(add, [1], { chunkSize: "2" });
  void [notArray, notSingle, notLbArray, notString, notMapped];

  // Maps take one sequence per parameter, each of its parameter's type.
  const zipped: number[] = await client.loadBalancedView().mapSync(
    add,
    [1, 2],
    new Float64Array([3, 4]),
    { chunkSize: 1 },
  );
  const ignored: number[] = await client.loadBalancedView().mapSync(
    () => 0,
    [1, 2],
    ["a", "b"],
  );
  void [zipped, ignored];
  // @ts-expect-error: one sequence per parameter
  client.loadBalancedView().mapAsync(add, [1]);
  // @ts-expect-error: one sequence per parameter, options or not
  client.loadBalancedView().mapAsync(add, [1], { chunkSize: 1 });
  // @ts-expect-error: no more sequences than parameters
  client.loadBalancedView().mapAsync((x: number) => x, [1], [2]);
  // @ts-expect-error: each sequence holds its parameter's type
  client.loadBalancedView().mapAsync(add, [1], ["2"]);
  // @ts-expect-error: each sequence holds its parameter's type (direct)
  client.view().mapAsync(add, [1], ["2"]);
  // @ts-expect-error: options come last
  client.loadBalancedView().mapAsync(add, { chunkSize: 1 }, [1], [2]);
}

Deno.test("arguments and results are typed by the task function", () => {
  // The checks are in typeFlow, which the type checker has passed by now.
  assert.equal(typeof typeFlow, "function");
});

// ------------------------------------------- several sequences, no engines

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

Deno.test("with no engine and no listener, views fail at once and say how to get engines", async () => {
  await withClient({ workers: 0 }, async (client) => {
    const lv = client.loadBalancedView();
    const submissions: [string, () => unknown][] = [
      ["lv.applyAsync", () => lv.applyAsync(() => 1)],
      ["lv.mapAsync", () => lv.mapAsync((x: number) => x, range(100))],
      ["dv.applyAsync", () => client.view().applyAsync(() => 1)],
    ];
    for (const [what, submit] of submissions) {
      let thrown: unknown;
      try {
        const ar = submit() as AsyncResult<unknown, boolean>;
        await ar.wait(1_000);
        await ar.abort();
      } catch (error) {
        thrown = error;
      }
      assert.ok(thrown instanceof Error, `${what} did not throw at once`);
      assert.ok(!(thrown instanceof EngineError), `${what}: ${thrown}`);
      const message = thrown.message;
      assert.match(message, /no engine/, what);
      assert.doesNotMatch(message, /died|maxRestarts/, what);
      assert.match(message, /workers: 4/, what);
      assert.match(message, /processes: 4/, what);
      assert.match(message, /listen: true/, what);
      assert.match(
        message,
        /deno run -A jsr:@troupe\/parallel\/engine --file conn\.json/,
        what,
      );
      assert.match(message, /waitForEngines/, what);
    }
  });
});

Deno.test("with no engine but a listener, load-balanced tasks wait for engines", async () => {
  await withClient({ workers: 0, listen: true }, async (client) => {
    const ar = client.loadBalancedView().applyAsync(() => 1);
    // Long enough for many scheduler sweeps: the task is still waiting.
    assert.equal(await ar.wait(300), false);
    assert.equal(ar.metadata.status, "queued");
    await ar.abort();
    assert.ok((await errorOf(ar)) instanceof TaskAbortedError);
  });
});
