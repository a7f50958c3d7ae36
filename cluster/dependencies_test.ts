import assert from "node:assert/strict";
import {
  TaskAbortedError,
  TimeoutError,
  UnmetDependencyError,
} from "../protocol/errors.ts";
import type { SubmittedTask, TaskListener, TaskOutcome } from "./cluster.ts";
import {
  Dependencies,
  type EndedTask,
  type Held,
  type TaskNeeds,
} from "./dependencies.ts";

/** A host whose "core" holds the ids in `live`, and remembers placements. */
function rig(ended?: (id: number) => EndedTask | Error | undefined) {
  const live = new Set<number>();
  const placed: Held[] = [];
  const outcomes = new Map<number, TaskOutcome>();
  const gone = new Map<number, string>();
  const deps = new Dependencies({
    holds: (id) => live.has(id),
    ended,
    place: (held) => placed.push(...held),
    engineGone: (id) => gone.get(id),
  });
  const listener = (taskId: number): TaskListener => ({
    assigned() {},
    started() {},
    stream() {},
    publish() {},
    done(outcome) {
      outcomes.set(taskId, outcome);
      live.delete(taskId);
      deps.ended(taskId, outcome, undefined);
    },
  });
  const hold = (taskId: number, needs: TaskNeeds, balanced = {}) => {
    live.add(taskId);
    const task: SubmittedTask = {
      taskId,
      fn: { kind: "source", source: "(x) => x" },
      args: [null, "kept"],
      placement: { balanced: { retries: 0, ...balanced } },
      needs,
    };
    deps.hold(task, listener(taskId));
  };
  const end = (taskId: number, outcome: TaskOutcome, engineId?: number) => {
    live.delete(taskId);
    deps.ended(taskId, outcome, engineId);
  };
  return { live, placed, outcomes, gone, deps, hold, end };
}

const ok = (value: unknown): TaskOutcome => ({
  ok: true,
  value,
  started: 0,
  completed: 1,
});

Deno.test("dependencies: args are filled in, follow narrows to the engine", () => {
  const r = rig();
  r.live.add(1).add(2);
  r.hold(3, {
    args: [{ index: 0, tasks: [1, 2], shape: "items", item: 2 }],
    follow: [2],
  });
  assert.equal(r.deps.size, 1);
  r.end(1, ok([10, 11]), 0);
  assert.equal(r.placed.length, 0);
  r.end(2, ok([12, 13]), 1);
  assert.equal(r.deps.size, 0);
  const [{ task }] = r.placed;
  assert.deepEqual(task.args, [12, "kept"]);
  assert.deepEqual(task.placement, { balanced: { retries: 0, targets: [1] } });
  assert.equal(task.needs, undefined);
});

Deno.test("dependencies: a failure cascades down a chain without recursion", () => {
  const r = rig();
  r.live.add(1);
  const n = 20_000;
  for (let id = 2; id <= n; id++) r.hold(id, { after: [id - 1] });
  r.end(1, { ok: false, error: new RangeError("boom") });
  assert.equal(r.deps.size, 0);
  const second = r.outcomes.get(2)!;
  assert.ok(!second.ok && second.error instanceof UnmetDependencyError);
  assert.equal(second.error.dependency, 1);
  assert.match(second.error.message, /boom.*onDependencyFailure: "run"/);
  const last = r.outcomes.get(n)!;
  assert.ok(!last.ok && last.error instanceof UnmetDependencyError);
  assert.equal(last.error.dependency, n - 1);
});

Deno.test("dependencies: run anyway, but never with a failed argument", () => {
  const r = rig();
  r.live.add(1);
  r.hold(2, { after: [1], onFailure: "run" });
  r.hold(3, {
    args: [{ index: 0, tasks: [1], shape: "one" }],
    onFailure: "run",
  });
  r.end(1, { ok: false, error: new RangeError("boom") });
  assert.deepEqual(r.placed.map((h) => h.task.taskId), [2]);
  const third = r.outcomes.get(3)!;
  assert.ok(!third.ok && third.error instanceof UnmetDependencyError);
  assert.ok(third.error.cause instanceof RangeError);
  assert.match(third.error.message, /argument 1 is/);
});

Deno.test("dependencies: follow of tasks on two engines, or a gone one, fails", () => {
  const r = rig();
  r.live.add(1).add(2).add(3);
  r.hold(4, { follow: [1, 2] });
  r.hold(5, { follow: [3] });
  r.gone.set(2, "has stopped for good");
  r.end(1, ok(1), 0);
  r.end(2, ok(2), 1);
  r.end(3, ok(3), 2);
  const fourth = r.outcomes.get(4)!;
  assert.ok(!fourth.ok && fourth.error instanceof UnmetDependencyError);
  assert.match(fourth.error.message, /no engine is where every task/);
  const fifth = r.outcomes.get(5)!;
  assert.ok(!fifth.ok && fifth.error instanceof UnmetDependencyError);
  assert.match(fifth.error.message, /engine 2, which has stopped/);
  assert.equal(r.placed.length, 0);
});

Deno.test("dependencies: abort and timeout while waiting; close", async () => {
  const r = rig();
  r.live.add(1);
  r.hold(2, { after: [1] });
  r.hold(3, { after: [1] }, { timeoutMs: 20 });
  r.hold(4, { after: [2] });
  r.deps.tell({ kind: "abort", taskIds: new Set([2]) });
  const second = r.outcomes.get(2)!;
  assert.ok(!second.ok && second.error instanceof TaskAbortedError);
  const fourth = r.outcomes.get(4)!;
  assert.ok(!fourth.ok && fourth.error instanceof UnmetDependencyError);
  assert.ok(fourth.error.cause instanceof TaskAbortedError);
  await new Promise((resolve) => setTimeout(resolve, 60));
  const third = r.outcomes.get(3)!;
  assert.ok(!third.ok && third.error instanceof TimeoutError);
  r.hold(5, { after: [1] });
  r.deps.close();
  const fifth = r.outcomes.get(5)!;
  assert.ok(!fifth.ok && fifth.error.name === "ClientClosedError");
  assert.equal(r.deps.size, 0);
});

Deno.test("dependencies: an ended dependency is looked up, or fails clearly", () => {
  const embedded = rig();
  embedded.hold(2, { after: [1] });
  const lost = embedded.outcomes.get(2)!;
  assert.ok(!lost.ok && /does not hold/.test(lost.error.message));

  const controller = rig((id) =>
    id === 1
      ? { outcome: ok([5, 6]), engineId: 3 }
      : id === 2
      ? { outcome: ok(0), engineId: 3, valueLost: "over maxValueBytes" }
      : new RangeError(`task ${id} is not in the history`)
  );
  controller.hold(4, {
    args: [{ index: 0, tasks: [1], shape: "items", item: 1 }],
    follow: [1],
  });
  assert.deepEqual(controller.placed[0].task.args, [6, "kept"]);
  controller.hold(5, { after: [2] });
  assert.equal(controller.placed[1].task.taskId, 5);
  controller.hold(6, { args: [{ index: 0, tasks: [2], shape: "one" }] });
  const sixth = controller.outcomes.get(6)!;
  assert.ok(
    !sixth.ok && /not kept \(over maxValueBytes\)/.test(sixth.error.message),
  );
  controller.hold(7, { after: [3] });
  const seventh = controller.outcomes.get(7)!;
  assert.ok(!seventh.ok && /not in the history/.test(seventh.error.message));
});

Deno.test("dependencies: an item of a value that has none fails that dependent alone", () => {
  const r = rig();
  r.live.add(1);
  r.hold(3, { args: [{ index: 0, tasks: [1], shape: "items", item: 0 }] });
  r.hold(4, { after: [1] });
  // It threw inside the dependency's end before, crashing its caller.
  r.end(1, ok(null), 0);
  const failed = r.outcomes.get(3);
  assert.ok(failed && !failed.ok);
  assert.ok(failed.error instanceof UnmetDependencyError);
  assert.match(
    failed.error.message,
    /its value \(null\) is not an array of items/,
  );
  r.live.add(5);
  r.hold(6, { args: [{ index: 0, tasks: [5], shape: "list", item: 1 }] });
  r.end(5, ok("x"), 0);
  const short = r.outcomes.get(6);
  assert.ok(short && !short.ok && short.error instanceof UnmetDependencyError);
  assert.match(short.error.message, /has no item 1 \(an array of 1\)/);
  assert.equal(r.placed.map((h) => h.task.taskId).join(), "4");
  assert.equal(r.deps.size, 0);
});

Deno.test("dependencies: needs that cannot be met are refused before the task is held", () => {
  const r = rig();
  r.live.add(1);
  const wrong: [TaskNeeds, RegExp][] = [
    [
      { args: [{ index: 0, tasks: [1], shape: "one", ready: 5 as never }] },
      /not a record of positions in its tasks/,
    ],
    [
      { args: [{ index: 0, tasks: [1], shape: "one", ready: { 3: 1 } }] },
      /not a record of positions/,
    ],
    [
      { args: [{ index: 3e7, tasks: [1], shape: "one" }] },
      /needs a value for argument 30000000, but it has 2 arguments/,
    ],
    [
      { args: [{ index: 0, tasks: [1], shape: "one", item: 0 }] },
      /item 0 of a "one" value/,
    ],
  ];
  let id = 10;
  for (const [needs, message] of wrong) {
    r.hold(++id, needs);
    const failed = r.outcomes.get(id);
    assert.ok(failed && !failed.ok, JSON.stringify(needs));
    assert.ok(failed.error instanceof RangeError);
    assert.match(failed.error.message, message);
    // Not held: it used to stay queued forever, with no one to end it.
    assert.equal(r.deps.size, 0);
    assert.equal(r.deps.awaits(1), false);
  }
  r.hold(20, { args: [{ index: 1, tasks: [1], shape: "one" }] });
  r.end(1, ok(5), 0);
  assert.deepEqual(r.placed.map((h) => h.task.args), [[null, 5]]);
});

Deno.test("dependencies: a host whose lookup throws fails the task, which is not left held", () => {
  const r = rig(() => {
    throw new RangeError("the history lookup threw");
  });
  r.hold(3, { after: [1] });
  const failed = r.outcomes.get(3);
  assert.ok(failed && !failed.ok);
  assert.match(failed.error.message, /the history lookup threw/);
  assert.equal(r.deps.size, 0);
});
