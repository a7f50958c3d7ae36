import assert from "node:assert/strict";
import { engineStatus } from "../tests/engine_status.ts";
import { queueStatusOf } from "./queue_status.ts";

Deno.test("queueStatusOf: running from currentTaskId, queued the rest of the load", () => {
  const status = queueStatusOf([
    engineStatus(0, { tasksDone: 7 }),
    engineStatus(2, { state: "busy", currentTaskId: 4, load: 3 }),
    // Sent, not started yet: all of its load is queued.
    engineStatus(5, { state: "busy", load: 2, tasksDone: 1 }),
  ], 6);
  assert.deepEqual(status, {
    engines: {
      0: { queued: 0, running: 0, completed: 7 },
      2: { queued: 2, running: 1, completed: 0 },
      5: { queued: 2, running: 0, completed: 1 },
    },
    unassigned: 6,
  });
});

Deno.test("queueStatusOf: no engines, and a load that lags its current task", () => {
  assert.deepEqual(queueStatusOf([], 0), { engines: {}, unassigned: 0 });
  const lagging = queueStatusOf([
    engineStatus(0, { currentTaskId: 1, load: 0 }),
  ], 0);
  assert.deepEqual(lagging.engines[0], { queued: 0, running: 1, completed: 0 });
});
