/**
 * When an engine actor takes its engine for dead, on a `FakeLink`: the
 * start deadline, missed heartbeats (a Worker busy with our task is
 * working; one silent outside any task is stuck; an engine process answers
 * while busy, so its silence always counts), and how long queued tasks
 * wait for an engine that is down. Each heartbeat is the test telling the
 * actor one, as the supervisor's timer does.
 */

import assert from "node:assert/strict";
import { EngineError } from "../protocol/errors.ts";
import { engineRig } from "../tests/engine_rig.ts";
import { sleep } from "../tests/helpers.ts";
import { Liveness } from "./liveness.ts";

const beat = { kind: "heartbeat" as const, misses: 2 };

Deno.test("an idle engine that stays silent misses beats and dies", () => {
  const rig = engineRig();
  rig.ready();
  rig.engine.tell(beat); // It spoke (ready) in this period.
  rig.engine.tell(beat);
  assert.equal(rig.link.sentOf("ping").length, 2);
  assert.equal(rig.engine.state, "idle");
  rig.engine.tell(beat);
  assert.equal(rig.link.terminated, 1);
  assert.equal(rig.engine.deathReason, "it missed 2 heartbeats in a row");
  assert.equal(rig.engine.state, "restarting");
});

Deno.test("any message from the engine breaks the run of misses", () => {
  const rig = engineRig();
  rig.ready();
  for (let i = 0; i < 10; i++) {
    rig.engine.tell(beat);
    rig.engine.tell(beat);
    rig.link.say({ t: "pong" });
  }
  assert.equal(rig.link.terminated, 0);
  assert.equal(rig.engine.state, "idle");
});

Deno.test("a Worker running our task is working, however long it is silent", () => {
  const rig = engineRig();
  const [probe] = rig.submit(1);
  rig.ready();
  rig.running(1);
  for (let i = 0; i < 10; i++) rig.engine.tell(beat);
  assert.equal(rig.link.terminated, 0);
  assert.equal(rig.engine.state, "busy");
  rig.done(1);
  assert.equal(probe.value(), 1);
});

Deno.test("a Worker silent outside any task of ours is stuck, and dies", () => {
  const rig = engineRig();
  const [probe] = rig.submit(1);
  rig.ready();
  rig.running(0); // Sent a task, but its thread runs none: a timer spins.
  for (let i = 0; i < 3; i++) rig.engine.tell(beat);
  assert.equal(rig.link.terminated, 1);
  assert.match(rig.engine.deathReason!, /stuck outside any task/);
  const error = probe.error();
  assert.ok(error instanceof EngineError);
  assert.match(error.message, /missed 2 heartbeats/);
});

Deno.test("an engine that answers while busy: silence counts, busy or not", () => {
  const rig = engineRig({ answersWhileBusy: true, sharesMemory: false });
  const [probe] = rig.submit(1);
  rig.ready();
  for (let i = 0; i < 3; i++) rig.engine.tell(beat);
  assert.equal(rig.link.terminated, 1);
  assert.equal(rig.engine.deathReason, "it missed 2 heartbeats in a row");
  assert.match(probe.error().message, /missed 2 heartbeats in a row/);
});

Deno.test("a starting engine is not pinged and misses no beats", () => {
  const rig = engineRig();
  for (let i = 0; i < 10; i++) rig.engine.tell(beat);
  assert.equal(rig.link.terminated, 0);
  assert.deepEqual(rig.link.sentOf("ping"), []);
  assert.equal(rig.engine.state, "starting");
});

Deno.test("an engine that is not ready within startTimeoutMs dies", async () => {
  const rig = engineRig({ startTimeoutMs: 1 });
  const [probe] = rig.submit(1);
  await sleep(3);
  rig.engine.tell(beat);
  assert.equal(rig.link.terminated, 1);
  assert.equal(rig.engine.state, "restarting");
  assert.match(
    rig.engine.deathReason!,
    /did not say it was ready within 1 ms of being started \(startTimeoutMs\)/,
  );
  assert.ok(probe.error() instanceof EngineError);
});

Deno.test("a replaced task thread gets its own start deadline", async () => {
  // 10 ms: room for a pause of the machine between the reset and the beat.
  const rig = engineRig({
    startTimeoutMs: 10,
    answersWhileBusy: true,
    interruptible: true,
  });
  rig.ready();
  await sleep(15); // The first start is past its deadline now.
  rig.link.say({ t: "reset", reason: "replaced" });
  rig.engine.tell(beat);
  assert.equal(rig.link.terminated, 0, "its deadline starts at the reset");
  await sleep(15);
  rig.engine.tell(beat);
  assert.equal(rig.link.terminated, 1);
  assert.match(rig.engine.deathReason!, /startTimeoutMs/);
});

Deno.test("tasks queued for a down engine fail after noEngineTimeoutMs", async () => {
  const rig = engineRig({ noEngineTimeoutMs: 1 });
  rig.ready();
  rig.link.exit("it went away");
  const [probe] = rig.submit(1);
  await sleep(3);
  rig.engine.tell(beat);
  const error = probe.error();
  assert.ok(error instanceof EngineError);
  assert.match(
    error.message,
    /not been up for 1 ms \(noEngineTimeoutMs\) since it died because it went away/,
  );
  // Once it is back, the clock is off: tasks wait for it again.
  rig.restart();
  rig.ready();
  await sleep(3);
  rig.engine.tell(beat);
  const [next] = rig.submit(2);
  rig.done(2);
  assert.equal(next.value(), 2);
});

Deno.test("tasks wait for a down engine within noEngineTimeoutMs", () => {
  const rig = engineRig();
  rig.ready();
  rig.link.exit("it went away");
  const [probe] = rig.submit(1);
  rig.engine.tell(beat);
  assert.equal(probe.outcomes.length, 0);
  rig.restart();
  rig.ready();
  rig.done(1);
  assert.equal(probe.value(), 1);
});

Deno.test("Liveness: late start, expired queue, missed beats", async () => {
  const liveness = new Liveness({ startTimeoutMs: 1, noEngineTimeoutMs: 1 });
  const at = (life: "starting" | "up" | "down", holdsTask = false) =>
    liveness.heartbeat({
      life,
      misses: 1,
      holdsTask,
      silentWhileBusy: true,
      runsOurTask: true,
    });
  liveness.starting();
  await sleep(3);
  assert.match(at("starting").dead!, /within 1 ms/);
  assert.deepEqual(at("down"), { expired: false, ping: false }, "never died");
  liveness.down();
  await sleep(3);
  liveness.down(); // A second death does not restart the clock.
  assert.deepEqual(at("down"), { expired: true, ping: false });
  liveness.up();
  assert.deepEqual(at("up"), { expired: false, ping: true }, "heard at start");
  assert.deepEqual(at("up", true), { expired: false, ping: true }, "working");
  assert.deepEqual(at("up"), {
    dead: "it missed 1 heartbeats in a row",
    cause: "heartbeat",
    expired: false,
    ping: false,
  });
});
