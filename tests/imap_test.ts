/**
 * `lv.imap` on real engines, Worker and process, embedded and connected:
 * a long source with a bound on what is in flight, an infinite source
 * ended by `break`, a failure mid-stream, an async source, completion
 * order, the signal, maxQueue, and every engine getting items
 * (ipyparallel #743). Items are held with latch files, never with sleeps.
 */

import assert from "node:assert/strict";
import {
  type Client,
  engineId,
  QueueFullError,
  RemoteError,
  TaskAbortedError,
} from "../mod.ts";
import { fileLatch, holdUntilFile } from "./file_latch.ts";
import { eachEngineKind, errorOf, guard, range, until } from "./helpers.ts";

/** How long anything that must not hang may take (never a speed test). */
const HANG_MS = 60_000;

/** Shipped: waits (yielding) for the latch file, then says where it ran. */
async function whereOnceOpen(latch: string): Promise<number> {
  const end = Date.now() + 20_000;
  while (Date.now() < end) {
    try {
      Deno.statSync(latch);
      break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
  return engineId;
}

/** Shipped: returns `item.x`, first waiting for `item.latch` if it names one. */
async function heldIfLatch(
  item: { x: number; latch?: string },
): Promise<number> {
  const end = Date.now() + 20_000; // a broken test holds no engine forever
  while (item.latch !== undefined && Date.now() < end) {
    try {
      Deno.statSync(item.latch);
      break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
  return item.x;
}

/** Occupies both engines with direct tasks held by a latch. */
async function occupyAll(client: Client, latch: { path: string }) {
  const ar = client.view().applyAsync(holdUntilFile, latch.path);
  await until(
    () => client.engines().every((e) => e.load > 0),
    "both engines busy",
    HANG_MS,
  );
  return { busy: ar };
}

eachEngineKind("LoadBalancedView imap", 2, async ({ t, client, dir }) => {
  const lv = client.loadBalancedView();

  await t.step(
    "10 000 items, maxOutstanding 4: never more than 4 in flight",
    async () => {
      let pulled = 0;
      let received = 0;
      let most = 0;
      function* items() {
        for (let i = 0; i < 10_000; i++) {
          pulled++;
          most = Math.max(most, pulled - received);
          yield i;
        }
      }
      let expected = 0;
      const run = async () => {
        for await (
          const v of lv.imap((x: number) => x * 2, items(), {
            maxOutstanding: 4,
          })
        ) {
          assert.equal(v, expected * 2);
          expected++;
          received++;
        }
      };
      await guard(run(), "10 000 items", HANG_MS);
      assert.equal(received, 10_000);
      assert.ok(most <= 4, `${most} in flight`);
      assert.ok(most >= 2, `${most} in flight: imap did not overlap tasks`);
    },
  );

  await t.step("an infinite source ended by break stops cleanly", async () => {
    let closed = false;
    function* forever() {
      try {
        for (let i = 0;; i++) yield i;
      } finally {
        closed = true;
      }
    }
    const values: number[] = [];
    const run = async () => {
      for await (const v of lv.imap((x: number) => x + 1, forever())) {
        values.push(v);
        if (values.length === 10) break;
      }
    };
    await guard(run(), "break", HANG_MS);
    assert.deepEqual(values, range(10).map((i) => i + 1));
    assert.equal(closed, true, "the source was not closed");
    await until(
      () => client.engines().every((e) => e.load === 0),
      "the aborted tasks to settle",
      HANG_MS,
    );
    assert.equal(await lv.applySync(() => "still works"), "still works");
  });

  await t.step("a failure mid-stream is thrown at its place", async () => {
    let pulled = 0;
    let closed = false;
    function* items() {
      try {
        for (let i = 0; i < 1000; i++) {
          pulled++;
          yield i;
        }
      } finally {
        closed = true;
      }
    }
    const values: number[] = [];
    const run = async () => {
      for await (
        const v of lv.imap(
          (x: number) => {
            if (x === 5) throw new Error("item 5 is bad");
            return x;
          },
          items(),
          { maxOutstanding: 3 },
        )
      ) values.push(v);
    };
    const e = await errorOf(run(), "the failing imap", HANG_MS);
    assert.ok(e instanceof RemoteError, `${e.name}: ${e.message}`);
    assert.match(e.message, /item 5 is bad/);
    assert.deepEqual(values, range(5));
    assert.equal(closed, true, "the source was not closed");
    assert.ok(pulled <= 5 + 3, `${pulled} pulled`);
  });

  await t.step("an async iterable source, unordered", async () => {
    async function* items() {
      for (let i = 0; i < 20; i++) {
        await Promise.resolve();
        yield i;
      }
    }
    const values: number[] = [];
    const run = async () => {
      for await (
        const v of lv.imap((x: number) => x * x, items(), { ordered: false })
      ) values.push(v);
    };
    await guard(run(), "async source", HANG_MS);
    assert.deepEqual(
      values.sort((a, b) => a - b),
      range(20).map((i) => i * i),
    );
  });

  await t.step(
    "unordered: a slow item does not hold back the rest",
    async () => {
      const latch = fileLatch(dir, "slow-first");
      const items = range(4).map((x) => ({
        x,
        latch: x === 0 ? latch.path : undefined,
      }));
      const order: number[] = [];
      const run = async () => {
        for await (
          const v of lv.imap(heldIfLatch, items, {
            ordered: false,
            maxOutstanding: 4,
          })
        ) {
          order.push(v);
          if (order.length === 3) latch.open();
        }
      };
      try {
        await guard(run(), "unordered imap", HANG_MS);
      } finally {
        latch.open();
      }
      assert.deepEqual([...order].sort(), [0, 1, 2, 3]);
      assert.equal(order.at(-1), 0, `order ${order}`);
    },
  );

  await t.step("every engine gets items (ipyparallel #743)", async () => {
    const latch = fileLatch(dir, "spread");
    const slow = lv.imap(whereOnceOpen, range(4).map(() => latch.path), {
      maxOutstanding: 2,
    });
    const first = slow.next();
    try {
      await until(
        () => client.engines().every((e) => e.load > 0),
        "both engines to hold an item",
        HANG_MS,
      );
    } finally {
      latch.open();
    }
    const where = [(await guard(first, "first", HANG_MS)).value];
    for await (const id of slow) where.push(id);
    assert.equal(where.length, 4);
    assert.deepEqual([...new Set(where)].sort(), [0, 1]);
  });

  await t.step("its signal aborts what is in flight", async () => {
    const latch = fileLatch(dir, "signal");
    const controller = new AbortController();
    const { busy } = await occupyAll(client, latch);
    try {
      const it = client.loadBalancedView({ highWaterMark: 1 }).imap(
        (x: number) => x,
        range(100),
        { signal: controller.signal, maxOutstanding: 3 },
      );
      const first = it.next();
      await until(
        () => client.engines().every((e) => e.load > 0),
        "queued",
        HANG_MS,
      );
      controller.abort();
      const e = await errorOf(first, "the aborted imap", HANG_MS);
      assert.ok(e instanceof TaskAbortedError, `${e.name}: ${e.message}`);
      assert.deepEqual(await it.next(), { value: undefined, done: true });
    } finally {
      latch.open();
    }
    await guard(busy, "occupiers", HANG_MS);
  });

  await t.step(
    "items go through applyAsync's path: maxQueue applies",
    async () => {
      const latch = fileLatch(dir, "queue");
      const { busy } = await occupyAll(client, latch);
      try {
        const view = client.loadBalancedView({ maxQueue: 2, highWaterMark: 1 });
        const it = view.imap((x: number) => x, range(10), {
          maxOutstanding: 3,
        });
        const e = await errorOf(it.next(), "imap past maxQueue", HANG_MS);
        assert.ok(e instanceof QueueFullError, `${e.name}: ${e.message}`);
        // the two it had submitted were aborted: their places are free
        const again = [view.applyAsync(() => 1), view.applyAsync(() => 2)];
        latch.open();
        assert.deepEqual(await guard(Promise.all(again), "again", HANG_MS), [
          1,
          2,
        ]);
      } finally {
        latch.open();
      }
      await guard(busy, "occupiers", HANG_MS);
    },
  );
});
