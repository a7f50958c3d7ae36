/**
 * The task runner on a real Worker engine: tasks that end synchronously run
 * one after another, their `done`s each posted before the next starts, and
 * the chain still lets the engine read its messages; async and failing
 * tasks in the same burst keep their order and their outcomes.
 */

import assert from "node:assert/strict";
import { WorkerLink } from "../transport/worker_link.ts";
import type { DoneMessage, FromEngine } from "../protocol/messages.ts";
import { newSharedSlots } from "../protocol/messages.ts";
import { guard, range } from "../tests/helpers.ts";

/** A Worker engine, initialised, whose messages `onMessage` hears. */
async function engine(
  onMessage: (message: FromEngine) => void,
): Promise<WorkerLink> {
  const link = new WorkerLink(new URL("./worker.ts", import.meta.url));
  const ready = Promise.withResolvers<void>();
  link.onMessage = (message) => {
    if (message.t === "ready") ready.resolve();
    else onMessage(message);
  };
  link.send({ t: "init", engineId: 0, acks: newSharedSlots() });
  await guard(ready.promise, "the engine to be ready");
  return link;
}

function run(taskId: number, source: string, args: unknown[] = []) {
  return { t: "run", taskId, fn: { kind: "source", source }, args } as const;
}

Deno.test("a burst of sync, async and failing tasks: each done in order, with its outcome", async () => {
  const dones: DoneMessage[] = [];
  const all = Promise.withResolvers<void>();
  const link = await engine((message) => {
    if (message.t !== "done") return;
    dones.push(message);
    if (dones.length === 30) all.resolve();
  });
  try {
    for (const i of range(30)) {
      const source = i % 7 === 3
        ? "(x) => { throw new Error('no ' + x); }"
        : i % 5 === 1
        ? "async (x) => { await null; return x * 2; }"
        : "(x) => x * 2";
      link.send(run(i + 1, source, [i]));
    }
    await guard(all.promise, "30 dones");
    assert.deepEqual(dones.map((d) => d.taskId), range(30).map((i) => i + 1));
    for (const [i, done] of dones.entries()) {
      if (i % 7 === 3) {
        assert.equal(done.ok, false);
        assert.equal(done.error?.message, `no ${i}`);
      } else {
        assert.equal(done.ok, true, `task ${i + 1}`);
        assert.equal(done.value, i * 2);
      }
      assert.ok(done.started <= done.completed);
      if (i > 0) assert.ok(dones[i - 1].completed <= done.started);
    }
  } finally {
    await guard(link.terminate(), "the engine thread to end");
  }
});

Deno.test("a chain of synchronous tasks still reads messages between tasks", async () => {
  // Task 2 holds its thread until the client has its pong, which the
  // engine can send only if it reads the ping between tasks 1 and 2. Task 1
  // waits until the ping is on its way, then works longer than a chain may
  // run without reading (flags: [0] pong seen, [1] ping sent).
  const flag = new Int32Array(new SharedArrayBuffer(8));
  const seen: string[] = [];
  const done2 = Promise.withResolvers<DoneMessage>();
  const held: { link?: WorkerLink } = {};
  const link = held.link = await engine((message) => {
    if (message.t === "pong") {
      seen.push("pong");
      Atomics.store(flag, 0, 1);
    } else if (message.t === "done") {
      seen.push(`done ${message.taskId}`);
      if (message.taskId === 0) {
        held.link!.send({ t: "ping" });
        Atomics.store(flag, 1, 1);
      }
      if (message.taskId === 2) done2.resolve(message);
    }
  });
  try {
    link.send(run(0, "() => 0"));
    link.send(run(
      1,
      `(sab) => {
        const f = new Int32Array(sab);
        const sent = Date.now() + 10_000;
        while (Atomics.load(f, 1) === 0 && Date.now() < sent);
        const end = performance.now() + 10;
        while (performance.now() < end);
        return 1;
      }`,
      [flag.buffer],
    ));
    link.send(run(
      2,
      `(sab) => {
        const f = new Int32Array(sab);
        const end = Date.now() + 10_000;
        while (Atomics.load(f, 0) === 0 && Date.now() < end);
        return Atomics.load(f, 0) === 1 ? "released" : "never released";
      }`,
      [flag.buffer],
    ));
    const done = await guard(done2.promise, "task 2's done");
    // Released: the ping, sent after task 0, was read before task 2 began
    // (the thread reads nothing while task 2 holds it).
    assert.equal(done.value, "released");
    assert.ok(seen.indexOf("pong") < seen.indexOf("done 2"), `${seen}`);
  } finally {
    await guard(link.terminate(), "the engine thread to end");
  }
});
