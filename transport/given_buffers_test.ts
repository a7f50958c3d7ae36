import assert from "node:assert/strict";
import { GIVE_AWAY_BYTES, giveAwayLarge, isGiven } from "./given_buffers.ts";
import { packMessage, unpackMessage } from "./transferables.ts";

const MIB = 2 ** 20;

/** A real post's clone and transfer, without a thread: structuredClone. */
function post<T>(message: T): T {
  const { value, transfer } = packMessage(message);
  return unpackMessage(structuredClone(value, { transfer }));
}

Deno.test("giveAwayLarge marks the buffers of large arrays only", () => {
  const big = new Float64Array(GIVE_AWAY_BYTES / 8);
  const small = new Float64Array(GIVE_AWAY_BYTES / 8 - 1);
  const shared = new Int32Array(new SharedArrayBuffer(GIVE_AWAY_BYTES));
  const deep = { a: [{ b: [new Uint8Array(GIVE_AWAY_BYTES)] }] };
  giveAwayLarge({ t: "run", args: [big, small, shared, deep, 1, "x"] });
  assert.equal(isGiven(big.buffer), true);
  assert.equal(isGiven(small.buffer), false);
  assert.equal(isGiven(deep.a[0].b[0].buffer), true);
  assert.equal(isGiven(new ArrayBuffer(8)), false);
  giveAwayLarge(null);
  giveAwayLarge(5);
});

Deno.test("a given array moves to the other side whole, not copied", () => {
  // As a frame decodes: two arrays in place in one frame's buffer.
  const frame = new ArrayBuffer(6 * MIB);
  const a = new Float64Array(frame, 8, MIB / 8);
  const b = new Int16Array(frame, 3 * MIB, MIB);
  a[0] = 1.5;
  b[MIB - 1] = -7;
  const message = { t: "run", args: [a, { b }] };
  giveAwayLarge(message);
  const { transfer } = packMessage(message);
  assert.deepEqual(transfer, [frame], "the frame itself, once");
  const got = post(message);
  const [ga, { b: gb }] = got.args as [Float64Array, { b: Int16Array }];
  assert.equal(frame.byteLength, 0, "moved: detached here");
  assert.ok(ga instanceof Float64Array && gb instanceof Int16Array);
  assert.equal(ga.buffer, gb.buffer, "still one buffer there");
  assert.deepEqual([ga.byteOffset, ga.length, ga[0]], [8, MIB / 8, 1.5]);
  assert.deepEqual([gb.byteOffset, gb.length, gb[MIB - 1]], [3 * MIB, MIB, -7]);
});

Deno.test("an array not given away is copied: the caller's stays whole", () => {
  const mine = new Float64Array(MIB).fill(2);
  const got = post({ args: [mine] });
  assert.equal(mine.length, MIB);
  assert.equal(mine[0], 2);
  assert.notEqual((got.args[0] as Float64Array).buffer, mine.buffer);
  assert.equal((got.args[0] as Float64Array)[MIB - 1], 2);
});
