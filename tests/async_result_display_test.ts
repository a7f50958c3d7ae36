import assert from "node:assert/strict";
import {
  inspectResult,
  notebookBundle,
  resultState,
  type ResultSummary,
  type TaskSummary,
} from "../client/async_result_display.ts";
import { RemoteError, TaskAbortedError } from "../mod.ts";

function task(
  engineId: number,
  taskId: number,
  status: TaskSummary["status"],
  error: Error | null = null,
): TaskSummary {
  return { engineId, taskId, status, error, data: {} };
}

function summary(
  tasks: TaskSummary[],
  elapsed = 120,
  ready = tasks.every((t) => !["queued", "running"].includes(t.status)),
): ResultSummary {
  const progress =
    tasks.filter((t) => !["queued", "running"].includes(t.status))
      .length;
  return { ready, progress, total: tasks.length, elapsed, tasks };
}

Deno.test("the one-line repr: state, engines, progress, elapsed", async (t) => {
  await t.step("pending, as ipyparallel says it", () => {
    assert.equal(
      inspectResult(summary([task(0, 1, "ok"), task(1, 2, "running")])),
      "AsyncResult { pending, engines [0, 1], 1/2 done, 120 ms }",
    );
  });

  await t.step("done, elapsed in seconds and minutes", () => {
    const tasks = [task(0, 1, "ok"), task(1, 2, "ok")];
    assert.equal(
      inspectResult(summary(tasks, 1234)),
      "AsyncResult { done, engines [0, 1], 2/2 done, 1.2 s }",
    );
    assert.match(inspectResult(summary(tasks, 125_000)), /, 2 min 5 s }$/);
  });

  await t.step("a map's chunks name each engine once", () => {
    const tasks = [0, 0, 1, 1].map((e, i) => task(e, i + 1, "queued"));
    assert.match(inspectResult(summary(tasks)), /engines \[0, 1\], 0\/4/);
  });

  await t.step("load-balanced tasks not yet handed out say so", () => {
    assert.match(
      inspectResult(summary([task(-1, 1, "queued")])),
      /pending, no engine yet, 0\/1 done/,
    );
    assert.match(
      inspectResult(summary([task(1, 1, "running"), task(-1, 2, "queued")])),
      /engines \[1\] and queued/,
    );
  });

  await t.step("failed: the first error, and how many there are", () => {
    const boom = new RemoteError({ name: "Error", message: "boom" }, {
      engineId: 1,
      taskId: 2,
    });
    const one = summary([task(0, 1, "ok"), task(1, 2, "error", boom)]);
    assert.equal(resultState(one), "failed");
    assert.equal(
      inspectResult(one),
      "AsyncResult { failed, engines [0, 1], 2/2 done, 120 ms, " +
        "error RemoteError: engine 1, task 2: Error: boom }",
    );
    const two = summary([task(0, 1, "error", boom), task(1, 2, "error", boom)]);
    assert.match(inspectResult(two), /, 2 errors, first RemoteError: /);
  });

  await t.step("aborted when every failure is an abort", () => {
    const aborted = summary([
      task(0, 1, "ok"),
      task(0, 2, "aborted", new TaskAbortedError({ engineId: 0, taskId: 2 })),
    ]);
    assert.equal(resultState(aborted), "aborted");
  });

  await t.step("a long error message is clipped", () => {
    const long = new Error("x".repeat(1000));
    const text = inspectResult(summary([task(0, 1, "error", long)]));
    assert.ok(text.length < 250, text);
    assert.match(text, /x…/);
  });
});

Deno.test("the notebook bundle: HTML escaped, data previewed", () => {
  const tasks: TaskSummary[] = [{
    ...task(0, 7, "running"),
    data: { a: new Float64Array([0.5, 1.5, 2.5, 3.5, 4.5]), s: "<b>&" },
  }];
  const bundle = notebookBundle(summary(tasks, 2500));
  assert.match(bundle["text/plain"], /^AsyncResult: pending, 0\/1 done/);
  assert.match(bundle["text/plain"], /engine 0 task 7: running/);
  assert.match(bundle["text/html"], /pending, 0 of 1 done, 2\.5 s/);
  assert.match(
    bundle["text/html"],
    /Float64Array\(5\) \[0\.5, 1\.5, 2\.5, 3\.5, …\]/,
  );
  assert.match(bundle["text/html"], /s: "&lt;b&gt;&amp;"/);
});
