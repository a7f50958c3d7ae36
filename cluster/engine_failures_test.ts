/**
 * The words a task fails with when its engine reports a failure or cannot
 * run it: each names the engine and the task, says why, and what to do.
 */

import assert from "node:assert/strict";
import { EngineError, RemoteError } from "../protocol/errors.ts";
import type { DoneMessage } from "../protocol/messages.ts";
import {
  diedError,
  downTooLongError,
  reportedOutcome,
  stoppedError,
  unsendableError,
} from "./engine_failures.ts";

const failed: DoneMessage = {
  t: "done",
  taskId: 7,
  started: 1,
  completed: 2,
  ok: false,
  error: { name: "ReferenceError", message: "x is not defined" },
};

Deno.test("a reported success keeps the engine's times", () => {
  const outcome = reportedOutcome(
    0,
    { ...failed, ok: true, value: 42, error: undefined },
    () => assert.fail("no hint for a success"),
  );
  assert.deepEqual(outcome, { ok: true, value: 42, started: 1, completed: 2 });
});

Deno.test("a reported failure is a RemoteError with the ledger's hint", () => {
  const outcome = reportedOutcome(2, failed, (info) => `hint for ${info.name}`);
  assert.ok(!outcome.ok);
  const error = outcome.error;
  assert.ok(error instanceof RemoteError);
  assert.equal(error.engineId, 2);
  assert.equal(error.taskId, 7);
  assert.match(error.message, /x is not defined/);
  assert.match(error.message, /hint for ReferenceError/);
  assert.deepEqual([outcome.started, outcome.completed], [1, 2]);
});

Deno.test("a failure the engine gave no error for still says so", () => {
  const outcome = reportedOutcome(
    0,
    { ...failed, error: undefined },
    () => undefined,
  );
  assert.ok(!outcome.ok);
  assert.match(outcome.error.message, /the engine reported no error/);
});

Deno.test("died, stopped and down-too-long errors name engine, task, why", () => {
  const died = diedError(1, 7, "it missed 3 heartbeats in a row");
  assert.ok(died instanceof EngineError);
  assert.deepEqual([died.engineId, died.taskId], [1, 7]);
  assert.match(died.message, /it missed 3 heartbeats in a row/);
  assert.match(diedError(1, 7, undefined).message, /unknown/);
  const stopped = stoppedError(1, 7, "the client was closed");
  assert.match(stopped.message, /the client was closed/);
  assert.match(stopped.message, /run the task on another engine/);
  assert.match(stoppedError(1, 7, undefined).message, /it was stopped/);
  const down = downTooLongError(1, 7, 500, "its socket closed");
  assert.match(
    down.message,
    /not been up for 500 ms \(noEngineTimeoutMs\) since it died because its socket closed/,
  );
  assert.match(down.message, /client\.ids/);
});

Deno.test("a task too big for a frame is a RangeError; others TypeErrors", () => {
  const big = unsendableError(0, 7, new RangeError("over maxFrameBytes"));
  assert.ok(big instanceof RangeError);
  assert.equal(
    big.message,
    "task 7 could not be sent to engine 0: over maxFrameBytes.",
  );
  const odd = unsendableError(0, 7, new TypeError("a symbol"));
  assert.ok(odd instanceof TypeError);
  assert.match(
    odd.message,
    /^task 7 could not be sent to engine 0: a symbol\./,
  );
  assert.match(odd.message, /Pass plain data: /);
  const told = unsendableError(0, 7, new TypeError("What crosses: ..."));
  assert.doesNotMatch(told.message, /Pass plain data/, "advice given once");
});
