/**
 * Shared objects and cycles through `transport/codec.ts`: an object reached
 * twice is written once and arrives as one object (as over structured
 * clone), cycles through every container survive, a tree's bytes are
 * unchanged, and malformed back-references are refused.
 *
 * @module
 */

import assert from "node:assert/strict";
import { decodeValue, encodeValue, EXT } from "../transport/codec.ts";
import { roundTrip } from "./round_trip.ts";

Deno.test("codec: shared objects and cycles arrive as one object", async (t) => {
  await t.step("an object in two places is one object", () => {
    const shared = { n: 1 };
    const back = roundTrip({ a: shared, b: [shared, shared] });
    assert.deepStrictEqual(back, { a: { n: 1 }, b: [{ n: 1 }, { n: 1 }] });
    assert.equal(back.a, back.b[0]);
    assert.equal(back.b[0], back.b[1]);
  });

  await t.step("cycles through every container", () => {
    const ring: Record<string, unknown> = { name: "ring" };
    ring.self = ring;
    const list: unknown[] = [1];
    list.push(list);
    const map = new Map<unknown, unknown>();
    map.set(map, map).set("k", map);
    const set = new Set<unknown>([1]);
    set.add(set);
    const error = new Error("loop");
    error.cause = { error };
    const aggregate = new AggregateError([], "many");
    aggregate.errors.push(aggregate);
    const back = roundTrip({ ring, list, map, set, error, aggregate });
    assert.equal(back.ring.self, back.ring);
    assert.equal(back.list[1], back.list);
    assert.deepEqual([...back.map.keys()], [back.map, "k"]);
    assert.equal(back.map.get(back.map), back.map);
    assert.equal([...back.set][1], back.set);
    assert.equal((back.error.cause as { error: unknown }).error, back.error);
    assert.equal(back.aggregate.errors[0], back.aggregate);
    assert.ok(back.aggregate instanceof AggregateError);
  });

  await t.step("shared leaves: typed arrays, dates, buffers, regexps", () => {
    const f = new Float64Array([1, 2]);
    const d = new Date(5);
    const b = new ArrayBuffer(3);
    const r = /x/g;
    const back = roundTrip([f, d, b, r, f, d, b, r]);
    for (let i = 0; i < 4; i++) assert.equal(back[i], back[i + 4]);
    assert.ok(back[0] instanceof Float64Array);
    assert.deepStrictEqual(back.slice(0, 4), [f, d, b, r]);
  });

  await t.step("a tree has no back-references: the bytes are unchanged", () => {
    // Plain msgpack for a value without sharing: other readers see no ext.
    assert.deepStrictEqual(
      encodeValue({ a: [1, 2], b: { c: "d" } }),
      new Uint8Array([
        0x82,
        0xa1,
        0x61,
        0x92,
        1,
        2,
        0xa1,
        0x62,
        0x81,
        0xa1,
        0x63,
        0xa1,
        0x64,
      ]),
    );
  });

  await t.step("a shared object is written once", () => {
    const big = { data: "x".repeat(10_000) };
    assert.ok(encodeValue([big, big, big]).byteLength < 10_100);
  });

  await t.step("2^40 paths through 40 shared objects", () => {
    let doubling: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 40; i++) doubling = { a: doubling, b: doubling };
    let back = roundTrip(doubling);
    for (let i = 0; i < 40; i++) {
      assert.equal(back.a, back.b);
      back = back.a as Record<string, unknown>;
    }
    assert.deepEqual(back, { leaf: 1 });
  });

  await t.step("malformed back-references are refused", () => {
    const ext = (type: number, payload: number[]) =>
      new Uint8Array([0xc7, payload.length, type, ...payload]);
    const cases: [string, Uint8Array][] = [
      ["a ref to nothing", ext(EXT.ref, [0, 0, 0, 0])],
      ["a ref of 2 bytes", ext(EXT.ref, [0, 0])],
      ["a shared value out of order", ext(EXT.shared, [0, 0, 0, 1, 0x90])],
      [
        "a shared value that is not an object",
        ext(EXT.shared, [0, 0, 0, 0, 1]),
      ],
      ["a shared value with no body", ext(EXT.shared, [0, 0, 0])],
    ];
    for (const [name, bytes] of cases) {
      assert.throws(() => decodeValue(bytes), RangeError, name);
      assert.deepStrictEqual(roundTrip([1]), [1], "the codec still works");
    }
    // A ref to a shared value that has ended is that value.
    const ok = new Uint8Array([
      0x92,
      ...ext(EXT.shared, [0, 0, 0, 0, 0x90]),
      ...ext(EXT.ref, [0, 0, 0, 0]),
    ]);
    const [a, b] = decodeValue(ok) as unknown[][];
    assert.equal(a, b);
  });
});
