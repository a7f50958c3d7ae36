/**
 * `lv.imap` on real engines, Worker and process, embedded and connected:
 * a long source with a bound on what is in flight, an infinite source
 * ended by `break`, a failure mid-stream, an async source, completion
 * order, the signal, maxQueue, and every engine getting items
 * (ipyparallel #743). Items are held with latch files, never with sleeps.
 */

import assert from "node:assert/strict";
import { QueueFullError, RemoteError, TaskAbortedError } from "../mod.ts";
import {
  fileLatch,
  holdUntilFile,
  occupyAll,
  waitThen,
  whileBusy,
} from "./file_latch.ts";
import {
  collect,
  eachEngineKind,
  errorOf,
  guard,
  range,
  until,
} from "./helpers.ts";

/** How long anything that must not hang may take (never a speed test). */
const HANG_MS = 60_000;

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
      const items = range(4).map((v) => ({
        v,
        wait: v === 0 ? latch.path : undefined,
      }));
      const order: number[] = [];
      const run = async () => {
        for await (
          const v of lv.imap(waitThen, items, {
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
    const slow = lv.imap(holdUntilFile, range(4).map(() => latch.path), {
      maxOutstanding: 2,
    });
    const first = slow.next();
    try {
      // maxOutstanding 2 and nothing else running: both engines hold one
      await until(
        () => client.engines().every((e) => e.load > 0),
        "both engines to hold an item",
        HANG_MS,
      );
    } finally {
      latch.open();
    }
    const values = [(await guard(first, "first", HANG_MS)).value];
    for await (const v of slow) values.push(v);
    assert.deepEqual(values, range(4).map(() => "released"));
  });

  await t.step("its signal aborts what is in flight", async () => {
    const controller = new AbortController();
    await whileBusy(client, dir, "signal", async () => {
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
    }, HANG_MS);
  });

  await t.step(
    "items go through applyAsync's path: maxQueue applies, and imap waits for it",
    async () => {
      const latch = fileLatch(dir, "queue");
      const { busy } = await occupyAll(client, latch);
      try {
        const view = client.loadBalancedView({ maxQueue: 2, highWaterMark: 1 });
        const it = view.imap((x: number) => x, range(10), {
          maxOutstanding: 3,
        });
        const values = collect(it);
        // imap's own two fill the view's queue: another call is refused...
        await until(
          async () => (await client.queueStatus()).unassigned === 2,
          "imap's items to fill the queue",
          HANG_MS,
        );
        assert.throws(() => view.applyAsync(() => 0), QueueFullError);
        // ...but imap itself waits, never throws
        latch.open();
        assert.deepEqual(await guard(values, "imap", HANG_MS), range(10));
      } finally {
        latch.open();
      }
      await guard(busy, "occupiers", HANG_MS);
    },
  );

  await t.step(
    "its default maxOutstanding under a smaller maxQueue: no QueueFullError",
    async () => {
      const view = client.loadBalancedView({ maxQueue: 1 });
      const values = collect(view.imap((x: number) => x, range(40)));
      assert.deepEqual(await guard(values, "imap", HANG_MS), range(40));
    },
  );

  await t.step(
    "a break leaves running tasks, and the engines' globals, alone",
    async () => {
      await client.view().push({ model: "loaded" });
      const restarts = client.engines().map((e) => e.restarts);
      const latch = fileLatch(dir, "break-running");
      const items = range(6).map((v) => ({
        v,
        wait: v === 0 ? undefined : latch.path,
      }));
      const run = async () => {
        for await (const _ of lv.imap(waitThen, items, { maxOutstanding: 4 })) {
          // the others run (held) on both engines when the first is back
          await until(
            () => client.engines().every((e) => e.load > 0),
            "both engines running an item",
            HANG_MS,
          );
          break;
        }
      };
      try {
        await guard(run(), "break", HANG_MS);
      } finally {
        latch.open();
      }
      await until(
        () => client.engines().every((e) => e.load === 0),
        "the running items to end",
        HANG_MS,
      );
      assert.deepEqual(client.engines().map((e) => e.restarts), restarts);
      assert.deepEqual(
        await client.view().applySync(() =>
          (globalThis as Record<string, unknown>).model ?? "GONE"
        ),
        ["loaded", "loaded"],
      );
    },
  );
});
