/**
 * The wait of a queued task for an engine, judged at clock readings the test
 * gives (`look(…, now)`), against engine actors on FakeLinks that are up,
 * restarting or stopped.
 */

import assert from "node:assert/strict";
import { EngineWait } from "./engine_wait.ts";
import { EngineActor } from "./engine_actor.ts";
import { Registry } from "./registry.ts";
import { EngineError } from "../protocol/errors.ts";
import { FakeLink } from "../tests/fake_link.ts";

type Fate = "up" | "starting" | "restarting" | "stopped";

/** Engine actors 0, 1, … in these states; a restarting one died `why`. */
async function enginesIn(...fates: Fate[]): Promise<EngineActor[]> {
  const registry = new Registry();
  const engines: EngineActor[] = [];
  for (const [id, fate] of fates.entries()) {
    const link = new FakeLink();
    const engine = new EngineActor(id, link, registry);
    if (fate !== "starting") link.say({ t: "ready" });
    if (fate === "restarting") link.exit(`crash ${id}`);
    if (fate === "stopped") await engine.stop("it was given up");
    engines.push(engine);
  }
  return engines;
}

Deno.test("a task waits while an engine of its own is up, and for none that is not", async () => {
  const engines = await enginesIn("up", "restarting");
  const wait = new EngineWait(1000);
  const judge = wait.look(engines, false, 0);
  assert.equal(judge({ taskId: 1 }), undefined, "engine 0 is up");
  assert.equal(judge({ taskId: 2, targets: new Set([0, 1]) }), undefined);
  // Only engine 1, which is down: the wait starts now.
  const mine = { taskId: 3, targets: new Set([1]) };
  assert.equal(judge(mine), undefined);
  assert.equal(wait.look(engines, false, 999)(mine), undefined);
  const error = wait.look(engines, false, 1000)(mine);
  assert.ok(error instanceof EngineError, String(error));
  assert.equal(error.engineId, 1);
  assert.equal(error.taskId, 3);
  assert.equal(
    error.reason,
    "no engine this task may run on has been up for 1000 ms " +
      "(noEngineTimeoutMs): engine 1 restarting; engine 1 last died " +
      "because crash 1",
  );
  assert.match(error.message, /No engine is left to run it/);
  assert.match(error.message, /raise it to keep them/);
});

Deno.test("the wait is counted from the first look, and forget starts it over", async () => {
  const engines = await enginesIn("starting");
  const wait = new EngineWait(100);
  const task = { taskId: 1 };
  assert.equal(wait.look(engines, false, 50)(task), undefined);
  assert.equal(wait.look(engines, false, 149)(task), undefined);
  wait.forget(task); // Handed out, say, then back in the queue.
  assert.equal(wait.look(engines, false, 149)(task), undefined);
  assert.equal(wait.look(engines, false, 248)(task), undefined);
  assert.ok(wait.look(engines, false, 249)(task) instanceof EngineError);
  // clear() (every engine up, or the queue empty) ends every wait: the
  // next one counts from its own first look.
  const other = { taskId: 2 };
  assert.equal(wait.look(engines, false, 300)(other), undefined);
  wait.clear();
  assert.equal(wait.look(engines, false, 399)(other), undefined);
  assert.equal(wait.look(engines, false, 498)(other), undefined);
});

Deno.test("with no engine that can come back, the task fails at once", async () => {
  const engines = await enginesIn("stopped", "restarting", "stopped");
  const wait = new EngineWait(60_000);
  const error = wait.look(engines, false, 0)({
    taskId: 7,
    targets: new Set([0, 2]),
  });
  assert.ok(error instanceof EngineError, String(error));
  assert.equal(
    error.reason,
    "no engine this task may run on is left: engine 0 given up, " +
      "engine 2 given up",
  );
  assert.equal(error.engineId, 0, "none died: the first of its engines");
  // One that may come back keeps it waiting.
  assert.equal(wait.look(engines, false, 0)({ taskId: 8 }), undefined);
});

Deno.test("a client that may gain engines keeps tasks waiting, but not forever", () => {
  const wait = new EngineWait(500);
  const task = { taskId: 4 };
  assert.equal(wait.look([], true, 0)(task), undefined);
  const error = wait.look([], true, 500)(task);
  assert.ok(error !== undefined && !(error instanceof EngineError));
  assert.match(
    error.message,
    /^task 4: no engine this task may run on has been up for 500 ms \(noEngineTimeoutMs\)\. To get engines, start the client with some/,
  );
  // With no engine and none to come, the failure is immediate.
  const none = wait.look([], false, 0)({ taskId: 5 });
  assert.match(
    none?.message ?? "",
    /^task 5: no engine this task may run on is left\. To get engines/,
  );
});
