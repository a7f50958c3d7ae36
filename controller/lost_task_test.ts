import assert from "node:assert/strict";
import type { TaskSummary } from "../remote/wire.ts";
import { errorOf } from "../tests/helpers.ts";
import { startController } from "./controller.ts";
import { lostTask } from "./lost_task.ts";

const RUNNING: TaskSummary = {
  taskId: 2 ** 32 + 1,
  clientNo: 1,
  engineId: 3,
  state: "running",
  fn: "f",
  submitted: 0,
  publications: 0,
};

Deno.test("lost task: names the killed controller's pid when it is known", () => {
  const known = lostTask(RUNNING, 4242);
  assert.equal(known.name, "EngineError");
  assert.equal(
    known.message,
    `the controller stopped (pid 4242, killed or crashed) while task ` +
      `${2 ** 32 + 1} was running on engine 3; its result was lost. Run the ` +
      "task again.",
  );
  assert.equal(known.fields?.engineId, 3);
  // Not known (no stale state file): said without it, nothing invented.
  const unknown = lostTask({
    ...RUNNING,
    state: "queued",
    engineId: undefined,
  });
  assert.equal(
    unknown.message,
    `the controller stopped (killed or crashed) while task ${2 ** 32 + 1} ` +
      "was queued; its result was lost. Run the task again.",
  );
  assert.equal("engineId" in unknown.fields!, false);
});

Deno.test("lost task: startController refuses a previousPid that is no pid", async () => {
  for (const pid of [0, -1, 1.5, "4242"]) {
    const error = await errorOf(
      startController({
        id: "lost",
        engines: { workers: 0 },
        previousPid: pid as number,
        log: () => {},
      }),
      `previousPid ${JSON.stringify(pid)}`,
    );
    assert.ok(error instanceof TypeError, `${error}`);
    assert.match(error.message, /previousPid is the pid of the controller/);
  }
});
