/**
 * The engine actor's hold on one link, on `FakeLink`s: what `init` carries
 * for each kind of link, a link that cannot be started, the ways the
 * engine or its task is ended, and what the shared memory says.
 */

import assert from "node:assert/strict";
import { ACK_SLOT, RUNNING_SLOT } from "../protocol/messages.ts";
import type { FromEngine, RunMessage } from "../protocol/messages.ts";
import { FakeLink } from "../tests/fake_link.ts";
import { AttachedLink } from "./attached_link.ts";
import { PutStore } from "./put_store.ts";

/** Attaches `link` as engine 3, recording what it says and its exit. */
function attach(link: FakeLink) {
  const heard: FromEngine[] = [];
  const exits: string[] = [];
  const held = new AttachedLink(link, 3, {
    message: (message) => heard.push(message),
    exit: (reason) => exits.push(reason),
  });
  const slots = () => new Int32Array(link.sentOf("init")[0].acks!);
  return { held, heard, exits, slots };
}

Deno.test("init to a Worker-like link carries the shared slots", () => {
  const link = new FakeLink();
  const { slots } = attach(link);
  const [init] = link.sentOf("init");
  assert.equal(init.engineId, 3);
  assert.equal(init.maxFrameBytes, undefined);
  assert.deepEqual([...slots()], [0, 0]);
});

Deno.test("init over TCP carries the frame limit and no shared memory", () => {
  const link = new FakeLink({ sharesMemory: false, maxFrameBytes: 4096 });
  attach(link);
  assert.deepEqual(link.sentOf("init"), [
    { t: "init", engineId: 3, maxFrameBytes: 4096 },
  ]);
});

Deno.test("messages and the exit reach the handlers", () => {
  const link = new FakeLink();
  const { heard, exits } = attach(link);
  link.say({ t: "ready" });
  link.exit("gone");
  assert.deepEqual(heard, [{ t: "ready" }]);
  assert.deepEqual(exits, ["gone"]);
});

Deno.test("a link that cannot carry init is an exit, not a throw", () => {
  const link = new FakeLink({ refuse: (message) => message.t === "init" });
  const { exits } = attach(link);
  assert.equal(exits.length, 1);
  assert.match(exits[0], /^it could not start: TypeError: the fake link/);
});

Deno.test("stopRunning interrupts where the link can, else terminates", () => {
  const interruptible = new FakeLink({ interruptible: true });
  attach(interruptible).held.stopRunning();
  assert.equal(interruptible.interrupted, 1);
  assert.equal(interruptible.terminated, 0);
  const worker = new FakeLink();
  attach(worker).held.stopRunning();
  assert.equal(worker.terminated, 1);
});

Deno.test("shutdown tells a remote engine to exit; others are terminated", async () => {
  const remote = new FakeLink({ shutdownable: true });
  const held = attach(remote).held;
  held.shutdown();
  await held.gone;
  assert.equal(remote.shutDown, 1);
  assert.equal(remote.terminated, 0);
  const local = new FakeLink();
  attach(local).held.shutdown();
  assert.equal(local.terminated, 1);
});

Deno.test("ping is sent, and a link that cannot send it does not throw", () => {
  const link = new FakeLink();
  attach(link).held.ping();
  assert.equal(link.sentOf("ping").length, 1);
  const refusing = new FakeLink({ refuse: (message) => message.t === "ping" });
  attach(refusing).held.ping();
  assert.equal(refusing.sentOf("ping").length, 0);
});

Deno.test("acknowledge counts a publication taken in", () => {
  const link = new FakeLink();
  const { held, slots } = attach(link);
  held.acknowledge();
  held.acknowledge();
  assert.equal(slots()[ACK_SLOT], 2);
});

Deno.test("runs reads the running task's id where memory is shared", () => {
  const link = new FakeLink();
  const { held, slots } = attach(link);
  assert.equal(held.runs(5), false);
  slots()[RUNNING_SLOT] = 5;
  assert.equal(held.runs(5), true);
  assert.equal(held.runs(6), false);
  const tcp = new FakeLink({ sharesMemory: false });
  assert.equal(attach(tcp).held.runs(5), true, "assumed: it cannot tell");
});

/** A run of task `taskId` taking put value 9 of `store` (held already). */
function runWithRef(store: PutStore, taskId: number): RunMessage {
  const refs = [{ arg: 0, id: 9 }];
  const fn = { kind: "source" as const, source: "(a) => a" };
  assert.equal(store.take({ taskId, fn, args: [null], refs }), undefined);
  return { t: "run", taskId, fn, args: [null], refs };
}

/** The put value ids each run sent to `link` carried. */
function carried(link: FakeLink): number[][] {
  return link.sentOf("run").map((run) => (run.values ?? []).map((v) => v.id));
}

Deno.test("put values go once per thread life: again after a reset", () => {
  const store = new PutStore();
  store.put(9, [1, 2]);
  const link = new FakeLink({ sharesMemory: false, interruptible: true });
  const { held } = attach(link);
  held.send(runWithRef(store, 1));
  held.send(runWithRef(store, 2));
  link.say({ t: "reset", reason: "the running task was interrupted" });
  held.send(runWithRef(store, 3));
  assert.deepEqual(carried(link), [[9], [], [9]]);
});

Deno.test("a run sent after an interrupt, before its reset, carries its values", () => {
  const store = new PutStore();
  store.put(9, [1, 2]);
  const link = new FakeLink({ sharesMemory: false, interruptible: true });
  const { held } = attach(link);
  held.send(runWithRef(store, 1));
  held.stopRunning();
  // The engine process may have replaced its thread already: this run may
  // reach the new one, which holds nothing yet.
  held.send(runWithRef(store, 2));
  link.say({ t: "reset", reason: "the running task was interrupted" });
  held.send(runWithRef(store, 3));
  assert.deepEqual(carried(link), [[9], [9], [9]]);
  // Released, it is forgotten once, by the thread that holds it now.
  store.release([9]);
  assert.equal(link.sentOf("release").length, 1);
});
