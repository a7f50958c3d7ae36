/**
 * Module tasks (`moduleFunction(url, name)`) on real engines, Worker and
 * process: on direct and load-balanced views and in maps, with the result
 * type of the module's function; module state and publishData; and what
 * cannot be imported or called, said clearly.
 *
 * Each kind of engine gets one `Deno.test` with one client of 2 engines that
 * its steps share (module state persists between them on an engine).
 */

import assert from "node:assert/strict";
import { CompositeError, moduleFunction, RemoteError } from "../mod.ts";
import type * as tasks from "./fixtures/tasks.ts";
import { eachEngineKind, errorOf, range } from "./helpers.ts";

/** How long anything that must not hang may take (never a speed test). */
const HANG_MS = 30_000;

eachEngineKind("module tasks", 2, async ({ t, client }) => {
  const dv = client.view();
  const lv = client.loadBalancedView();

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
