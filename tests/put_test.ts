/**
 * `client.put(value)`: a value held once by the cluster's core and sent to
 * each engine once per life, on Worker and process engines, embedded and
 * connected; shared memory between Worker engines; release, nested refs,
 * another client's refs, and what a client's end frees.
 */

import assert from "node:assert/strict";
import { Client, EngineError, ValueRef } from "../mod.ts";
import {
  eachEngineKind,
  errorOf,
  guard,
  recordEvents,
  RESTART_AT_ONCE,
  until,
  withClient,
  withController,
} from "./helpers.ts";
import { HANG_MS, withTappedEngine } from "./tapped_engine.ts";
import type { TapSession } from "./tap_relay.ts";
import { decodeValue } from "../transport/codec.ts";
import type { PutValue } from "../protocol/messages.ts";
import { LocalCluster } from "../cluster/local_cluster.ts";

/** Adds an item to the array it is given and says how long it is now. */
const grow = (a: number[]) => {
  a.push(a.length);
  return a.length;
};

eachEngineKind("client.put", 2, async ({ t, client, kind }) => {
  const lv = client.loadBalancedView();

  await t.step("tasks receive the value, on both views", async () => {
    const ref = client.put(new Float64Array([1, 2, 3, 4]));
    assert.ok(ref instanceof ValueRef);
    assert.equal(
      await guard(
        lv.applyAsync((big: Float64Array, i: number) => big[i], ref, 3),
        "a load-balanced task",
      ),
      4,
    );
    const seen = await guard(
      client.view().applyAsync((big: Float64Array) => [
        big.constructor.name,
        big.length,
        big.buffer instanceof SharedArrayBuffer,
      ], ref),
      "a task on every engine",
    );
    // Worker engines read the hub's shared memory; processes get a copy.
    const shared = kind === "worker";
    assert.deepEqual(seen, [
      ["Float64Array", 4, shared],
      ["Float64Array", 4, shared],
    ]);
    ref.release();
  });

  await t.step("an engine keeps the value: sent once per life", async () => {
    const ref = client.put([0]);
    const one = client.view(0);
    // The engine's own copy, kept between tasks: each task sees the last
    // one's push. Sent with every task, it would be [0] each time.
    assert.equal(await guard(one.applyAsync(grow, ref), "task 1"), 2);
    assert.equal(await guard(one.applyAsync(grow, ref), "task 2"), 3);
    // Engine 1 is sent the hub's value, which no engine changed.
    assert.equal(await guard(client.view(1).applyAsync(grow, ref), "1"), 2);
    // The same array as a plain argument crosses with every task.
    assert.equal(await guard(one.applyAsync(grow, [0]), "plain 1"), 2);
    assert.equal(await guard(one.applyAsync(grow, [0]), "plain 2"), 2);
    ref.release();
  });

  await t.step("a restarted engine is sent the value again", async () => {
    const ref = client.put([0]);
    assert.equal(await guard(client.view(1).applyAsync(grow, ref), "1"), 2);
    const rec = recordEvents(client);
    try {
      const error = await errorOf(
        client.view(1).applyAsync(() => Deno.exit(3)),
        "the dying task",
        20_000,
      );
      assert.ok(error instanceof EngineError, `${error}`);
      await until(() => rec.has("restarted", 1), "engine 1 restarted", 20_000);
      await until(() => client.ids.length === 2, "both engines up", 20_000);
    } finally {
      rec.stop();
    }
    // A fresh copy from the hub: the dead engine's pushes are gone.
    assert.equal(await guard(client.view(1).applyAsync(grow, ref), "1"), 2);
    assert.equal(await guard(client.view(1).applyAsync(grow, ref), "1"), 3);
    ref.release();
  });

  await t.step("Worker engines share a put typed array", async () => {
    const ref = client.put(new Int32Array(4));
    await guard(
      client.view(0).applyAsync((a: Int32Array) => {
        Atomics.store(a, 0, 42);
      }, ref),
      "the write on engine 0",
    );
    const read = await guard(
      client.view(1).applyAsync((a: Int32Array) => Atomics.load(a, 0), ref),
      "the read on engine 1",
    );
    // One memory for every Worker engine; each process has its own copy.
    assert.equal(read, kind === "worker" ? 42 : 0);
    ref.release();
  });

  await t.step("an ArrayBuffer put", async () => {
    const ref = client.put(new Uint8Array([7, 8, 9]).buffer);
    const seen = await guard(
      client.view(0).applyAsync(
        (b: ArrayBuffer) => [b.constructor.name, new Uint8Array(b)[2]],
        ref,
      ),
      "the task",
    );
    assert.deepEqual(seen, [
      kind === "worker" ? "SharedArrayBuffer" : "ArrayBuffer",
      9,
    ]);
    ref.release();
  });

  await t.step("a released ref is refused at the call", async () => {
    const ref = client.put([1, 2, 3]);
    assert.equal(
      await guard(client.view(0).applyAsync((a: number[]) => a[2], ref), "t"),
      3,
    );
    ref.release();
    ref.release(); // Twice is fine.
    assert.ok(ref.released);
    for (
      const call of [
        () => lv.applyAsync((a: number[]) => a[2], ref),
        () => client.view(0).applyAsync((a: number[]) => a[2], ref),
      ]
    ) {
      assert.throws(call, (error: Error) => {
        assert.ok(error instanceof TypeError, `${error}`);
        assert.match(error.message, /argument 1 is ValueRef\(\d+, released\)/);
        assert.match(error.message, /freed with release\(\)/);
        assert.match(error.message, /client\.put\(value\)/);
        return true;
      });
    }
  });

  await t.step("a task submitted before release still gets it", async () => {
    const ref = client.put("still here");
    // Queued behind a busy task, then released while it waits.
    const busy = client.view(0).applyAsync(async () => {
      await new Promise((r) => setTimeout(r, 100));
    });
    const ar = client.view(0).applyAsync((s: string) => s, ref);
    ref.release();
    await guard(busy, "the busy task");
    assert.equal(await guard(ar, "the task"), "still here");
  });

  await t.step("a nested ref is a clear error", () => {
    const ref = client.put(1);
    for (
      const call of [
        () => lv.applyAsync((o: unknown) => o, { ref }),
        () => client.view().applyAsync((o: unknown) => o, [ref]),
      ]
    ) {
      assert.throws(call, (error: Error) => {
        assert.ok(error instanceof TypeError, `${error}`);
        assert.match(
          error.message,
          /argument 1, at (\.ref|\[0\]), is a ValueRef/,
        );
        assert.match(error.message, /argument of its own/);
        return true;
      });
    }
    ref.release();
  });

  await t.step("a task that waits for another takes a ref", async () => {
    const ref = client.put([1, 2, 3]);
    const first = lv.applyAsync(async () => {
      await new Promise((r) => setTimeout(r, 20));
      return 1;
    });
    const then = lv.with({ after: [first] }).applyAsync(
      (a: number[]) => a.length,
      ref,
    );
    ref.release(); // Taken at the call: it waits with its value.
    assert.equal(await guard(then, "the dependent task"), 3);
  });

  await t.step("view.remote takes refs too", async () => {
    const ref = client.put([4, 5, 6]);
    const len = lv.remote((a: number[], k: number) => a.length * k);
    assert.equal(await guard(len(ref, 2), "the remote call"), 6);
    ref.release();
  });

  await t.step("imap takes refs and futures as items", async () => {
    const ref = client.put([4, 5, 6]);
    const ar = lv.applyAsync(() => [7]);
    const items = [ref, ar, [8, 9]];
    const lengths: number[] = [];
    for await (const n of lv.imap((a: number[]) => a.length, items)) {
      lengths.push(n);
    }
    assert.deepEqual(lengths, [3, 1, 2]);
    ref.release();
  });

  await t.step("a value that cannot cross is refused by put", () => {
    assert.throws(
      () => client.put({ f: () => 1 }),
      /the value put, at \.f, is a function/,
    );
  });
}, { restart: RESTART_AT_ONCE });

/**
 * Never called: `deno check` proves that a ref stands for a value of its
 * type; each `@ts-expect-error` must be a real error.
 */
function typeFlow(client: Client): void {
  const numbers = client.put([1, 2]);
  const n: Promise<number> = client.view(0).applyAsync(
    (a: number[], i: number) => a[i],
    numbers,
    1,
  ).get();
  void n;
  // @ts-expect-error: a ref of number[] where the function takes a string
  client.loadBalancedView().applyAsync((s: string) => s, numbers);
  // @ts-expect-error: the same on a direct view
  client.view(0).applyAsync((s: string) => s, numbers);
  // @ts-expect-error: and as an imap item
  client.loadBalancedView().imap((s: string) => s, [numbers]);
}
void typeFlow;

Deno.test("client.put: a ref of another client is refused", async () => {
  // The inner client is closed by hand: withClient counts every thread.
  const b = await Client.start({ workers: 1 });
  try {
    await withClient({ workers: 1 }, async (a) => {
      const ref = a.put([1]);
      assert.throws(
        () => b.view(0).applyAsync((x: number[]) => x, ref),
        /argument 1 is ValueRef\(\d+\), which was put on another client/,
      );
      assert.deepEqual(
        await guard(a.view(0).applyAsync((x: number[]) => x, ref), "a's"),
        [1],
      );
      await b.close();
    });
  } finally {
    await b.close();
  }
});

Deno.test("client.put: a closed client refuses put", async () => {
  const client = await Client.start({ workers: 1 });
  await client.close();
  assert.throws(
    () => client.put(1),
    /cannot put a value: the client is closed/,
  );
});

Deno.test("client.put: a connected client's values go with its session", async () => {
  await withController(
    { id: `put-${crypto.randomUUID()}`, engines: { workers: 1 } },
    async (controller) => {
      const a = await guard(Client.connect(controller.clientInfo), "a");
      const b = await guard(Client.connect(controller.clientInfo), "b");
      try {
        const kept = b.put("b's");
        a.put([1, 2]);
        const released = a.put([3]);
        assert.deepEqual(
          await guard(a.view(0).applyAsync((x: number[]) => x, released), "a"),
          [3],
        );
        await until(() => controller.putValues === 3, "three values held");
        released.release();
        await until(() => controller.putValues === 2, "a release");
        await guard(a.close(), "a to detach");
        // a's last value went with its session; b's stays.
        await until(() => controller.putValues === 1, "a's session's end");
        assert.equal(
          await guard(b.view(0).applyAsync((s: string) => s, kept), "b"),
          "b's",
        );
      } finally {
        await a.close();
        await b.close();
      }
    },
  );
});

/** The messages the relay carried to the engine in `session`, decoded. */
function toEngine(session: TapSession): Record<string, unknown>[] {
  return session.frames.toEngine.slice(2).map((body) =>
    decodeValue(body) as Record<string, unknown>
  );
}

/** The put values the messages carried, by id. */
function carried(messages: Record<string, unknown>[]): number[] {
  return messages.flatMap((m) =>
    m.t === "run" && Array.isArray(m.values)
      ? (m.values as PutValue[]).map((v) => v.id)
      : []
  );
}

Deno.test("client.put on the wire: once per connection, released, sent again", async () => {
  await withTappedEngine({}, async ({ client, relay, backAfter }) => {
    const marker = "put-value-marker";
    const ref = client.put({ marker, big: new Float64Array(1000) });
    const other = client.put("other");
    const one = client.view(0);
    const read = (v: { marker: string }, s: string) => `${v.marker}:${s}`;
    for (let i = 0; i < 3; i++) {
      assert.equal(
        await guard(one.applyAsync(read, ref, "x"), `task ${i}`, HANG_MS),
        `${marker}:x`,
      );
    }
    assert.equal(
      await guard(one.applyAsync(read, ref, other), "both"),
      `${marker}:other`,
    );
    const first = relay.last;
    // Three tasks and a fourth took it: it crossed once, with the first.
    assert.deepEqual(carried(toEngine(first)), [ref.id, other.id]);
    const runs = toEngine(first).filter((m) => m.t === "run");
    assert.equal(runs.length, 4);
    assert.deepEqual(runs[1].refs, [{ arg: 0, id: ref.id }]);
    assert.deepEqual(runs[1].args, [null, "x"]);
    other.release();
    await until(
      () => toEngine(first).some((m) => m.t === "release"),
      "the release to reach the engine",
      HANG_MS,
    );
    assert.deepEqual(
      toEngine(first).filter((m) => m.t === "release"),
      [{ t: "release", ids: [other.id] }],
    );
    // A frame the client cannot read ends the connection; the engine dials
    // in again, a new life, which is sent the value again.
    await first.inject("toClient", new Uint8Array([0xc1]));
    await backAfter(1);
    assert.notEqual(relay.last, first);
    assert.equal(
      await guard(one.applyAsync(read, ref, "y"), "after", HANG_MS),
      `${marker}:y`,
    );
    assert.equal(
      await guard(one.applyAsync(read, ref, "z"), "again"),
      `${marker}:z`,
    );
    assert.deepEqual(carried(toEngine(relay.last)), [ref.id]);
    ref.release();
  });
});

Deno.test("client.put: closing an embedded client frees its values", async () => {
  // The cluster core itself, to see what it holds.
  const hold = setInterval(() => {}, 1000);
  const cluster = new LocalCluster();
  try {
    cluster.startEngine(0, "worker");
    await guard(cluster.waitForEngines(1, { timeoutMs: 30_000 }), "engine 0");
    cluster.put(cluster.nextTaskId(), [1]);
    cluster.put(cluster.nextTaskId(), new Float64Array(4));
    assert.equal(cluster.putValues, 2);
  } finally {
    await cluster.close();
    clearInterval(hold);
  }
  assert.equal(cluster.putValues, 0);
});
