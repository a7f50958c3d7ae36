import assert from "node:assert/strict";
import { engineId, TimeoutError, UnmetDependencyError } from "../mod.ts";
import { eachEngineKind, errorOf, guard } from "./helpers.ts";

const BOUND = 60_000;

eachEngineKind("futures as arguments", 2, async ({ t, client }) => {
  const lv = client.loadBalancedView();
  const sleepy = (ms: number, value: number) =>
    lv.applyAsync(
      async (ms: number, value: number) => {
        await new Promise((r) => setTimeout(r, ms));
        return value;
      },
      ms,
      value,
    );

  await t.step("items of a map and of a direct view as arguments", async () => {
    const squares = lv.mapAsync((x: number) => x * x, [1, 2, 3, 4], {
      chunkSize: 3,
    });
    const fourth = lv.applyAsync((x: number) => x + 1, squares.item(3));
    const all = lv.applyAsync((xs: number[]) => xs.length, squares);
    assert.equal(await guard(fourth.get(), "an item", BOUND), 17);
    assert.equal(await all, 4);
    assert.equal(await squares.item(1), 4);
    const ids = client.view().applyAsync(() => engineId);
    const onOne = client.view(0).applyAsync((x: number) => x * 2, ids.item(1));
    assert.equal(await onOne, 2);
    assert.throws(() => squares.item(4), /the result has 4 items/);
  });

  await t.step("a direct view's tasks wait for a future too", async () => {
    const later = sleepy(50, 21);
    const each = client.view().applyAsync(
      (x: number) => x * 2 + engineId,
      later,
    );
    assert.deepEqual(await guard(each.get(), "direct dependents", BOUND), [
      42,
      43,
    ]);
    const failed = lv.applyAsync(() => {
      throw new Error("no value");
    });
    const error = await errorOf(client.view(0).applyAsync((x) => x, failed));
    assert.ok(error instanceof UnmetDependencyError, String(error));
    assert.match((error.cause as Error).message, /no value/);
  });

  await t.step(
    "a megabyte of Float64Array passes by future intact",
    async () => {
      const made = lv.applyAsync(() =>
        new Float64Array(131_072).map((_, i) => i / 2)
      );
      const sum = lv.applyAsync(
        (a: Float64Array) => [a.length, a[131_071], a.constructor.name],
        made,
      );
      assert.deepEqual(await guard(sum.get(), "the sum", BOUND), [
        131_072,
        131_071 / 2,
        "Float64Array",
      ]);
    },
  );

  await t.step(
    "only top-level results resolve; nested ones are refused",
    () => {
      const ar = lv.applyAsync(() => 1);
      assert.throws(
        () => lv.applyAsync((o: unknown) => o, { ar } as never),
        /at \.ar, is an AsyncResult.*only as an argument of its own/s,
      );
      assert.throws(
        () => lv.applyAsync((o: unknown) => o, [ar.item(0)] as never),
        /at \[0\], is an item of a result.*not inside an object or an array/s,
      );
      // A map's sequences are data: a result in one is nested, so refused.
      assert.throws(
        () => lv.mapAsync((x: unknown) => x, [ar] as never),
        /is an AsyncResult/,
      );
      return ar.then(() => {});
    },
  );

  await t.step("timeoutMs counts from submission while it waits", async () => {
    const slow = sleepy(2000, 1);
    const impatient = client.loadBalancedView({ timeoutMs: 100 })
      .applyAsync((x: number) => x, slow);
    const error = await errorOf(impatient);
    assert.ok(error instanceof TimeoutError, String(error));
    assert.match(
      error.message,
      /did not start in time: the tasks it depends on/,
    );
    assert.equal(impatient.metadata.status, "error");
    await slow;
  });
});
