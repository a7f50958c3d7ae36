/**
 * `view.remote(fn)`, `view.parallel(fn)` (ipyparallel's `@view.remote` and
 * `@view.parallel`) and `dv.set` / `dv.get` (`dv['a'] = 1`, `dv['a']`), on
 * both views, both engine kinds and both client sides.
 *
 * @module
 */

import assert from "node:assert/strict";
import { engineId, TaskAbortedError } from "../mod.ts";
import { eachEngineKind, errorOf, guard, until } from "./helpers.ts";
import { fileLatch, holdUntilFile } from "./file_latch.ts";

eachEngineKind(
  "view.remote and view.parallel",
  2,
  async ({ t, client, dir }) => {
    await t.step("dv.remote runs on every engine, typed by fn", async () => {
      const shifted = client.view().remote((x: number) => x + engineId);
      const values: number[] = await guard(shifted(10), "dv.remote");
      assert.deepEqual(values, [10, 11]);
      // A single-engine view unwraps, as its applyAsync does.
      const one: number = await guard(
        client.view(1).remote((x: number) => x * engineId)(5),
        "single-engine remote",
      );
      assert.equal(one, 5);
    });

    await t.step(
      "lv.remote gives the one value, and keeps the name",
      async () => {
        function triple(x: number): number {
          return 3 * x;
        }
        const f = client.loadBalancedView().remote(triple);
        assert.equal(f.name, "triple");
        const ar = f(14);
        assert.deepEqual(ar.taskIds.length, 1);
        assert.equal(await guard(ar, "lv.remote"), 42);
      },
    );

    await t.step("parallel maps over its sequences", async () => {
      const square = client.view().parallel((x: number) => x * x);
      assert.deepEqual(await guard(square([1, 2, 3]), "dv.parallel"), [
        1,
        4,
        9,
      ]);
      const add = client.loadBalancedView().parallel(
        (a: number, b: number) => a + b,
        { chunkSize: 1 },
      );
      const ar = add([1, 2, 3], [10, 20, 30]);
      assert.equal(ar.taskIds.length, 3, "chunkSize: 1 gives a task per item");
      assert.deepEqual(await guard(ar, "lv.parallel"), [11, 22, 33]);
      const unordered = client.loadBalancedView().parallel(
        (x: number) => x + 1,
        { ordered: false, chunkSize: 2 },
      );
      const got: number[] = await guard(unordered([1, 2, 3, 4]), "unordered");
      assert.deepEqual(got, [2, 3, 4, 5], "awaiting keeps input order");
    });

    await t.step("bad input is a clear error, and nothing runs", () => {
      const before = client.engines().map((e) => e.tasksDone);
      assert.throws(
        () => client.view().remote(Math.max),
        /max cannot be shipped to an engine/,
      );
      assert.throws(
        () => client.loadBalancedView().parallel(Math.min),
        /min cannot be shipped/,
      );
      const p = client.loadBalancedView().parallel((x: number) => x);
      assert.throws(
        () => (p as unknown as () => unknown)(),
        /takes one sequence per parameter .* called with none/,
      );
      assert.throws(
        () => (p as (x: unknown) => unknown)({ chunkSize: 2 }),
        TypeError,
        "a plain object is not taken for options",
      );
      const dp = client.view().parallel((a: number, b: number) => a + b);
      assert.throws(() => dp([1, 2], [1]), /equal length, got 2, 1/);
      assert.throws(
        () =>
          client.loadBalancedView().parallel(
            (x: number) => x,
            [1, 2] as unknown as { chunkSize: number },
          ),
        /parallel's second argument is its map options/,
      );
      assert.throws(
        () =>
          client.loadBalancedView().parallel((x: number) => x, {
            chunksize: 2,
          } as unknown as { chunkSize: number })([1]),
        /chunksize/,
      );
      assert.deepEqual(client.engines().map((e) => e.tasksDone), before);
    });

    await t.step("a remote wrapper as a task runs its function", async () => {
      const twice = client.loadBalancedView().remote((x: number) => x * 2);
      const lv = client.loadBalancedView();
      const six: number = await guard(lv.applyAsync(twice, 3), "applyAsync");
      assert.equal(six, 6);
      const values: number[] = [];
      for await (const v of lv.imap(twice, [1, 2])) values.push(v);
      assert.deepEqual(values, [2, 4]);
      const one = client.view(1).remote((x: number) => x + engineId);
      assert.deepEqual(await guard(client.view().applyAsync(one, 1), "dv"), [
        1,
        2,
      ]);
      const again = client.view(0).remote(lv.remote((x: number) => x + 1));
      assert.equal(await guard(again(1), "a wrapper of a wrapper"), 2);
    });

    await t.step(
      "a parallel or per-engine wrapper as a task is a clear error",
      () => {
        const before = client.engines().map((e) => e.tasksDone);
        function inc(x: number): number {
          return x + 1;
        }
        const p = client.loadBalancedView().parallel(inc);
        const refusal =
          /^TypeError: this function is a view\.parallel wrapper of inc: .* pass the original function/;
        assert.throws(() => client.view().remote(p), refusal);
        assert.throws(() => client.view().applyAsync(p, [1]), refusal);
        assert.throws(
          () => client.loadBalancedView().mapAsync(p, [[1]]),
          refusal,
        );
        // A list per engine is no task's value: running inc would lie.
        const everywhere = client.view().remote(inc);
        assert.throws(
          () => client.loadBalancedView().applyAsync(everywhere, 1),
          /^TypeError: this function is a view\.remote wrapper of inc on a view of several engines: .* pass the original function/,
        );
        assert.deepEqual(client.engines().map((e) => e.tasksDone), before);
      },
    );

    await t.step("a string is no sequence, and the error says so", () => {
      const upper = (ch: string) => ch.toUpperCase();
      assert.throws(
        () => client.view().mapAsync(upper, "abc" as never),
        /got string: to go over a string's characters, pass \[\.\.\.text\]/,
      );
      assert.throws(
        () => client.loadBalancedView().parallel(upper)("abc" as never),
        /got string: .* pass \[\.\.\.text\]/,
      );
    });

    await t.step("a view made by with() carries its signal", async () => {
      const go = fileLatch(dir, "go");
      const controller = new AbortController();
      const held = client.loadBalancedView().with({
        signal: controller.signal,
      }).remote(holdUntilFile)(go.path);
      await until(() => held.data?.started === true, "the task to start");
      controller.abort();
      const error = await errorOf(held, "the aborted remote call", 20_000);
      assert.ok(error instanceof TaskAbortedError, String(error));
      go.open();
    });
  },
);

eachEngineKind("dv.set and dv.get", 2, async ({ t, client }) => {
  await t.step("set is push of one name, get is pull of it", async () => {
    const dv = client.view();
    assert.equal(await guard(dv.set("a", { n: 1 }), "set"), undefined);
    assert.deepEqual(await guard(dv.get("a"), "get"), [{ n: 1 }, { n: 1 }]);
    await guard(client.view(1).set("a", new Float64Array([2.5])), "set one");
    const one = await guard(client.view(1).get("a"), "get one");
    assert.ok(one instanceof Float64Array, "typed arrays stay typed");
    assert.deepEqual([...one], [2.5]);
    assert.deepEqual(
      await guard(dv.applyAsync(() => (globalThis as { a?: unknown }).a), "a"),
      [{ n: 1 }, new Float64Array([2.5])],
    );
  });

  await t.step("a name that is not a string is a clear error", async () => {
    const dv = client.view();
    const set = dv.set.bind(dv) as (n: unknown, v: unknown) => Promise<void>;
    const get = dv.get.bind(dv) as (name: unknown) => Promise<unknown>;
    await assert.rejects(
      set(1, "x"),
      /set takes the name of a global \(a non-empty string\), got 1/,
    );
    await assert.rejects(get(["a"]), /get takes the name of a global/);
    await assert.rejects(get(""), /got ""/);
    const error = await errorOf(dv.get("neverSet"), "get of a missing name");
    assert.match(error.message, /neverSet/);
  });
});
