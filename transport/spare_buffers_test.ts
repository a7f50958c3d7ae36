import assert from "node:assert/strict";
import { keepSpare, SPARE_MIN_BYTES, takeSpare } from "./spare_buffers.ts";
import { packMessage, unpackMessage } from "./transferables.ts";
import { largeArraysOf } from "./given_buffers.ts";

/** Empties the pool of buffers of `bytes`, so that each test starts clean. */
function drain(bytes: number): number {
  let n = 0;
  while (takeSpare(bytes) !== undefined) n++;
  return n;
}

Deno.test("takeSpare hands out a kept buffer of exactly that size, once", () => {
  const spare = new ArrayBuffer(SPARE_MIN_BYTES);
  keepSpare(spare);
  assert.equal(takeSpare(SPARE_MIN_BYTES + 8), undefined);
  assert.equal(takeSpare(SPARE_MIN_BYTES), spare);
  assert.equal(takeSpare(SPARE_MIN_BYTES), undefined);
});

Deno.test("keepSpare keeps only the newest two, and no small, detached or shared buffer", () => {
  const [a, b, c] = [0, 1, 2].map(() => new ArrayBuffer(SPARE_MIN_BYTES));
  keepSpare(a);
  keepSpare(b);
  keepSpare(c);
  assert.equal(takeSpare(SPARE_MIN_BYTES), c);
  assert.equal(takeSpare(SPARE_MIN_BYTES), b);
  assert.equal(takeSpare(SPARE_MIN_BYTES), undefined);

  keepSpare(new ArrayBuffer(SPARE_MIN_BYTES - 8));
  assert.equal(takeSpare(SPARE_MIN_BYTES - 8), undefined);
  const detached = new ArrayBuffer(SPARE_MIN_BYTES);
  structuredClone(detached, { transfer: [detached] });
  keepSpare(detached);
  keepSpare(new SharedArrayBuffer(SPARE_MIN_BYTES));
  assert.equal(drain(SPARE_MIN_BYTES), 0);
});

Deno.test("packMessage copies a large array into a spare buffer of its size, and the copy is whole", () => {
  const big = Float64Array.from({ length: SPARE_MIN_BYTES / 8 }, (_, i) => i);
  const spare = new ArrayBuffer(big.byteLength);
  new Uint8Array(spare).fill(0xff); // What a spare held before: overwritten.
  keepSpare(spare);
  const { value, transfer } = packMessage({ t: "done", value: { big } });
  assert.equal(transfer.length, 1);
  assert.equal(transfer[0], spare);
  const out = unpackMessage(structuredClone(value, { transfer }));
  assert.deepEqual(out, { t: "done", value: { big } });
  assert.equal(big[big.length - 1], big.length - 1); // The caller's is intact.
  // With no spare left, the next copy goes into fresh memory.
  const again = packMessage({ big });
  assert.notEqual(again.transfer[0], spare);
  assert.equal(drain(big.byteLength), 0);
});

Deno.test("largeArraysOf finds the large arrays a message holds, as giveAwayLarge does", () => {
  const big = new Float64Array(SPARE_MIN_BYTES / 8);
  const deep = new Uint8Array(SPARE_MIN_BYTES);
  const found = largeArraysOf({
    big,
    small: new Float64Array(4),
    nested: [{ deep }],
    shared: new Int32Array(new SharedArrayBuffer(SPARE_MIN_BYTES)),
  });
  assert.deepEqual(new Set(found), new Set([big, deep]));
  assert.deepEqual(largeArraysOf(7), []);
});
