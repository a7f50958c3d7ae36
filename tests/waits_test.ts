/**
 * `client.wait(results, { timeoutMs, returnWhen })` and
 * `asCompleted(results, { timeoutMs })`, on both engine kinds and both
 * client sides: a task held by a latch file stands for a slow one, so that
 * nothing depends on how fast this machine is.
 *
 * @module
 */

import assert from "node:assert/strict";
import { asCompleted, RemoteError, TimeoutError } from "../mod.ts";
import { collect, eachEngineKind, errorOf, guard } from "./helpers.ts";
import { fileLatch, holdUntilFile } from "./file_latch.ts";

const fail = (why: string) => {
  throw new Error(why);
};

eachEngineKind("client.wait", 2, async ({ t, client, dir }) => {
  await t.step('"all" (the default) waits for every result', async () => {
    const lv = client.loadBalancedView();
    const a = lv.applyAsync((x: number) => x + 1, 1);
    const b = client.view().applyAsync(() => 2);
    const failed = client.view(1).applyAsync(fail, "boom");
    const { done, notDone } = await guard(
      client.wait([a, b, failed]),
      "client.wait",
    );
    assert.deepEqual(done, [a, b, failed], "in the order given");
    assert.deepEqual(notDone, []);
    assert.ok(failed.ready() && !failed.successful());
    assert.deepEqual(await client.wait([]), { done: [], notDone: [] });
  });

  await t.step('"first" returns once one is done', async () => {
    const go = fileLatch(dir, "first");
    const held = client.view(0).applyAsync(holdUntilFile, go.path);
    const fast = client.view(1).applyAsync(() => "fast");
    const { done, notDone } = await guard(
      client.wait([held, fast], { returnWhen: "first" }),
      "wait first",
    );
    assert.deepEqual(done, [fast]);
    assert.deepEqual(notDone, [held]);
    assert.equal(held.ready(), false, "the held task still runs");
    go.open();
    assert.equal(await guard(held, "the held task", 30_000), "released");
  });

  await t.step('"firstError" returns at the first failure', async () => {
    const go = fileLatch(dir, "firstError");
    const held = client.view(0).applyAsync(holdUntilFile, go.path);
    const ok = client.view(1).applyAsync(() => 1);
    const failed = client.view(1).applyAsync(fail, "first error");
    const { done, notDone } = await guard(
      client.wait([held, ok, failed], { returnWhen: "firstError" }),
      "wait firstError",
    );
    assert.deepEqual(notDone, [held]);
    assert.deepEqual(done, [ok, failed], "ok ran before it on engine 1");
    const error = await errorOf(failed, "the failed task");
    assert.ok(error instanceof RemoteError);
    go.open();
    await guard(held, "the held task", 30_000);
    // With no failure, it waits for all, as "all" does.
    const both = [
      client.view(0).applyAsync(() => 1),
      client.view(1).applyAsync(() => 2),
    ];
    const all = await guard(
      client.wait(both, { returnWhen: "firstError" }),
      "firstError, no error",
    );
    assert.deepEqual(all, { done: both, notDone: [] });
  });

  await t.step("a timeout resolves with what is done", async () => {
    const go = fileLatch(dir, "timeout");
    const held = client.view(0).applyAsync(holdUntilFile, go.path);
    const fast = client.view(1).applyAsync(() => 1);
    await fast;
    const result = await guard(
      client.wait([fast, held], { timeoutMs: 50 }),
      "a wait with a timeout",
    );
    assert.deepEqual(result, { done: [fast], notDone: [held] });
    go.open();
    await guard(held, "the held task", 30_000);
  });

  await t.step("bad arguments are clear errors", async () => {
    const ar = client.view(0).applyAsync(() => 1);
    await ar;
    const wait = client.wait.bind(client) as (
      results: unknown,
      options?: unknown,
    ) => Promise<unknown>;
    await assert.rejects(wait(5), /client.wait takes a list of AsyncResults/);
    await assert.rejects(
      wait([ar, Promise.resolve(1)]),
      /results\[1\] is Promise .*not an AsyncResult/,
    );
    await assert.rejects(
      wait([ar], { returnWhen: "any" }),
      /returnWhen .* must be "all", "first" or "firstError", got "any"/,
    );
    await assert.rejects(wait([ar], { timeout: 5 }), /timeout/);
    await assert.rejects(
      wait([ar], 5000),
      /client.wait's options must be an object, .*got 5000 \(for a timeout, write \{ timeoutMs: 5000 \}\)/,
    );
    await assert.rejects(
      wait([ar], { timeoutMs: -1 }),
      /timeoutMs in client.wait options must be a number of ms >= 0, got -1/,
    );
  });
});

eachEngineKind("asCompleted", 2, async ({ t, client, dir }) => {
  await t.step("yields each result as it finishes", async () => {
    const go = fileLatch(dir, "order");
    const held = client.view(0).applyAsync(holdUntilFile, go.path);
    const fast = client.view(1).applyAsync(() => "fast");
    const failed = client.view(1).applyAsync(fail, "yielded, not thrown");
    const seen: unknown[] = [];
    for await (const ar of asCompleted([held, fast, failed])) {
      seen.push(ar);
      // The held task is let go once the other two came out.
      if (seen.length === 2) go.open();
    }
    assert.deepEqual(seen, [fast, failed, held]);
    await errorOf(failed, "the failed task");
    // Those done already come first, in the order given.
    assert.deepEqual(await collect(asCompleted([held, fast])), [held, fast]);
    assert.deepEqual(await collect(asCompleted([])), []);
  });

  await t.step("a timeout throws a TimeoutError", async () => {
    const go = fileLatch(dir, "timeout");
    const held = client.view(0).applyAsync(holdUntilFile, go.path);
    const fast = client.view(1).applyAsync(() => 1);
    await guard(fast, "the fast task"); // Not raced against the 100 ms.
    const seen: unknown[] = [];
    const error = await errorOf(
      (async () => {
        for await (const ar of asCompleted([held, fast], { timeoutMs: 100 })) {
          seen.push(ar);
        }
      })(),
      "asCompleted with a timeout",
    );
    assert.ok(error instanceof TimeoutError, String(error));
    assert.match(error.message, /1 of 2 results finished within 100 ms/);
    assert.deepEqual(seen, [fast]);
    go.open();
    await guard(held, "the held task", 30_000);
  });

  await t.step("break leaves nothing behind", async () => {
    const go = fileLatch(dir, "break");
    const held = client.view(0).applyAsync(holdUntilFile, go.path);
    const fast = client.view(1).applyAsync(() => 1);
    const results = asCompleted([held, fast], { timeoutMs: 60_000 });
    for await (const ar of results) {
      assert.equal(ar, fast);
      break;
    }
    // No timer is left (the sanitizers would say), and the task runs on.
    assert.equal(held.ready(), false);
    go.open();
    assert.equal(await guard(held, "the held task", 30_000), "released");
  });

  await t.step("bad arguments throw at the call", () => {
    const call = asCompleted as (
      results: unknown,
      options?: unknown,
    ) => unknown;
    assert.throws(() => call(undefined), /asCompleted takes a list/);
    assert.throws(() => call([1]), /results\[0\] is 1, not an AsyncResult/);
    assert.throws(() => call([], { timeout: 1 }), /timeout/);
    assert.throws(
      () => call([], null),
      /asCompleted's options must be an object/,
    );
    assert.throws(() => call([], { timeoutMs: NaN }), /got NaN/);
  });
});
