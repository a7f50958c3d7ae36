/**
 * Checks of publications as a client sees them, shared by the tests of
 * publishData on every kind of engine (engine_kind_publish.case.ts) and of
 * its flow control on Worker engines (publish_test.ts), and the publications
 * that the unit tests of the plumbing feed it (`pub`).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { AsyncResult, Publication } from "../mod.ts";

/**
 * A publication as the registry stores it, for unit tests of the
 * publication plumbing: its time follows its `seq`, so that an out-of-order
 * merge shows in the times too.
 *
 * @example
 * ```ts
 * import { pub } from "./publication_checks.ts";
 * console.log(pub(0, 7, 1, { i: 1 }).time); // 1001
 * ```
 */
export function pub(
  engineId: number,
  taskId: number,
  seq: number,
  data: Record<string, unknown>,
): Publication {
  return { engineId, taskId, seq, time: 1_000 + seq, data };
}

/**
 * Asserts that `seqs` only grow: one engine's publications are never
 * reordered (merging may skip some, never swap them).
 *
 * @example
 * ```ts
 * import { assertStrictlyIncreasing } from "./publication_checks.ts";
 * assertStrictlyIncreasing([1, 2, 5], "engine 0");
 * ```
 */
export function assertStrictlyIncreasing(seqs: number[], what: string): void {
  for (let k = 1; k < seqs.length; k++) {
    assert.ok(
      seqs[k] > seqs[k - 1],
      `${what}: seq ${seqs[k]} follows ${seqs[k - 1]} at ${k}`,
    );
  }
}

/**
 * Asserts that `p` has exactly a publication's fields, with values that fit
 * `ar`: one of its engines, that engine's task, a positive integer seq, a
 * time near now, and an object of data.
 *
 * @example
 * ```ts
 * import { type Client, publishData } from "../mod.ts";
 * import { assertPublication } from "./publication_checks.ts";
 * async function check(client: Client): Promise<void> {
 *   const ar = client.view(0).applyAsync(() => publishData({ x: 1 }));
 *   for await (const p of ar.publications()) assertPublication(p, ar);
 * }
 * ```
 */
export function assertPublication(
  p: Publication,
  ar: AsyncResult<unknown>,
): void {
  assert.deepEqual(Object.keys(p).sort(), [
    "data",
    "engineId",
    "seq",
    "taskId",
    "time",
  ]);
  const at = ar.engineIds.indexOf(p.engineId);
  assert.ok(at >= 0, `engine ${p.engineId} is not one of ${ar.engineIds}`);
  assert.equal(p.taskId, ar.taskIds[at]);
  assert.ok(Number.isInteger(p.seq) && p.seq > 0, `seq ${p.seq}`);
  assert.equal(typeof p.time, "number");
  assert.ok(Math.abs(p.time - Date.now()) < 10 * 60_000, `time ${p.time}`);
  assert.equal(typeof p.data, "object");
}

/**
 * Reads `ar.publications()` in the background, for a test that checks them
 * while the task runs: `seen` fills as they arrive, each with whether `ar`
 * was ready when it arrived; `reading` settles when the stream ends.
 *
 * @example
 * ```ts
 * import { type Client, publishData } from "../mod.ts";
 * import { readPublications } from "./publication_checks.ts";
 * async function count(client: Client): Promise<number> {
 *   const ar = client.view(0).applyAsync(() => publishData({ x: 1 }));
 *   const { seen, reading } = readPublications(ar);
 *   await reading;
 *   return seen.length;
 * }
 * ```
 */
export function readPublications(ar: AsyncResult<unknown>): {
  seen: { p: Publication; ready: boolean }[];
  reading: Promise<void>;
} {
  const seen: { p: Publication; ready: boolean }[] = [];
  const reading = (async () => {
    for await (const p of ar.publications()) {
      seen.push({ p, ready: ar.ready() });
    }
  })();
  return { seen, reading };
}
