/**
 * The check of messages from engines: every message an engine really sends
 * fits, and each way a message can be malformed is named in the reason.
 */

import assert from "node:assert/strict";
import { fromEngineProblem } from "./validate.ts";
import type { FromEngine } from "./messages.ts";

Deno.test("every kind of message an engine sends fits", () => {
  const good: FromEngine[] = [
    { t: "ready" },
    { t: "pong" },
    { t: "reset", reason: "the running task was interrupted" },
    { t: "fatal", reason: "out of memory" },
    { t: "pub", taskId: 1, seq: 3, time: Date.now(), data: { a: [1, 2] } },
    { t: "stream", taskId: 2, name: "stdout", text: "hi\n" },
    { t: "stream", taskId: 2, name: "stderr", text: "" },
    { t: "cancelled", taskIds: [] },
    { t: "cancelled", taskIds: [4, 5] },
    { t: "done", taskId: 7, started: 1, completed: 2, ok: true, value: null },
    { t: "done", taskId: 7, started: 1, completed: 2, ok: true },
    {
      t: "done",
      taskId: 7,
      started: 1,
      completed: 2,
      ok: false,
      error: { name: "TypeError", message: "x is null", stack: "at f" },
    },
    { t: "done", taskId: 7, started: 1, completed: 2, ok: false },
  ];
  for (const message of good) {
    assert.equal(fromEngineProblem(message), undefined, Deno.inspect(message));
  }
  // Fields the protocol does not define are ignored, as an older client would.
  assert.equal(fromEngineProblem({ t: "pong", extra: 1 }), undefined);
});

Deno.test("each malformed message is named with its field", () => {
  const cases: [unknown, RegExp][] = [
    [null, /^null instead of a message object$/],
    [5, /^5 instead of a message object$/],
    [[{ t: "ready" }], /instead of a message object/],
    [{}, /unknown type missing/],
    [{ t: "run" }, /unknown type "run" \(the types are ready, pong/],
    [{ t: "toString" }, /unknown type "toString"/],
    [{ t: "cancelled", taskIds: 5 }, /"cancelled" message whose taskIds is 5/],
    [{ t: "cancelled", taskIds: [1, "2"] }, /taskIds is \[ 1, "2" \]/],
    [
      { t: "stream", taskId: 1, name: "done", text: "x" },
      /"stream" message whose name is "done" \(must be "stdout" or "stderr"\)/,
    ],
    [{ t: "stream", taskId: 1, name: "stdout" }, /text is missing/],
    [{ t: "stream", taskId: 0, name: "stdout", text: "" }, /taskId is 0/],
    [
      { t: "done", taskId: 1, started: 1, completed: 2, ok: false, error: "x" },
      /"done" message whose error is "x" \(must be an object with a string/,
    ],
    [
      { t: "done", taskId: 1, started: 1, completed: 2, ok: "yes" },
      /ok is "yes" \(must be true or false\)/,
    ],
    [
      { t: "done", taskId: 1, started: NaN, completed: 2, ok: true },
      /started is NaN \(must be a finite number\)/,
    ],
    [
      { t: "pub", taskId: 1, seq: 1, time: 1, data: null },
      /"pub" message whose data is null/,
    ],
    [{ t: "reset" }, /"reset" message whose reason is missing/],
    [{ t: "fatal", reason: 3 }, /"fatal" message whose reason is 3/],
  ];
  for (const [message, reason] of cases) {
    const problem = fromEngineProblem(message);
    assert.ok(problem !== undefined, `${Deno.inspect(message)} fits`);
    assert.match(problem, reason);
  }
});

Deno.test("a huge malformed value is shown short", () => {
  const problem = fromEngineProblem({ t: "fatal", reason: ["x".repeat(1e6)] });
  assert.ok(problem !== undefined && problem.length < 200, problem);
});
