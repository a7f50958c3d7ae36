/**
 * What `client.wait` and `asCompleted` leave on the results they wait on
 * (nothing, once they return: a poll must not pile up), their timeouts past
 * a timer's range (2^31 - 1 ms), and that neither counts as looking at a
 * failure: on both engine kinds and both client sides.
 *
 * @module
 */

import assert from "node:assert/strict";
import { asCompleted, Client, TimeoutError } from "../mod.ts";
import { resultParts } from "../client/result_item.ts";
import { eachEngineKind, errorOf, guard, sleep, until } from "./helpers.ts";
import { fileLatch, holdUntilFile } from "./file_latch.ts";

const hooksOn = (results: Parameters<typeof resultParts>[0][]) =>
  results.reduce((n, r) => n + resultParts(r).finishedHooks(), 0);

eachEngineKind("waits leave no hooks", 2, async ({ t, client, dir }) => {
  await t.step("polling client.wait and asCompleted adds none", async () => {
    const go = fileLatch(dir, "poll");
    // Engine 0 is held, its queue with it; engine 1 is free.
    const e0 = client.view(0);
    const held = e0.applyAsync(holdUntilFile, go.path);
    const pending = [
      held,
      ...Array.from({ length: 20 }, () => e0.applyAsync(() => 1)),
    ];
    for (let i = 0; i < 100; i++) {
      const { notDone } = await client.wait(pending, { timeoutMs: 0 });
      assert.equal(notDone.length, pending.length, "all still pending");
      assert.equal(hooksOn(pending), 0, `client.wait poll ${i}`);
    }
    for (let i = 0; i < 20; i++) {
      const error = await errorOf(
        (async () => {
          for await (const _ of asCompleted(pending, { timeoutMs: 0 }));
        })(),
        "asCompleted poll",
      );
      assert.ok(error instanceof TimeoutError);
      assert.equal(hooksOn(pending), 0, `asCompleted poll ${i}`);
    }
    // "first": the others' hooks go when it returns.
    const fast = client.view(1).applyAsync(() => "fast");
    const first = await guard(
      client.wait([...pending, fast], { returnWhen: "first" }),
      "returnWhen first",
    );
    assert.deepEqual(first.done, [fast]);
    assert.equal(hooksOn(pending), 0, "after returnWhen first");
    // A loop left early (break) removes them too.
    const early = asCompleted([fast, ...pending]);
    for await (const ar of early) {
      assert.equal(ar, fast);
      assert.equal(hooksOn(pending), pending.length, "heard while open");
      break;
    }
    assert.equal(hooksOn(pending), 0, "after break");
    go.open();
    assert.equal(await guard(held, "the held task"), "released");
    await guard(Promise.all(pending), "the pending tasks");
  });

  await t.step("a timeoutMs past a timer's range still waits", async () => {
    const go = fileLatch(dir, "long");
    const held = client.view(0).applyAsync(holdUntilFile, go.path);
    await until(() => held.data.started === true, "the held task's start");
    let settled = false;
    const waited = client.wait([held], { timeoutMs: 2 ** 31 }).finally(() => {
      settled = true;
    });
    const iterated = collectDone(asCompleted([held], { timeoutMs: 2 ** 42 }));
    const one = held.wait(2 ** 31 + 5);
    await sleep(100);
    assert.equal(settled, false, "client.wait returned before its timeout");
    assert.equal(held.ready(), false);
    go.open();
    assert.deepEqual(await guard(waited, "client.wait"), {
      done: [held],
      notDone: [],
    });
    assert.equal(await guard(iterated, "asCompleted"), 1);
    assert.equal(await guard(one, "ar.wait"), true);
  });
});

async function collectDone(iterable: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of iterable) n++;
  return n;
}

Deno.test("client.wait and asCompleted do not observe a failure", async () => {
  const lines: string[] = [];
  const client = await Client.start({ workers: 1, log: (l) => lines.push(l) });
  try {
    const lv = client.loadBalancedView();
    const waited = lv.applyAsync(() => {
      throw new Error("waited on");
    });
    const iterated = lv.applyAsync(() => {
      throw new Error("iterated");
    });
    assert.equal((await guard(client.wait([waited]), "wait")).done.length, 1);
    for await (const ar of asCompleted([iterated])) assert.equal(ar, iterated);
  } finally {
    await client.close();
  }
  assert.equal(lines.length, 2, lines.join("\n"));
  assert.match(lines.join("\n"), /waited on/);
  assert.match(lines.join("\n"), /iterated/);
});
