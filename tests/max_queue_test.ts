/**
 * A load-balanced view's `maxQueue` on real engines, Worker and process,
 * embedded and connected: its checks, `QueueFullError` at once for a call
 * that would pass it (with a message that says what can help), what counts
 * (waiting, not running, tasks), and `mapAsync`'s `ordered` type-checked.
 * `imap` under a `maxQueue` is tests/imap_test.ts's.
 *
 * Engines are held busy with latch files, never with sleeps.
 */

import assert from "node:assert/strict";
import { type AsyncResult, QueueFullError } from "../mod.ts";
import { fileLatch, holdUntilFile, occupyAll } from "./file_latch.ts";
import { exists, markRan } from "./markers.ts";
import {
  eachEngineKind,
  errorOf,
  guard,
  range,
  until,
  withClient,
} from "./helpers.ts";

/** How long anything that must not hang may take (never a speed test). */
const HANG_MS = 30_000;

Deno.test("maxQueue: a whole number >= 1 or Infinity", async () => {
  await withClient({ workers: 0 }, (client) => {
    for (const maxQueue of [0, -1, 1.5, NaN, "3"]) {
      assert.throws(
        () => client.loadBalancedView({ maxQueue: maxQueue as number }),
        (e: Error) =>
          e instanceof RangeError &&
          e.message ===
            `maxQueue must be a whole number >= 1 or Infinity, got ${maxQueue}`,
      );
    }
    client.loadBalancedView({ maxQueue: Infinity });
    client.loadBalancedView({ maxQueue: 1 });
    assert.throws(
      () => client.loadBalancedView({ maxQueu: 1 } as never),
      /did you mean "maxQueue"/,
    );
    return Promise.resolve();
  });
});

eachEngineKind("maxQueue", 2, async ({ t, client, dir }) => {
  await t.step(
    "maxQueue: a call that would pass it throws QueueFullError at once",
    async () => {
      const latch = fileLatch(dir, "full");
      const ran = `${dir}/full-ran`;
      const { busy } = await occupyAll(client, latch, HANG_MS);
      const lv = client.loadBalancedView({ maxQueue: 3, highWaterMark: 1 });
      const waiting: AsyncResult<unknown>[] = [];
      try {
        waiting.push(lv.applyAsync(() => "a"));
        waiting.push(...[
          lv.mapAsync((x: number) => x, [1, 2], { chunkSize: 1 }),
        ]);
        const child = lv.with({ signal: new AbortController().signal });
        for (
          const call of [
            () => lv.applyAsync(markRan, ran),
            () => child.applyAsync(markRan, ran), // with() shares the count
            () => lv.mapAsync(markRan, [ran], { chunkSize: 1 }),
          ]
        ) {
          assert.throws(call, (e: Error) => {
            assert.ok(e instanceof QueueFullError, `${e.name}: ${e.message}`);
            assert.equal(e.maxQueue, 3);
            assert.equal(e.queued, 3);
            assert.match(e.message, /3 of its tasks wait to start/);
            assert.match(e.message, /maxQueue is 3/);
            assert.match(e.message, /await some results.*raise maxQueue/);
            return true;
          });
        }
        // another view has its own count; a pre-aborted call takes no place
        const other = client.loadBalancedView({
          maxQueue: 1,
          highWaterMark: 1,
        });
        const o = other.applyAsync(() => "other");
        await errorOf(
          lv.with({ signal: AbortSignal.abort() }).applyAsync(markRan, ran),
          "pre-aborted",
          HANG_MS,
        );
        // an aborted task gives its place back
        const first = waiting.shift()!;
        await first.abort();
        waiting.push(child.applyAsync(() => "b"));
        assert.throws(() => child.applyAsync(markRan, ran), QueueFullError);
        latch.open();
        assert.deepEqual(
          await guard(Promise.all([...waiting, o]), "queued tasks", HANG_MS),
          [[1, 2], "b", "other"],
        );
      } finally {
        latch.open();
      }
      await guard(busy, "occupiers", HANG_MS);
      // started tasks count no more: three fit again
      assert.deepEqual(
        await guard(
          Promise.all(range(3).map((i) => lv.applyAsync((x: number) => x, i))),
          "three more",
          HANG_MS,
        ),
        [0, 1, 2],
      );
      assert.equal(exists(ran), false, "a refused call ran");
    },
  );

  await t.step(
    "maxQueue: a task counts until it starts, not until it ends",
    async () => {
      const latch = fileLatch(dir, "started");
      const lv = client.loadBalancedView({ maxQueue: 1 });
      try {
        const held = lv.applyAsync(holdUntilFile, latch.path);
        await until(() => held.data.started === true, "the task runs", HANG_MS);
        const next = lv.applyAsync(() => "next");
        latch.open();
        assert.deepEqual(
          await guard(Promise.all([held, next]), "both", HANG_MS),
          ["released", "next"],
        );
      } finally {
        latch.open();
      }
    },
  );
  await t.step(
    "maxQueue: a call of more tasks than maxQueue says to raise chunkSize",
    () => {
      const lv = client.loadBalancedView({ maxQueue: 10 });
      assert.throws(
        () => lv.mapAsync((x: number) => x, range(1000), { chunkSize: 50 }),
        (e: Error) => {
          assert.ok(e instanceof QueueFullError, `${e.name}: ${e.message}`);
          assert.equal(e.maxQueue, 10);
          assert.equal(
            e.message,
            "this call makes 20 tasks, more than maxQueue 10: raise " +
              "chunkSize (fewer, bigger tasks) or maxQueue in " +
              "client.loadBalancedView({ maxQueue })",
          );
          return true;
        },
      );
      return Promise.resolve();
    },
  );

  await t.step("mapAsync's ordered must be a boolean", () => {
    const lv = client.loadBalancedView();
    assert.throws(
      () => lv.mapAsync((x: number) => x, [1], { ordered: "false" as never }),
      new TypeError(
        'mapAsync options: ordered must be true or false, got "false"',
      ),
    );
    return Promise.resolve();
  });
});
