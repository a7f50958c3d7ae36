/**
 * What `transport/codec.ts` refuses, clearly and quickly: functions,
 * symbols and shared memory with the path to them, values nested deeper
 * than a message may, and malformed bytes (which throw, never hang or
 * crash).
 *
 * @module
 */

import assert from "node:assert/strict";
import { decodeValue, encodeValue, EXT } from "../transport/codec.ts";
import { OVER_MSGPACK } from "../transport/crossable.ts";
import { roundTrip, same } from "./round_trip.ts";

Deno.test("codec: functions and symbols are refused with a path", async (t) => {
  const refused = (value: unknown, path: string, kind: string) => {
    assert.throws(
      () => encodeValue(value),
      (error: unknown) => {
        assert.ok(error instanceof TypeError, `got ${error}`);
        assert.ok(
          error.message.includes(path),
          `"${error.message}" should name ${path}`,
        );
        assert.ok(error.message.includes(kind), error.message);
        return true;
      },
    );
  };
  const fn = () => 1;
  const sym = Symbol("s");

  await t.step("at the top level", () => {
    refused(fn, "the message is a function (fn)", "function");
    refused(sym, "the message is a symbol", "symbol");
    refused(class {}, "the message is a class", "class");
  });

  await t.step("in objects, arrays, Maps and Sets", () => {
    refused({ a: { b: [1, fn] } }, "at .a.b[1],", "function");
    refused([0, [0, 0, sym]], "at [1][2],", "symbol");
    refused({ m: new Map([["k", fn]]) }, 'at .m.get("k"),', "function");
    refused(new Map([[fn, 1]]), "Map key", "function");
    refused(new Set([1, sym]), "Set item", "symbol");
    refused({ method: fn, ok: 1 }, "at .method,", "function");
    refused(
      new Map([[1, new Set([{ f: fn }])]]),
      "at .get(1) (a Set item).f,",
      "function",
    );
    refused({ "a-b": fn }, 'at ["a-b"],', "function");
  });

  await t.step(
    "class instances and host objects, which msgpack would flatten",
    () => {
      class Point {
        constructor(public x: number, public y: number) {}
        norm() {
          return Math.hypot(this.x, this.y);
        }
      }
      refused(
        { p: new Point(1, 2) },
        "at .p, is an instance of class Point",
        "{ ...value }",
      );
      refused(
        [new AbortController().signal],
        "at [0], is an AbortSignal",
        "on the engine",
      );
      refused(
        { r: new Response("x") },
        "at .r, is a Response",
        "on the engine",
      );
      refused({ u: new URL("https://example.com") }, "is an URL", "plain data");
      refused({ w: new WeakMap() }, "is a WeakMap", "What crosses");
      refused({ p: Promise.resolve(1) }, "is a Promise", "Await it");
      refused([new Number(1)], "is a Number object", "valueOf");
      refused(new Map([[1, new Point(0, 0)]]), "at .get(1),", "class Point");
    },
  );

  await t.step("what only a thread can share: shared memory", () => {
    refused(
      { s: new SharedArrayBuffer(8) },
      "at .s, is a SharedArrayBuffer",
      "Worker engines",
    );
    // A typed array over shared memory is copied, as any typed array.
    same({ v: new Int32Array(new SharedArrayBuffer(8)) });
  });

  await t.step("deeper than a message may nest, refused with the limit", () => {
    // A message nests MESSAGE_DEPTH levels more than a value handed over.
    const limit = OVER_MSGPACK.maxDepth;
    let deep: unknown = 1;
    for (let i = 0; i <= limit; i++) deep = [deep];
    refused(deep, `is nested more than ${limit} levels deep`, "Flatten");
  });

  await t.step("deep inside (70 levels)", () => {
    let deep: unknown = { f: fn };
    for (let i = 0; i < 70; i++) deep = [deep];
    refused(deep, "][0].f,", "function");
  });

  await t.step("nothing is encoded, and the codec still works", () => {
    assert.throws(() => encodeValue({ a: new Map([[1, { f: fn }]]) }));
    assert.deepStrictEqual(roundTrip({ a: new Map([[1, 2]]) }), {
      a: new Map([[1, 2]]),
    });
    assert.deepStrictEqual(roundTrip([1, 2, 3]), [1, 2, 3]);
  });
});

Deno.test("codec: malformed bytes throw, quickly", async (t) => {
  const u8 = (...bytes: number[]) => new Uint8Array(bytes);
  const ext = (type: number, payload: Uint8Array) =>
    new Uint8Array([0xc7, payload.byteLength, type, ...payload]);

  await t.step("a list of malformed inputs", () => {
    const cases: [string, Uint8Array][] = [
      ["empty", u8()],
      ["the never-used byte 0xc1", u8(0xc1)],
      ["a truncated str 8", u8(0xd9, 10, 0x61, 0x62)],
      ["a truncated array", u8(0x93, 1, 2)],
      ["a truncated map", u8(0x82, 0xa1, 0x61)],
      ["a truncated float 64", u8(0xcb, 0, 0, 0)],
      ["a str 32 of 4 GiB", u8(0xdb, 0xff, 0xff, 0xff, 0xff, 0x61)],
      ["an array 32 of 4G items", u8(0xdd, 0xff, 0xff, 0xff, 0xff, 1)],
      ["a map 32 of 4G entries", u8(0xdf, 0xff, 0xff, 0xff, 0xff)],
      ["a bin 32 of 4 GiB", u8(0xc6, 0xff, 0xff, 0xff, 0xff, 0)],
      ["an ext 32 of 4 GiB", u8(0xc9, 0xff, 0xff, 0xff, 0xff, 1)],
      ["extra bytes after a value", u8(1, 2)],
      ["a map key that is a map", u8(0x81, 0x80, 1)],
      ["a BigInt that is not digits", ext(EXT.bigint, u8(0x61, 0x62))],
      ["a Map whose payload is a number", ext(EXT.map, u8(5))],
      ["a Map whose entries are numbers", ext(EXT.map, u8(0x92, 1, 2))],
      ["a Set whose payload is a number", ext(EXT.set, u8(5))],
      ["an Error whose payload is nil", ext(EXT.error, u8(0xc0))],
      ["a Map whose payload is truncated", ext(EXT.map, u8(0x93, 1))],
      [
        "an Int32Array of 5 bytes",
        ext(EXT.typedArrayBase + 5, u8(1, 2, 3, 4, 5)),
      ],
    ];
    for (const [name, bytes] of cases) {
      const started = performance.now();
      assert.throws(() => decodeValue(bytes), `${name} should throw`);
      assert.ok(performance.now() - started < 1000, `${name} took too long`);
      // The shared decoder is not left broken.
      assert.deepStrictEqual(decodeValue(encodeValue({ ok: [1n] })), {
        ok: [1n],
      });
    }
  });

  await t.step("Maps nested 10,000 deep throw or decode, no crash", () => {
    // Each level: ext 32 (Map) holding [[1, <next level>]]; innermost: 1.
    const levels = 10_000;
    const bytes = new Uint8Array(levels * 9 + 1);
    const view = new DataView(bytes.buffer);
    for (let k = 0; k < levels; k++) {
      const at = k * 9;
      bytes[at] = 0xc9;
      view.setUint32(at + 1, bytes.byteLength - at - 6);
      bytes.set([EXT.map, 0x91, 0x92, 0x01], at + 5);
    }
    bytes[bytes.byteLength - 1] = 0x01;
    // Two levels decode to what they say.
    const two = new Uint8Array(19);
    two.set(bytes.subarray(0, 18));
    two[18] = 0x01;
    new DataView(two.buffer).setUint32(1, 13);
    new DataView(two.buffer).setUint32(10, 4);
    assert.deepStrictEqual(decodeValue(two), new Map([[1, new Map([[1, 1]])]]));
    try {
      decodeValue(bytes);
    } catch (error) {
      assert.ok(error instanceof Error);
    }
    assert.equal(decodeValue(encodeValue(2)), 2);
  });

  await t.step("random garbage never hangs or crashes", () => {
    // A fixed-seed xorshift32: failures reproduce.
    let state = 0x9e3779b9;
    const next = () => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return state >>> 0;
    };
    const started = performance.now();
    let threw = 0;
    for (let round = 0; round < 3000; round++) {
      const bytes = new Uint8Array(1 + (next() % 64));
      for (let i = 0; i < bytes.length; i++) bytes[i] = next();
      // Half the time, start with a troupe extension header.
      if (round % 2 === 0 && bytes.length > 3) {
        bytes[0] = 0xc7;
        bytes[1] = Math.min(bytes[1] % 32, bytes.length - 3);
        bytes[2] = [0, 1, 2, 3, 4, 5, 6, 16, 19, 24, 25, 26][next() % 12];
      }
      try {
        decodeValue(bytes);
      } catch (error) {
        threw++;
        assert.ok(error instanceof Error, `round ${round}: threw ${error}`);
      }
    }
    assert.ok(threw > 1000, "most garbage is refused");
    assert.ok(performance.now() - started < 5000);
    assert.equal(decodeValue(encodeValue("still fine")), "still fine");
  });
});
