/**
 * Coalesced posts between threads: the first message of a turn goes at
 * once, the rest of the turn as one post, in order; what cannot be cloned
 * is said at once, or, when only the clone finds it, the rest still go.
 * Over a real `MessageChannel`, and a real Worker engine for a burst.
 */

import assert from "node:assert/strict";
import { MessageChannel, type MessagePort } from "node:worker_threads";
import { deliverPosted, Outbox } from "./post_batch.ts";
import { packMessage } from "./transferables.ts";
import { WorkerLink } from "./worker_link.ts";
import type { FromEngine } from "../protocol/messages.ts";
import { guard, range } from "../tests/helpers.ts";

/** A real channel whose receiving end records each post as it arrives. */
function channel(): {
  outbox: (lost?: (error: unknown) => void) => Outbox;
  posts: unknown[];
  arrived: (n: number) => Promise<void>;
  close: () => void;
} {
  const { port1, port2 } = new MessageChannel();
  const posts: unknown[] = [];
  let waiting: { n: number; resolve: () => void } | undefined;
  port2.on("message", (data: unknown) => {
    posts.push(data);
    if (waiting && posts.length >= waiting.n) waiting.resolve();
  });
  const post =
    (port: MessagePort) => (value: unknown, transfer: ArrayBuffer[]) =>
      port.postMessage(value, transfer);
  return {
    outbox: (lost = (error) => assert.fail(`lost: ${error}`)) =>
      new Outbox(post(port1), lost),
    posts,
    arrived: (n) => {
      if (posts.length >= n) return Promise.resolve();
      const { promise, resolve } = Promise.withResolvers<void>();
      waiting = { n, resolve };
      return guard(promise, `${n} posts`);
    },
    close: () => {
      port1.close();
      port2.close();
    },
  };
}

Deno.test("the first message of a turn goes at once, the rest of the turn as one post", async () => {
  const c = channel();
  try {
    const outbox = c.outbox();
    outbox.add({ t: "run", taskId: 1 });
    // Posted before add returned: code that blocks after it blocks nothing.
    outbox.add({ t: "run", taskId: 2 });
    outbox.add({ t: "run", taskId: 3 });
    await c.arrived(2);
    assert.deepEqual(c.posts, [
      { t: "run", taskId: 1 },
      [{ t: "run", taskId: 2 }, { t: "run", taskId: 3 }],
    ]);
    // A new turn starts again with a post of its own.
    outbox.add({ t: "ping" });
    await c.arrived(3);
    assert.deepEqual(c.posts[2], { t: "ping" });
  } finally {
    c.close();
  }
});

Deno.test("a batch that the clone refuses goes message by message; only the bad one is lost", async () => {
  const c = channel();
  const lost: unknown[] = [];
  try {
    const outbox = c.outbox((error) => lost.push(error));
    // A detached buffer inside a Map: packMessage does not look there, the
    // clone does, at the flush.
    const gone = new ArrayBuffer(8);
    structuredClone(gone, { transfer: [gone] });
    outbox.add({ n: 1 });
    outbox.add({ n: 2 });
    outbox.add({ n: 3, bad: new Map([["b", gone]]) });
    outbox.add({ n: 4 });
    await c.arrived(3);
    assert.deepEqual(c.posts, [{ n: 1 }, { n: 2 }, { n: 4 }]);
    assert.equal(lost.length, 1);
    assert.equal((lost[0] as Error).name, "DataCloneError");
  } finally {
    c.close();
  }
});

Deno.test("a detached buffer is refused when it is sent, not when it is posted", () => {
  const gone = new ArrayBuffer(8);
  structuredClone(gone, { transfer: [gone] });
  for (const message of [{ args: [gone] }, { args: [{ a: gone }] }]) {
    assert.throws(
      () => packMessage(message),
      (e: Error) =>
        e.name === "DataCloneError" && /detached.*pass a copy/.test(e.message),
    );
  }
  const outbox = new Outbox(
    () => assert.fail("posted"),
    () => assert.fail("lost"),
  );
  assert.throws(() => outbox.add({ args: [gone] }), /detached/);
});

Deno.test("deliverPosted hands on each message of a batch in order, even past a handler that throws", () => {
  const seen: unknown[] = [];
  deliverPosted({ t: "pong" }, (m) => seen.push(m));
  assert.throws(
    () =>
      deliverPosted([{ n: 1 }, { n: 2 }, { n: 3 }], (m: { n: number }) => {
        seen.push(m.n);
        if (m.n === 2) throw new Error("a handler's bug");
      }),
    /a handler's bug/,
  );
  assert.deepEqual(seen, [{ t: "pong" }, 1, 2, 3]);
  // Large arrays packed inside a batch arrive rebuilt.
  const { value } = packMessage({ a: new Float64Array(1024) });
  deliverPosted([value], (m: { a: Float64Array }) => seen.push(m.a.length));
  assert.equal(seen.at(-1), 1024);
});

Deno.test("a burst of runs to a real Worker engine arrives in order, each answered", async () => {
  const link = new WorkerLink(new URL("../engine/worker.ts", import.meta.url));
  const done: number[] = [];
  const all = Promise.withResolvers<void>();
  const ready = Promise.withResolvers<void>();
  link.onMessage = (message: FromEngine) => {
    if (message.t === "ready") ready.resolve();
    if (message.t !== "done") return;
    assert.equal(message.ok, true);
    done.push(message.value as number);
    if (done.length === 50) all.resolve();
  };
  try {
    link.send({ t: "init", engineId: 0 });
    await guard(ready.promise, "the engine to be ready");
    for (const i of range(50)) {
      link.send({
        t: "run",
        taskId: i + 1,
        fn: { kind: "source", source: "(x) => x * 2" },
        args: [i],
      });
    }
    await guard(all.promise, "50 answers");
    assert.deepEqual(done, range(50).map((i) => i * 2));
  } finally {
    await guard(link.terminate(), "the engine thread to end");
  }
});

Deno.test("a Worker link whose message only the clone refuses ends its thread, saying why", async () => {
  const link = new WorkerLink(new URL("../engine/worker.ts", import.meta.url));
  const exit = Promise.withResolvers<string>();
  link.onExit = exit.resolve;
  try {
    const gone = new ArrayBuffer(8);
    structuredClone(gone, { transfer: [gone] });
    link.send({ t: "init", engineId: 0 });
    // The second of the turn goes at its end: the engine would wait for it.
    link.send({
      t: "run",
      taskId: 1,
      fn: { kind: "source", source: "(m) => m" },
      args: [new Map([["b", gone]])],
    });
    const reason = await guard(exit.promise, "the thread to end");
    assert.match(
      reason,
      /^a message to it could not be sent \(.*detached.*\), so it was ended$/,
    );
  } finally {
    await guard(link.terminate(), "the engine thread to end");
  }
});
