import assert from "node:assert/strict";
import { MetricsRegistry } from "../observe/metrics.ts";
import { EngineError, RemoteError } from "../protocol/errors.ts";
import type { TaskListener } from "./cluster.ts";
import { Registry } from "./registry.ts";
import { TaskMetrics } from "./task_metrics.ts";
import { TaskRoutes } from "./task_routes.ts";
import { estimatedBytes } from "./publication_size.ts";

const quiet = (): TaskListener => ({
  assigned() {},
  started() {},
  stream() {},
  publish() {},
  done() {},
});
const route = { tell() {} };

function rig() {
  const registry = new MetricsRegistry();
  const tasks = new TaskMetrics(registry);
  const routes = new TaskRoutes(new Registry(), undefined, tasks);
  return { registry, tasks, routes };
}

Deno.test("task metrics: queued, running, done, each once, by view", () => {
  const { tasks, routes } = rig();
  const direct = routes.add(1, route, quiet(), 0);
  const balanced = routes.add(2, route, quiet());
  assert.equal(tasks.direct.submitted.value, 1);
  assert.equal(tasks.balanced.submitted.value, 1);
  assert.equal(tasks.direct.queued.value, 1);
  direct.started();
  assert.deepEqual(
    [tasks.direct.queued.value, tasks.direct.running.value],
    [0, 1],
  );
  assert.equal(tasks.direct.queueWait.count, 1);
  direct.done({ ok: true, value: 1, started: 0, completed: 0 });
  direct.done({ ok: true, value: 1, started: 0, completed: 0 }); // Ignored.
  assert.deepEqual(
    [tasks.direct.running.value, tasks.direct.done.value],
    [0, 1],
  );
  assert.equal(tasks.direct.duration.count, 1);
  // One that never started: no duration, no wait, out of the queue.
  balanced.done({
    ok: false,
    error: new EngineError("gone", { engineId: 0, taskId: 2 }),
  });
  assert.equal(tasks.balanced.queued.value, 0);
  assert.equal(tasks.balanced.duration.count, 0);
  assert.equal(tasks.balanced.queueWait.count, 0);
});

Deno.test("task metrics: a retried task waits again, and its wait counts once", () => {
  const { tasks, routes } = rig();
  const task = routes.add(3, route, quiet());
  task.assigned(0);
  task.started();
  // Its engine died: the scheduler gives it to another.
  task.assigned(1);
  assert.deepEqual(
    [tasks.balanced.queued.value, tasks.balanced.running.value],
    [1, 0],
  );
  task.started();
  assert.deepEqual(
    [tasks.balanced.queued.value, tasks.balanced.running.value],
    [0, 1],
  );
  task.done({
    ok: false,
    error: new RemoteError({ name: "Error", message: "x" }, {
      engineId: 1,
      taskId: 3,
    }),
  });
  assert.equal(tasks.balanced.queueWait.count, 1, "the first start only");
  assert.equal(tasks.balanced.duration.count, 1);
  assert.equal(tasks.balanced.running.value, 0);
});

Deno.test("task metrics: errors by class, a closed set", () => {
  const { registry, tasks, routes } = rig();
  class Odd extends Error {
    override name = "Odd";
  }
  for (
    const [id, error] of [[4, new RangeError("r")], [5, new Odd("o")], [
      6,
      new Odd("p"),
    ]] as const
  ) {
    routes.add(id, route, quiet(), 0).done({ ok: false, error });
  }
  routes.refused(false, new TypeError("gone"));
  const failed = registry.families().find((f) =>
    f.name === "troupe_tasks_failed_total"
  )!;
  // Every class has a sample (0 until its first failure), in both views.
  assert.equal(failed.samples.length, 2 * 9);
  assert.deepEqual(
    failed.samples
      .filter((s) => "value" in s && s.value > 0)
      .map((s) => [s.labels.error, "value" in s && s.value]),
    [["RangeError", 1], ["TypeError", 1], ["other", 2]],
  );
  assert.equal(tasks.direct.submitted.value, 4, "a refused task was submitted");
});

Deno.test("estimatedBytes: arrays' bytes, strings' length, 8 a number, bounded", () => {
  assert.equal(
    estimatedBytes({ step: 1, y: new Float64Array(100) }),
    4 + 8 + 1 + 800,
  );
  assert.equal(estimatedBytes(["ab", true, null, 2n]), 2 + 1 + 8);
  assert.equal(estimatedBytes(new Map([["k", 1]])), 1 + 8);
  // A million numbers: 256 values looked at, at most.
  const big = Array.from({ length: 1_000_000 }, () => 1);
  assert.ok(estimatedBytes(big) <= 256 * 8);
  assert.equal(estimatedBytes({ big: new Uint8Array(2 ** 20) }), 3 + 2 ** 20);
});
