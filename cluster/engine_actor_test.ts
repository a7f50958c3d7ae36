/**
 * The engine actor on a `FakeLink`: its lifecycle (init, ready, death,
 * restart, reset, stop), the pipeline of tasks sent ahead, what a message
 * that breaks the protocol does, and where output and publications go.
 * Deterministic: the test plays the engine, and every observer's `done` is
 * checked to be heard exactly once. Aborts are in `task_pipeline_test.ts`,
 * heartbeats in `liveness_test.ts`.
 */

import assert from "node:assert/strict";
import { EngineError, RemoteError } from "../protocol/errors.ts";
import { TASK_PIPELINE } from "../protocol/messages.ts";
import { FakeLink } from "../tests/fake_link.ts";
import { engineRig } from "../tests/engine_rig.ts";
import { range } from "../tests/helpers.ts";
import type { TaskProbe } from "../tests/task_probe.ts";

/** Each probe was told exactly one outcome (`error()`/`value()` check it). */
function assertAllSettled(probes: TaskProbe[]): void {
  for (const probe of probes) {
    assert.equal(probe.outcomes.length, 1, `task ${probe.taskId}`);
  }
}

Deno.test("init names the engine and shares memory; ready registers it", () => {
  const rig = engineRig();
  const [init] = rig.link.sentOf("init");
  assert.equal(init.engineId, 0);
  assert.ok(init.acks instanceof SharedArrayBuffer);
  assert.equal(rig.engine.state, "starting");
  rig.ready();
  assert.equal(rig.engine.state, "idle");
  assert.deepEqual(rig.events, [{ type: "registered", engineId: 0 }]);
  // A second ready is not a second registration.
  rig.ready();
  assert.equal(rig.events.length, 1);
});

Deno.test("a link that shares no memory gets no acks in init", () => {
  const rig = engineRig({ sharesMemory: false });
  assert.equal(rig.link.sentOf("init")[0].acks, undefined);
});

Deno.test("tasks wait for ready, then at most TASK_PIPELINE go, in order", () => {
  const rig = engineRig();
  const ids = range(TASK_PIPELINE + 4).map((i) => i + 1);
  const probes = rig.submit(...ids);
  assert.deepEqual(rig.runs(), [], "nothing is sent before ready");
  assert.equal(rig.engine.load, ids.length);
  rig.ready();
  assert.deepEqual(rig.runs(), ids.slice(0, TASK_PIPELINE));
  assert.equal(rig.engine.state, "busy");
  assert.equal(rig.engine.currentTaskId, 1);
  // Only the head was told it started.
  assert.deepEqual(probes.map((p) => p.starts), ids.map((id) => +(id === 1)));
  rig.done(1);
  assert.equal(probes[0].value(), 1);
  assert.equal(probes[1].starts, 1, "the next one runs now");
  assert.equal(probes[2].starts, 0);
  assert.deepEqual(rig.runs(), ids.slice(0, TASK_PIPELINE + 1));
  for (const id of ids.slice(1)) rig.done(id);
  assert.deepEqual(rig.runs(), ids, "each sent once, in order");
  assert.deepEqual(probes.map((p) => p.value()), ids);
  assert.deepEqual(probes.map((p) => p.starts), ids.map(() => 1));
  assert.equal(rig.engine.state, "idle");
  assert.equal(rig.engine.load, 0);
  assert.equal(rig.engine.tasksDone, ids.length);
});

Deno.test("a done for a task other than the running one is ignored", () => {
  const rig = engineRig();
  const probes = rig.submit(1, 2);
  rig.ready();
  rig.done(2);
  rig.done(99);
  assert.deepEqual(probes.map((p) => p.outcomes.length), [0, 0]);
  rig.done(1);
  rig.done(2);
  assert.deepEqual(probes.map((p) => p.value()), [1, 2]);
});

Deno.test("a failed task fails with a RemoteError naming engine and task", () => {
  const rig = engineRig();
  const [probe] = rig.submit(5);
  rig.ready();
  rig.link.say({
    t: "done",
    taskId: 5,
    ok: false,
    started: 1,
    completed: 2,
    error: { name: "TypeError", message: "nope" },
  });
  const error = probe.error();
  assert.ok(error instanceof RemoteError);
  assert.equal(error.engineId, 0);
  assert.equal(error.taskId, 5);
  assert.match(error.message, /nope/);
});

Deno.test("a task the link cannot carry fails alone; the next one goes", () => {
  const rig = engineRig({
    refuse: (message) => message.t === "run" && message.taskId === 2,
  });
  const probes = rig.submit(1, 2, 3);
  rig.ready();
  assert.deepEqual(rig.runs(), [1, 3]);
  const error = probes[1].error();
  assert.ok(error instanceof TypeError);
  assert.match(error.message, /task 2 could not be sent to engine 0/);
  rig.done(1);
  assert.equal(probes[2].starts, 1);
  rig.done(3);
  assert.deepEqual([probes[0].value(), probes[2].value()], [1, 3]);
});

Deno.test("output reaches the running task only", () => {
  const rig = engineRig();
  const probes = rig.submit(1, 2);
  rig.ready();
  rig.link.say({ t: "stream", taskId: 1, name: "stdout", text: "hi\n" });
  rig.link.say({ t: "stream", taskId: 2, name: "stderr", text: "early\n" });
  assert.deepEqual(probes[0].output, [{ name: "stdout", text: "hi\n" }]);
  assert.deepEqual(probes[1].output, []);
});

Deno.test("publications go to the registry and are acknowledged", () => {
  const rig = engineRig();
  rig.submit(1);
  rig.ready();
  rig.link.say({ t: "pub", taskId: 1, seq: 1, time: 5, data: { i: 1 } });
  assert.deepEqual(rig.registry.latest(0), {
    engineId: 0,
    taskId: 1,
    seq: 1,
    time: 5,
    data: { i: 1 },
  });
  const acks = new Int32Array(rig.link.sentOf("init")[0].acks!);
  assert.equal(acks[0], 1, "one publication taken in");
});

Deno.test("a death fails exactly the tasks the engine held, once", () => {
  const rig = engineRig();
  const ids = range(TASK_PIPELINE + 4).map((i) => i + 1);
  const probes = rig.submit(...ids);
  rig.ready();
  rig.done(1);
  rig.link.exit("it fell over");
  assert.equal(probes[0].value(), 1);
  for (const probe of probes.slice(1)) {
    const error = probe.error();
    assert.ok(error instanceof EngineError, `task ${probe.taskId}`);
    assert.equal(error.taskId, probe.taskId);
    assert.match(error.message, /it fell over/);
  }
  assert.equal(rig.engine.state, "restarting");
  assert.equal(rig.engine.deathReason, "it fell over");
  assert.equal(rig.engine.load, 0);
  assert.deepEqual(rig.events.at(-1), {
    type: "died",
    engineId: 0,
    reason: "it fell over",
    cause: "other",
    deliberate: false,
  });
  // The old link is gone: a late exit is not a second death.
  rig.link.exit("again");
  assert.equal(rig.events.length, 2);
  assertAllSettled(probes);
});

Deno.test("a restarted engine takes new tasks on its new link", () => {
  const rig = engineRig();
  rig.ready();
  const old = rig.link;
  old.exit("gone");
  const [queued] = rig.submit(7);
  const link = rig.restart();
  assert.equal(rig.engine.state, "starting");
  assert.deepEqual(rig.runs(), []);
  rig.ready();
  assert.deepEqual(rig.runs(), [7]);
  assert.deepEqual(old.sentOf("run"), []);
  rig.done(7);
  assert.equal(queued.value(), 7);
  assert.equal(rig.engine.restarts, 1);
  assert.deepEqual(rig.events.at(-1), {
    type: "restarted",
    engineId: 0,
    restarts: 1,
  });
  assert.equal(link.terminated, 0);
});

Deno.test("a restart for an engine that is not down is refused", () => {
  const rig = engineRig();
  rig.ready();
  const extra = new FakeLink();
  rig.engine.tell({ kind: "restart", link: extra });
  assert.equal(extra.terminated, 1);
  assert.equal(rig.engine.restarts, 0);
});

Deno.test("a reset (the engine replaced its thread) fails what it ran", () => {
  const rig = engineRig({ answersWhileBusy: true, sharesMemory: false });
  const probes = rig.submit(1, 2);
  rig.ready();
  rig.link.say({ t: "reset", reason: "its thread ran out of memory" });
  for (const probe of probes) {
    assert.match(probe.error().message, /its thread ran out of memory/);
  }
  assert.equal(rig.engine.state, "starting");
  assert.equal(rig.engine.restarts, 1);
  const [next] = rig.submit(3);
  rig.ready();
  rig.done(3);
  assert.equal(next.value(), 3);
  assert.equal(rig.link.terminated, 0);
});

Deno.test("fatal ends the engine as a death", () => {
  const rig = engineRig();
  const [probe] = rig.submit(1);
  rig.ready();
  rig.link.say({ t: "fatal", reason: "its heap ran out" });
  assert.equal(rig.link.terminated, 1);
  assert.match(probe.error().message, /its heap ran out/);
  assert.equal(rig.engine.state, "restarting");
});

Deno.test("a message that breaks the protocol ends the engine as a death", () => {
  const rig = engineRig();
  const probes = rig.submit(1, 2);
  rig.ready();
  rig.link.say({ t: "bogus" } as never);
  assert.equal(rig.link.terminated, 1);
  for (const probe of probes) {
    const error = probe.error();
    assert.ok(error instanceof EngineError);
    assert.match(error.message, /does not fit the protocol/);
  }
  assert.equal(rig.engine.state, "restarting");
  assert.match(rig.engine.deathReason!, /does not fit the protocol/);
});

Deno.test("stop fails the queue and what runs, and later submissions", async () => {
  const rig = engineRig();
  const ids = range(TASK_PIPELINE + 2).map((i) => i + 1);
  const probes = rig.submit(...ids);
  rig.ready();
  await rig.engine.stop("the client closed");
  assert.equal(rig.link.terminated, 1);
  assert.equal(rig.engine.state, "stopped");
  const [late] = rig.submit(99);
  for (const probe of [...probes, late]) {
    const error = probe.error();
    assert.ok(error instanceof EngineError, `task ${probe.taskId}`);
    assert.match(error.message, /the client closed/);
    assert.match(error.message, /will not come back/);
  }
  assert.equal(rig.engine.load, 0);
  // Stopping twice changes nothing; the link is not ended twice.
  await rig.engine.stop("again");
  assert.equal(rig.link.terminated, 1);
  assertAllSettled([...probes, late]);
});

Deno.test("stop with shutdown tells a remote engine to exit", async () => {
  const rig = engineRig({ shutdownable: true });
  rig.ready();
  await rig.engine.stop("bye", { shutdown: true });
  assert.equal(rig.link.shutDown, 1);
  assert.equal(rig.link.terminated, 0);
});

Deno.test("a stop while the engine is down ends no link; gaveUp is heard", () => {
  const rig = engineRig();
  const [probe] = rig.submit(1);
  rig.link.exit("crashed"); // Before ready: the task is queued, and fails.
  assert.match(probe.error().message, /crashed/);
  rig.engine.tell({
    kind: "stop",
    reason: "too many restarts",
    event: "gaveUp",
  });
  assert.equal(rig.link.terminated, 0);
  assert.deepEqual(rig.events.at(-1), {
    type: "gaveUp",
    engineId: 0,
    reason: "too many restarts",
  });
});
