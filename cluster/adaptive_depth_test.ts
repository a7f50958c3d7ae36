/**
 * The adaptive in-flight depth: from task durations against the round trip,
 * deeper only for an engine that just finished a task, refilled in one go.
 * Times are given, not measured: the engine's clock is in the samples, and
 * the round trip is what is left of a hand-out's wait.
 */

import assert from "node:assert/strict";
import { AdaptiveDepth, MAX_ADAPTIVE_DEPTH } from "./adaptive_depth.ts";

/**
 * A task of `ms` on `engine`, handed out with nothing else there, whose
 * done came `tripMs` after it ended.
 */
function finishAlone(
  depth: AdaptiveDepth<string>,
  engine: string,
  ms: number,
  tripMs = 0.2,
): void {
  depth.handOut(engine, 0);
  const stamp = { sentAt: performance.now() - tripMs - ms, alone: true };
  depth.finished(engine, stamp, { started: 1000, completed: 1000 + ms });
}

Deno.test("one at a time until a task is timed, and for tasks as long as a round trip", () => {
  const depth = new AdaptiveDepth<string>();
  assert.equal(depth.depth, 1);
  assert.equal(depth.limit("a", 0), 1);
  assert.equal(depth.limit("a", 1), 1, "a busy engine gets nothing more");
  // A task that did not run (lost, aborted) teaches nothing.
  depth.finished("a", depth.handOut("a", 0), {});
  assert.equal(depth.durationMs, undefined);
  assert.equal(depth.limit("a", 0), 1);
  // 5 ms tasks: far longer than any round trip here.
  for (let i = 0; i < 10; i++) finishAlone(depth, "a", 5);
  assert.equal(depth.depth, 1);
  assert.equal(depth.limit("a", 0), 1);
});

Deno.test("tasks shorter than the round trip: enough to cover it, at most MAX_ADAPTIVE_DEPTH", () => {
  const depth = new AdaptiveDepth<string>();
  for (let i = 0; i < 20; i++) finishAlone(depth, "a", 0.002);
  assert.equal(depth.depth, MAX_ADAPTIVE_DEPTH);
  // Between: 1 + ⌊round trip / duration⌋.
  const mid = new AdaptiveDepth<string>();
  for (let i = 0; i < 40; i++) finishAlone(mid, "a", 0.05, 0.2);
  assert.equal(mid.depth, 1 + Math.floor(mid.roundTripMs / mid.durationMs!));
  assert.ok(mid.depth >= 4 && mid.depth <= 5, `depth ${mid.depth}`);
});

Deno.test("a long task among tiny ones brings the depth down at once", () => {
  const depth = new AdaptiveDepth<string>();
  for (let i = 0; i < 20; i++) finishAlone(depth, "a", 0.002);
  assert.equal(depth.depth, MAX_ADAPTIVE_DEPTH);
  finishAlone(depth, "a", 200);
  assert.equal(depth.depth, 1);
});

Deno.test("only an engine that just finished goes deeper; idle ones stop being fresh at the end of a pass", () => {
  const depth = new AdaptiveDepth<string>();
  for (let i = 0; i < 20; i++) finishAlone(depth, "a", 0.002);
  const full = MAX_ADAPTIVE_DEPTH;
  assert.equal(depth.limit("a", 0), full, "a, which just finished");
  assert.equal(depth.limit("b", 0), 1, "b never finished a task");
  // Handed tasks in this pass, a keeps its limit: the pass judged it once.
  depth.handOut("a", 0);
  assert.equal(depth.limit("a", 1), 1, "not fresh after a hand-out");
  // Refilled only once half is worked off, then to the full depth.
  depth.handOut("a", 1);
  const stamp = { sentAt: performance.now() - 0.2, alone: false };
  depth.finished("a", stamp, { started: 0, completed: 0.002 });
  assert.equal(depth.limit("a", (full >> 1) + 1), (full >> 1) + 1);
  assert.equal(depth.limit("a", full >> 1), full);
  // A fresh engine left idle by a pass is not fresh in the next one: the
  // task after may be long, and nothing should wait behind it.
  depth.endPass(() => 0);
  assert.equal(depth.limit("a", 0), 1);
  // One still holding tasks stays fresh through the pass.
  finishAlone(depth, "a", 0.002);
  depth.endPass(() => 3);
  assert.equal(depth.limit("a", 3), full);
});

Deno.test("the round trip: a shorter one counts at once, longer ones slowly, tasks that waited not at all", () => {
  const depth = new AdaptiveDepth<string>();
  const first = depth.roundTripMs;
  // A task that waited behind others says nothing of the trip.
  const behind = depth.handOut("a", 3);
  depth.finished("a", behind, { started: 0, completed: 0 });
  assert.equal(depth.roundTripMs, first);
  // One whose done was handled late (a burst kept the client busy).
  const late = { sentAt: performance.now() - 50, alone: true };
  depth.finished("a", late, { started: 0, completed: 0 });
  assert.ok(depth.roundTripMs > first, "raised");
  assert.ok(depth.roundTripMs < first + 5, `slowly: ${depth.roundTripMs}`);
  // A quick one brings it down at once.
  const quick = { sentAt: performance.now(), alone: true };
  depth.finished("a", quick, { started: 0, completed: 0 });
  assert.ok(depth.roundTripMs < first, `${depth.roundTripMs}`);
});
