/** The scheduler's waiting line: passes, its front, and compaction. */

import assert from "node:assert/strict";
import { WaitingLine } from "./waiting_line.ts";
import { range } from "../tests/helpers.ts";

function lineOf(items: number[]): WaitingLine<number> {
  const line = new WaitingLine<number>();
  for (const item of items) line.push(item);
  return line;
}

Deno.test("a pass takes, skips and stops; skipped items keep their order", () => {
  const line = lineOf([1, 2, 3, 4, 5, 6]);
  const seen: number[] = [];
  line.pass((n) => {
    seen.push(n);
    if (n === 5) return "stop";
    return n % 2 === 0 ? "skip" : "take";
  });
  assert.deepEqual(seen, [1, 2, 3, 4, 5], "nothing past the stop");
  assert.deepEqual(line.toArray(), [2, 4, 5, 6]);
  assert.equal(line.length, 4);

  // What goes first goes before what was skipped.
  line.unshift(0);
  assert.deepEqual(line.toArray(), [0, 2, 4, 5, 6]);
  line.pass(() => "take");
  assert.equal(line.length, 0);
  assert.deepEqual(line.toArray(), []);
});

Deno.test("taking from the front one at a time keeps the order over compactions", () => {
  // A plain array is the model; the line must behave as it does.
  const model = range(5000);
  const line = lineOf(model);
  const taken: number[] = [];
  const expected: number[] = [];
  for (let i = 0; model.length > 0; i++) {
    let first = true;
    line.pass((item) => {
      if (!first) return "stop";
      first = false;
      taken.push(item);
      return "take";
    });
    expected.push(model.shift()!);
    if (i === 3000) {
      line.unshift(-1); // Into a slot the front left.
      model.unshift(-1);
    }
    if (i === 4000) {
      line.push(-2);
      model.push(-2);
    }
    assert.equal(line.length, model.length);
  }
  assert.deepEqual(taken, expected);
  assert.ok(taken.includes(-1) && taken.at(-1) === -2);
});

Deno.test("filter keeps what it holds for, in order; clear hands everything back", () => {
  const line = lineOf(range(10));
  line.pass((n) => (n < 3 ? "take" : "stop"));
  line.unshift(99);
  line.filter((n) => n % 3 !== 0);
  assert.deepEqual(line.toArray(), [4, 5, 7, 8]);
  assert.deepEqual(line.clear(), [4, 5, 7, 8]);
  assert.equal(line.length, 0);
  line.push(1);
  assert.deepEqual(line.toArray(), [1]);
});

Deno.test("first is the front of the line, after passes and a put-back", () => {
  const line = new WaitingLine<number>();
  assert.equal(line.first, undefined);
  for (const n of [1, 2, 3]) line.push(n);
  assert.equal(line.first, 1);
  line.pass((n) => (n === 1 ? "take" : "stop"));
  assert.equal(line.first, 2);
  line.unshift(9);
  assert.equal(line.first, 9);
  line.pass(() => "take");
  assert.equal(line.first, undefined);
});
