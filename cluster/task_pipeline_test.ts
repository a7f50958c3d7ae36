/**
 * Aborts wherever a task is, through an engine actor on a `FakeLink`: a
 * queued task, a task sent ahead (and the races of the engine's answers),
 * the running task on a Worker-like link and on an interruptible one; then
 * the pipeline's own bookkeeping of `cancel` requests, driven directly.
 * Every observer's `done` is checked to be heard exactly once.
 */

import assert from "node:assert/strict";
import { TaskAbortedError } from "../protocol/errors.ts";
import { TASK_PIPELINE, type ToEngine } from "../protocol/messages.ts";
import { engineRig } from "../tests/engine_rig.ts";
import { range } from "../tests/helpers.ts";
import { TaskProbe } from "../tests/task_probe.ts";
import { TaskPipeline } from "./task_pipeline.ts";

/** The probe failed, once, with a TaskAbortedError for its task. */
function assertAborted(probe: TaskProbe): void {
  const error = probe.error();
  assert.ok(error instanceof TaskAbortedError, `task ${probe.taskId}`);
  assert.equal(error.taskId, probe.taskId);
  assert.equal(error.engineId, 0);
}

const abort = (...ids: number[]) => ({
  kind: "abort" as const,
  taskIds: new Set(ids),
});

Deno.test("an aborted queued task fails at once and is never sent", () => {
  const rig = engineRig();
  const last = TASK_PIPELINE + 2;
  const ids = range(last).map((i) => i + 1);
  const probes = rig.submit(...ids);
  rig.ready();
  rig.engine.tell(abort(last));
  assertAborted(probes[last - 1]);
  assert.equal(rig.engine.load, last - 1);
  assert.deepEqual(rig.link.sentOf("cancel"), [], "the engine never knew");
  for (const id of ids.slice(0, -1)) rig.done(id);
  assert.deepEqual(rig.runs(), ids.slice(0, -1));
  assert.equal(probes[last - 1].starts, 0);
  for (const probe of probes.slice(0, -1)) probe.value();
  assert.equal(rig.engine.state, "idle");
});

Deno.test("an aborted task sent ahead fails at once; cancel asks the engine", () => {
  const rig = engineRig();
  const probes = rig.submit(1, 2, 3);
  rig.ready();
  rig.engine.tell(abort(3));
  assertAborted(probes[2]);
  assert.deepEqual(rig.link.sentOf("cancel"), [{ t: "cancel", taskIds: [3] }]);
  assert.equal(rig.engine.load, 2, "it is no one's work any more");
  rig.done(1);
  rig.done(2);
  rig.link.say({ t: "cancelled", taskIds: [3] });
  assert.deepEqual([probes[0].value(), probes[1].value()], [1, 2]);
  assert.equal(probes[2].starts, 0);
  assert.equal(rig.engine.state, "idle");
  assert.equal(rig.link.terminated, 0);
  // A second abort of a settled task does nothing.
  rig.engine.tell(abort(3));
  assert.equal(rig.link.sentOf("cancel").length, 1);
});

Deno.test("the engine runs a cancelled task before it reads cancel: void", () => {
  const rig = engineRig();
  const probes = rig.submit(1, 2, 3);
  rig.ready();
  rig.engine.tell(abort(2));
  rig.done(1);
  assert.equal(probes[1].starts, 0, "an aborted task is never told it runs");
  rig.done(2); // The engine had started it: its result is void.
  rig.link.say({ t: "cancelled", taskIds: [] });
  assertAborted(probes[1]);
  assert.equal(probes[2].starts, 1);
  rig.done(3);
  assert.equal(probes[2].value(), 3);
  assert.equal(rig.engine.tasksDone, 3);
  assert.equal(rig.link.terminated, 0, "not a breach, not a stop");
});

Deno.test("a cancelled task still running when cancel is answered is stopped", () => {
  const rig = engineRig();
  const probes = rig.submit(1, 2, 3);
  rig.ready();
  rig.engine.tell(abort(2));
  rig.done(1);
  rig.link.say({ t: "cancelled", taskIds: [] }); // It kept 2: 2 runs.
  assert.equal(rig.link.terminated, 1, "only ending its thread stops it");
  assert.deepEqual(rig.events.at(-1), {
    type: "died",
    engineId: 0,
    reason: "it was restarted to abort task 2",
    cause: "aborted",
    deliberate: true,
  });
  assertAborted(probes[1]);
  assert.equal(probes[2].outcomes.length, 0, "3 survives the restart");
  rig.restart();
  rig.ready();
  assert.deepEqual(rig.runs(), [3]);
  rig.done(3);
  assert.equal(probes[2].value(), 3);
  assert.equal(probes[0].value(), 1);
});

Deno.test("a dropped head of the line makes the next task the running one", () => {
  const rig = engineRig();
  const probes = rig.submit(1, 2, 3);
  rig.ready();
  rig.engine.tell(abort(2));
  rig.done(1);
  rig.link.say({ t: "cancelled", taskIds: [2] });
  assert.equal(probes[2].starts, 1);
  assert.equal(rig.engine.currentTaskId, 3);
  rig.done(3);
  assert.equal(probes[2].value(), 3);
  assertAborted(probes[1]);
});

Deno.test("aborting the running task on a Worker ends it; the rest go again", () => {
  const rig = engineRig();
  const probes = rig.submit(1, 2, 3);
  rig.ready();
  rig.engine.tell(abort(1, 3));
  assert.equal(rig.link.terminated, 1);
  assertAborted(probes[0]);
  assertAborted(probes[2]);
  assert.equal(probes[1].outcomes.length, 0);
  assert.equal(rig.engine.state, "restarting");
  assert.equal(rig.events.at(-1)?.type, "died");
  const [late] = rig.submit(4);
  const old = rig.link;
  rig.restart();
  rig.ready();
  assert.deepEqual(rig.runs(), [2, 4], "2 again, 3 not: it failed");
  assert.deepEqual(old.sentOf("run").map((r) => r.taskId), [1, 2, 3]);
  assert.equal(probes[1].starts, 1);
  rig.done(2);
  rig.done(4);
  assert.deepEqual([probes[1].value(), late.value()], [2, 4]);
  assert.equal(rig.engine.restarts, 1);
});

Deno.test("aborting the running task on an interruptible link: interrupt, reset", () => {
  const rig = engineRig({
    interruptible: true,
    answersWhileBusy: true,
    sharesMemory: false,
  });
  const probes = rig.submit(1, 2, 3);
  rig.ready();
  rig.engine.tell(abort(1));
  rig.engine.tell(abort(1)); // Asked twice: interrupted once.
  assert.equal(rig.link.interrupted, 1);
  assert.equal(rig.link.terminated, 0);
  assert.equal(
    probes[0].outcomes.length,
    0,
    "it fails once its thread is gone",
  );
  rig.done(1); // Sent before the thread was ended: void.
  const [late] = rig.submit(4);
  rig.engine.tell(abort(3)); // The thread is going: no cancel to answer.
  assertAborted(probes[2]);
  assert.deepEqual(rig.runs(), [1, 2, 3], "nothing more to a dying thread");
  assert.deepEqual(rig.link.sentOf("cancel"), []);
  rig.link.say({ t: "reset", reason: "the running task was interrupted" });
  assertAborted(probes[0]);
  assert.equal(rig.engine.state, "starting");
  rig.ready();
  assert.deepEqual(rig.runs(), [1, 2, 3, 2, 4]);
  rig.done(2);
  rig.done(4);
  assert.deepEqual([probes[1].value(), late.value()], [2, 4]);
  assert.equal(rig.engine.restarts, 1);
  assert.deepEqual(
    rig.events.map((e) => e.type),
    ["registered", "restarted"],
    "no death: the engine kept going",
  );
});

Deno.test("an engine that dies while a task is stopped keeps the queue", () => {
  const rig = engineRig({ interruptible: true });
  const probes = rig.submit(1, 2);
  rig.ready();
  rig.engine.tell(abort(1));
  rig.link.exit("it went away while interrupted");
  assertAborted(probes[0]);
  assert.equal(probes[1].outcomes.length, 0);
  assert.equal(rig.events.at(-1)?.type, "died");
  rig.restart();
  rig.ready();
  rig.done(2);
  assert.equal(probes[1].value(), 2);
});

Deno.test("a death with cancels outstanding tells no task twice", () => {
  const rig = engineRig();
  const probes = rig.submit(1, 2, 3, 4);
  rig.ready();
  rig.engine.tell(abort(2));
  rig.engine.tell(abort(3));
  rig.link.exit("boom");
  assertAborted(probes[1]);
  assertAborted(probes[2]);
  for (const probe of [probes[0], probes[3]]) {
    assert.match(probe.error().message, /boom/);
  }
});

Deno.test("cancelled naming a task it was not asked to cancel is a breach", () => {
  const rig = engineRig();
  const probes = rig.submit(1, 2, 3);
  rig.ready();
  rig.engine.tell(abort(3));
  rig.link.say({ t: "cancelled", taskIds: [2, 3] });
  assert.equal(rig.link.terminated, 1);
  assert.match(
    rig.engine.deathReason!,
    /"cancelled" message naming task 2, which the client did not ask/,
  );
  assertAborted(probes[2]);
  for (const probe of probes.slice(0, 2)) {
    assert.match(probe.error().message, /does not fit the protocol/);
  }
});

/** A pipeline on a link that records what is sent and stopped. */
function pipeline() {
  const sent: ToEngine[] = [];
  let stops = 0;
  const tasks = new TaskPipeline(0, {
    send: (message) => void sent.push(message),
    stopRunning: () => void stops++,
  });
  const submit = (...ids: number[]) =>
    ids.map((id) => {
      const probe = new TaskProbe(id);
      tasks.submit(probe.task());
      return probe;
    });
  return { tasks, sent, submit, stops: () => stops };
}

Deno.test("each cancelled answers the oldest cancel, in order", () => {
  const { tasks, sent, submit, stops } = pipeline();
  const probes = submit(1, 2, 3, 4);
  tasks.sendAhead();
  tasks.abort(new Set([2]));
  tasks.abort(new Set([3]));
  assert.deepEqual(sent.filter((m) => m.t === "cancel"), [
    { t: "cancel", taskIds: [2] },
    { t: "cancel", taskIds: [3] },
  ]);
  // The first answer may not name a task of the second request.
  assert.match(tasks.cancelled([3])!, /naming task 3, which the client/);
  assert.equal(tasks.cancelled([2]), undefined);
  assert.equal(tasks.cancelled([3]), undefined);
  assert.match(tasks.cancelled([4])!, /naming task 4/, "none outstanding");
  assert.equal(tasks.cancelled([]), undefined, "an empty answer is moot");
  assert.equal(stops(), 0);
  assert.equal(tasks.load, 2);
  tasks.finishHead(() => ({ ok: true, value: 1, started: 0, completed: 0 }));
  assert.equal(probes[3].starts, 1);
  assert.equal(tasks.head?.taskId, 4);
});

Deno.test("tasks sent ahead of a stopped one go back before the queue", () => {
  const { tasks, sent, submit, stops } = pipeline();
  const ids = range(TASK_PIPELINE + 3).map((i) => i + 1);
  const probes = submit(...ids);
  tasks.sendAhead();
  tasks.abort(new Set([1, 2]));
  assert.equal(stops(), 1);
  assert.equal(tasks.threadGone(), 1);
  assertAborted(probes[0]);
  assertAborted(probes[1]);
  sent.length = 0;
  tasks.sendAhead();
  const resent = sent.map((m) => m.t === "run" ? m.taskId : -1);
  assert.deepEqual(resent, ids.slice(2, 2 + TASK_PIPELINE));
  assert.equal(tasks.load, ids.length - 2);
  tasks.loseSent(() => new Error("lost"));
  tasks.failQueue(() => new Error("queued"));
  for (const probe of probes) assert.equal(probe.outcomes.length, 1);
  assert.equal(tasks.load, 0);
  assert.equal(tasks.threadGone(), undefined, "nothing was being stopped");
});

/**
 * A pipeline whose tasks, like the load balancer's, may be handed back to
 * run elsewhere (a draining engine's); `back` lists the ids handed back.
 */
function balanced(...ids: number[]) {
  const rig = pipeline();
  const back: number[] = [];
  const probes = ids.map((id) => {
    const probe = new TaskProbe(id);
    rig.tasks.submit({
      ...probe.task(),
      observer: {
        started: () => probe.started(),
        stream: (name, text) => probe.stream(name, text),
        done: (outcome) => probe.done(outcome),
        handBack: () => void back.push(id),
      },
    });
    return probe;
  });
  return { ...rig, probes, back };
}

const ok = (value: number) => () => ({
  ok: true as const,
  value,
  started: 0,
  completed: 0,
});

Deno.test("a drain asks back the tasks sent ahead; those the engine drops are handed back", () => {
  const { tasks, sent, probes, back } = balanced(1, 2, 3);
  tasks.sendAhead();
  tasks.handBackQueued();
  assert.deepEqual(sent.filter((m) => m.t === "cancel"), [
    { t: "cancel", taskIds: [2, 3] },
  ]);
  assert.deepEqual(back, [], "nothing goes back before the engine says");
  assert.equal(tasks.cancelled([2, 3]), undefined);
  assert.deepEqual(back, [2, 3]);
  assert.equal(tasks.load, 1, "only the running task is this engine's");
  tasks.finishHead(ok(1));
  assert.equal(probes[0].value(), 1);
  for (const probe of probes.slice(1)) {
    assert.equal(probe.starts, 0);
    assert.equal(probe.outcomes.length, 0, "a handed-back task was told");
  }
  assert.equal(tasks.busy, false);
});

Deno.test("a recalled task the engine ran first ends with its outcome, whichever answer comes first", () => {
  for (const order of ["done first", "cancelled first"]) {
    const { tasks, probes, back } = balanced(1, 2);
    tasks.sendAhead();
    tasks.handBackQueued();
    tasks.finishHead(ok(1));
    assert.equal(probes[1].starts, 0, `${order}: started while asked back`);
    if (order === "done first") {
      tasks.finishHead(ok(2));
      assert.equal(tasks.cancelled([]), undefined);
    } else {
      assert.equal(tasks.cancelled([]), undefined);
      assert.equal(probes[1].starts, 1, order);
      tasks.finishHead(ok(2));
    }
    assert.deepEqual(probes.map((p) => p.value()), [1, 2], order);
    assert.equal(probes[1].starts, 1, order);
    assert.deepEqual(back, [], order);
    assert.equal(tasks.busy, false, order);
  }
});

Deno.test("tasks asked back when the thread is ended go back to the queue, to be handed back", () => {
  const { tasks, probes, back, stops } = balanced(1, 2, 3);
  tasks.sendAhead();
  tasks.handBackQueued();
  tasks.abort(new Set([1]));
  assert.equal(stops(), 1);
  assert.equal(tasks.threadGone(), 1);
  assertAborted(probes[0]);
  tasks.handBackQueued();
  assert.deepEqual(back, [2, 3]);
  assert.equal(tasks.load, 0);
});

Deno.test("a task aborted while asked back fails once and is not handed back", () => {
  const { tasks, probes, back } = balanced(1, 2);
  tasks.sendAhead();
  tasks.handBackQueued();
  tasks.abort(new Set([2]));
  assertAborted(probes[1]);
  assert.equal(tasks.cancelled([2]), undefined);
  assert.deepEqual(back, []);
  tasks.finishHead(ok(1));
  assert.equal(probes[0].value(), 1);
  assert.equal(probes[1].outcomes.length, 1);
  assert.equal(tasks.load, 0);
});
