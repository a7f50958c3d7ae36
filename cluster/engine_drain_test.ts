/**
 * Draining an engine on a `FakeLink` (the test plays the engine): a `drain`
 * from the engine (its job nears its walltime) and a `retire` from the
 * cluster (`client.scale` wants fewer). The load balancer's queued tasks
 * are handed back, the running ones finish, direct ones wait for the
 * engine's return (drain) or fail with it (retire), and no task is told
 * twice.
 */

import assert from "node:assert/strict";
import { EngineError } from "../protocol/errors.ts";
import { TASK_PIPELINE } from "../protocol/messages.ts";
import { engineRig } from "../tests/engine_rig.ts";
import { range } from "../tests/helpers.ts";
import { TaskProbe } from "../tests/task_probe.ts";
import type { Task } from "./engine_types.ts";

/** A task of the load balancer's: it can be handed back. */
function balanced(probe: TaskProbe, handedBack: number[]): Task {
  const task = probe.task();
  return {
    ...task,
    observer: {
      started: () => probe.started(),
      stream: (name, text) => probe.stream(name, text),
      done: (outcome) => probe.done(outcome),
      handBack: () => handedBack.push(probe.taskId),
    },
  };
}

/** Fills the pipeline, then queues balanced tasks `extra` and direct `direct`. */
function busyRig(extra: number[], direct: number[]) {
  const rig = engineRig({ shutdownable: true });
  const handedBack: number[] = [];
  const sent = rig.submit(...range(TASK_PIPELINE).map((i) => i + 1));
  const queued = extra.map((id) => new TaskProbe(id));
  for (const probe of queued) {
    rig.engine.tell({ kind: "submit", task: balanced(probe, handedBack) });
  }
  const waiting = rig.submit(...direct);
  rig.ready();
  assert.equal(rig.runs().length, TASK_PIPELINE, "the pipeline is full");
  return { rig, handedBack, sent, queued, waiting };
}

Deno.test("a drain hands back queued balanced tasks, finishes the sent ones, then restarts", () => {
  const extra = [101, 102, 103];
  const { rig, handedBack, sent, queued, waiting } = busyRig(extra, [201]);
  rig.link.say({ t: "drain", reason: "it was sent SIGUSR1" });
  assert.deepEqual(handedBack, extra, "the balanced ones go back at once");
  assert.deepEqual(queued.map((p) => p.outcomes.length), [0, 0, 0]);
  assert.equal(rig.engine.state, "draining");
  assert.equal(rig.engine.up, false, "the scheduler sends it nothing");
  assert.deepEqual(rig.events.at(-1), {
    type: "draining",
    engineId: 0,
    reason: "it was sent SIGUSR1",
  });
  // A balanced task that arrives now goes straight back too.
  const late = new TaskProbe(104);
  rig.engine.tell({ kind: "submit", task: balanced(late, handedBack) });
  assert.deepEqual(handedBack, [...extra, 104]);
  // The sent tasks run to their end; nothing more is sent.
  for (const probe of sent) rig.done(probe.taskId);
  assert.deepEqual(sent.map((p) => p.value()), sent.map((p) => p.taskId));
  assert.equal(rig.runs().length, TASK_PIPELINE);
  assert.equal(rig.link.shutDown, 1, "told to exit once it ran them");
  const died = rig.events.at(-1);
  assert.equal(died?.type, "died");
  assert.ok(died?.type === "died" && died.deliberate, "not a crash");
  // The direct task waits for the engine, and runs when it is back.
  assert.deepEqual(waiting[0].outcomes, []);
  rig.restart();
  rig.ready();
  assert.equal(rig.engine.state, "busy");
  assert.deepEqual(rig.runs(), [201]);
  rig.done(201);
  assert.equal(waiting[0].value(), 201);
});

Deno.test("an idle engine that drains is restarted at once", () => {
  const rig = engineRig({ shutdownable: true });
  rig.ready();
  rig.link.say({ t: "drain", reason: "walltime" });
  assert.deepEqual(rig.events.map((e) => e.type), [
    "registered",
    "draining",
    "died",
  ]);
  assert.equal(rig.engine.state, "restarting");
});

Deno.test("a retired engine finishes its running task, then stops for good", () => {
  const { rig, handedBack, sent, waiting } = busyRig([101], [201]);
  rig.engine.tell({ kind: "retire", reason: "scale(1)" });
  assert.deepEqual(handedBack, [101]);
  for (const probe of sent) rig.done(probe.taskId);
  assert.deepEqual(sent.map((p) => p.value()), sent.map((p) => p.taskId));
  assert.equal(rig.engine.state, "stopped");
  assert.deepEqual(rig.events.at(-1), {
    type: "retired",
    engineId: 0,
    reason: "scale(1)",
  });
  // A direct task for an engine that is gone for good fails, saying why.
  const error = waiting[0].error();
  assert.ok(error instanceof EngineError);
  assert.match(error.message, /scale\(1\)/);
});

Deno.test("an engine that dies while draining fails only what it ran", () => {
  const { rig, handedBack, sent, waiting } = busyRig([101], [201]);
  rig.link.say({ t: "drain", reason: "walltime" });
  rig.link.exit("its Slurm job ended: TIMEOUT");
  assert.deepEqual(handedBack, [101]);
  for (const probe of sent) assert.ok(probe.error() instanceof EngineError);
  assert.ok(waiting[0].error() instanceof EngineError);
  assert.equal(rig.engine.state, "restarting");
});

Deno.test("a drain message without a reason breaks the protocol", () => {
  const rig = engineRig();
  rig.ready();
  rig.link.say({ t: "drain" } as never);
  assert.equal(rig.events.at(-1)?.type, "died");
  assert.equal(rig.link.terminated, 1);
});
