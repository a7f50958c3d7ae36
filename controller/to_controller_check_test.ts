import assert from "node:assert/strict";
import type { SubmittedTask } from "../cluster/cluster.ts";
import type { ToController } from "../remote/wire.ts";
import { toControllerProblem } from "./to_controller_check.ts";

const TASK: SubmittedTask = {
  taskId: 2 ** 32 + 1,
  fn: { kind: "source", source: "() => 1" },
  args: [],
  placement: { engineId: 0 },
};

Deno.test("client messages: every kind that fits passes", () => {
  const fits: ToController[] = [
    { t: "submit", tasks: [TASK] },
    {
      t: "submit",
      tasks: [{
        ...TASK,
        fn: { kind: "module", url: "file:///m.ts", name: "f" },
        mode: "map",
        placement: {
          balanced: {
            retries: 1,
            targets: [0, 1],
            timeoutMs: 5,
            highWaterMark: 2,
          },
        },
      }],
    },
    {
      t: "submit",
      tasks: [{
        ...TASK,
        args: [null],
        needs: {
          after: [1],
          follow: [2],
          on: 0,
          args: [{
            index: 0,
            tasks: [3, 4],
            shape: "items",
            item: 5,
            ready: { 1: [7] },
          }],
          onFailure: "run",
        },
      }],
    },
    {
      t: "submit",
      tasks: [{ ...TASK, args: [null], refs: [{ arg: 0, id: 3 }] }],
    },
    { t: "put", id: 2 ** 32 + 2, value: new Float64Array(2) },
    { t: "release", ids: [2 ** 32 + 2] },
    { t: "abort", taskIds: [1, 2] },
    { t: "follow", taskIds: [] },
    { t: "beat" },
    { t: "call", id: 0, call: { kind: "history" } },
    { t: "call", id: 1, call: { kind: "scale", n: 2, launcher: "slurm" } },
    { t: "call", id: 2, call: { kind: "waitForEngines", n: 1, timeoutMs: 10 } },
    {
      t: "call",
      id: 3,
      call: {
        kind: "setRestartPolicy",
        policy: { maxRestarts: 1, withinMs: 1 },
      },
    },
    { t: "call", id: 4, call: { kind: "query", query: { state: "ok" } } },
    { t: "call", id: 5, call: { kind: "purge", filter: { all: true } } },
    { t: "call", id: 6, call: { kind: "queueStatus" } },
    { t: "call", id: 6, call: { kind: "shutdown" } },
  ];
  for (const message of fits) {
    assert.equal(
      toControllerProblem(message),
      undefined,
      JSON.stringify(message),
    );
  }
});

Deno.test("client messages: what does not fit is named", () => {
  const cases: [unknown, RegExp][] = [
    [null, /null instead of a message object/],
    [[1], /instead of a message object/],
    [{ t: "run" }, /unknown type "run" \(the types are submit, abort/],
    [{ t: "abort", taskIds: [0] }, /"abort" message whose taskIds is \[ 0 \]/],
    [{ t: "follow" }, /"follow" message whose taskIds is missing/],
    [
      { t: "submit", tasks: [{ ...TASK, taskId: 1.5 }] },
      /must be an array of: a task/,
    ],
    [{ t: "submit", tasks: [{ ...TASK, fn: { kind: "eval" } }] }, /a task/],
    [{ t: "submit", tasks: [{ ...TASK, args: "x" }] }, /a task/],
    [{ t: "submit", tasks: [{ ...TASK, mode: "reduce" }] }, /a task/],
    [
      { t: "submit", tasks: [{ ...TASK, placement: { engineId: -1 } }] },
      /a task/,
    ],
    [
      { t: "submit", tasks: [{ ...TASK, placement: { balanced: {} } }] },
      /a task/,
    ],
    [{ t: "submit", tasks: [{ ...TASK, needs: { after: [0] } }] }, /a task/],
    [
      { t: "submit", tasks: [{ ...TASK, needs: { onFailure: "skip" } }] },
      /a task/,
    ],
    [
      {
        t: "submit",
        tasks: [{ ...TASK, needs: { args: [{ index: 0, tasks: [1] }] } }],
      },
      /a task/,
    ],
    [
      { t: "submit", tasks: [{ ...TASK, refs: [{ arg: -1, id: 3 }] }] },
      /a task/,
    ],
    [{ t: "submit", tasks: [{ ...TASK, refs: [{ arg: 0 }] }] }, /a task/],
    [{ t: "put", id: 0, value: 1 }, /a "put" message whose id is 0/],
    [{ t: "release", ids: 3 }, /a "release" message whose ids is 3/],
    [{ t: "call", id: -1, call: { kind: "history" } }, /whose id is -1/],
    [
      { t: "call", id: 1, call: { kind: "exec" } },
      /a call of kind waitForEngines/,
    ],
    [
      { t: "call", id: 1, call: { kind: "scale", n: "2" } },
      /a "scale" call whose n is "2"/,
    ],
    [
      { t: "call", id: 1, call: { kind: "query", query: 3 } },
      /a "query" call whose query is 3/,
    ],
  ];
  for (const [message, pattern] of cases) {
    const problem = toControllerProblem(message);
    assert.ok(problem !== undefined, `passed: ${JSON.stringify(message)}`);
    assert.match(problem, pattern);
  }
});

Deno.test("client messages: an argument's need names the task's own argument, an item only of a list, ready values by position", () => {
  const need = (fields: Record<string, unknown>) => ({
    t: "submit",
    tasks: [{
      ...TASK,
      args: [null],
      needs: { args: [{ index: 0, tasks: [1, 2], shape: "items", ...fields }] },
    }],
  });
  assert.equal(toControllerProblem(need({})), undefined);
  assert.equal(
    toControllerProblem(need({ shape: "list", item: 1 })),
    undefined,
  );
  assert.equal(toControllerProblem(need({ ready: { 0: null } })), undefined);
  const wrong: Record<string, unknown>[] = [
    // "one" value is not a list: item 0 of null crashed the scheduler.
    { shape: "one", item: 0 },
    { item: 1.5 },
    { item: -1 },
    // A far index made a sparse array as long as it.
    { index: 1 },
    { index: 3e7 },
    // Not a record of positions in tasks: the task stayed held forever.
    { ready: 5 },
    { ready: "x" },
    { ready: [1] },
    { ready: { 2: 1 } },
    { ready: { x: 1 } },
    { ready: { "-1": 1 } },
  ];
  for (const fields of wrong) {
    assert.match(
      toControllerProblem(need(fields)) ?? "fits",
      /a "submit" message whose tasks .*a task/,
      JSON.stringify(fields),
    );
  }
  assert.match(
    toControllerProblem({
      t: "submit",
      tasks: [{ ...TASK, args: [null], refs: [{ arg: 1, id: 3 }] }],
    }) ?? "fits",
    /refs\[\]\.arg < args\.length/,
  );
});
