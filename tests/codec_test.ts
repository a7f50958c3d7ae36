/**
 * Tests for `transport/codec.ts`: values keep their JavaScript types across
 * `encodeValue` / `decodeValue`: primitives, objects with a type (Date, Map,
 * RegExp, Set, errors, buffers), arrays and nested structures. Typed arrays:
 * codec_typed_arrays_test.ts; shared objects and cycles:
 * codec_graphs_test.ts; what is refused (unsendable values, malformed
 * bytes): codec_refused_test.ts.
 *
 * @module
 */

import assert from "node:assert/strict";
import { encode } from "@msgpack/msgpack";
import { decodeValue, encodeValue } from "../transport/codec.ts";
import { OVER_MSGPACK } from "../transport/crossable.ts";
import { roundTrip, same } from "./round_trip.ts";

Deno.test("codec: primitives", async (t) => {
  await t.step("undefined at top level, in arrays, in objects", () => {
    assert.equal(roundTrip(undefined), undefined);
    const array = roundTrip([1, undefined, null, undefined]);
    assert.deepStrictEqual(array, [1, undefined, null, undefined]);
    assert.equal(array.length, 4);
    const object = roundTrip({ a: undefined, b: null });
    assert.deepStrictEqual(object, { a: undefined, b: null });
    assert.ok("a" in object, "the key of an undefined property is kept");
    assert.deepStrictEqual(roundTrip({ x: [undefined] }), { x: [undefined] });
    // A hole reads as undefined, as it does on the sender's side.
    // deno-lint-ignore no-sparse-arrays
    assert.deepStrictEqual(roundTrip([1, , 3]), [1, undefined, 3]);
  });

  await t.step("null and booleans", () => {
    assert.equal(roundTrip(null), null);
    assert.equal(roundTrip(true), true);
    assert.equal(roundTrip(false), false);
    same([true, false, null]);
  });

  await t.step("integers", () => {
    for (
      const n of [
        0,
        1,
        -1,
        127,
        128,
        -32,
        -33,
        255,
        256,
        65535,
        65536,
        -32768,
        -32769,
        2 ** 31 - 1,
        -(2 ** 31),
        2 ** 32,
        -(2 ** 32) - 1,
        Number.MAX_SAFE_INTEGER,
        Number.MIN_SAFE_INTEGER,
        2 ** 53,
        2 ** 60,
      ]
    ) {
      assert.equal(roundTrip(n), n, `${n}`);
    }
  });

  await t.step("floats, NaN, Infinity", () => {
    for (
      const n of [
        0.5,
        0.1,
        -1.25,
        Math.PI,
        1e300,
        -1e-300,
        Number.MIN_VALUE,
        Number.MAX_VALUE,
        Number.EPSILON,
        Infinity,
        -Infinity,
      ]
    ) {
      assert.equal(roundTrip(n), n, `${n}`);
    }
    assert.ok(Number.isNaN(roundTrip(NaN)));
  });

  await t.step("-0 stays -0", () => {
    assert.ok(Object.is(roundTrip(-0), -0), "top-level -0 came back as +0");
    assert.ok(Object.is(roundTrip([-0])[0], -0), "-0 in an array came back +0");
    assert.ok(Object.is(roundTrip({ z: -0 }).z, -0), "-0 in an object");
  });

  await t.step("strings, unicode included", () => {
    for (
      const s of [
        "",
        "a",
        "héllo wörld",
        "日本語のテキスト",
        "emoji 🎭🧪 and ZWJ 👩‍🔬",
        "nul \0 inside",
        "lone surrogate \uD800 here",
        "x".repeat(31),
        "y".repeat(32),
        "z".repeat(70_000),
      ]
    ) {
      assert.equal(roundTrip(s), s, s.slice(0, 20));
    }
  });

  await t.step("BigInt: positive, negative, huge", () => {
    for (
      const b of [
        0n,
        1n,
        -1n,
        2n ** 63n,
        -(2n ** 64n) - 1n,
        7n ** 500n,
        -(3n ** 1000n),
      ]
    ) {
      const back = roundTrip(b);
      assert.equal(typeof back, "bigint");
      assert.equal(back, b);
    }
    same([1n, { b: -5n }]);
  });
});

Deno.test("codec: objects with a type", async (t) => {
  await t.step("Date, to the millisecond", () => {
    for (
      const d of [
        new Date(0),
        new Date(1_700_000_000_123),
        new Date(-1_000_000_000_001),
        new Date(Date.UTC(1900, 0, 1, 0, 0, 0, 999)),
        new Date(8.64e15),
        new Date(-8.64e15),
      ]
    ) {
      const back = roundTrip(d);
      assert.ok(back instanceof Date);
      assert.equal(back.getTime(), d.getTime(), d.toISOString());
    }
  });

  await t.step("an Invalid Date stays invalid", () => {
    const back = roundTrip(new Date(NaN));
    assert.ok(back instanceof Date);
    assert.ok(
      Number.isNaN(back.getTime()),
      `an Invalid Date came back as ${String(back)}`,
    );
  });

  await t.step("Map: non-string keys, nested", () => {
    const key = { k: 1 };
    const map = new Map<unknown, unknown>([
      [1, "one"],
      ["1", "string one"],
      [true, null],
      [null, undefined],
      [undefined, 0],
      [2n, new Map([[key, new Set([1, 2])]])],
      [new Date(5), [1, 2]],
    ]);
    const back = roundTrip(map);
    assert.ok(back instanceof Map);
    assert.deepStrictEqual(back, map);
    assert.deepStrictEqual([...back.keys()], [...map.keys()], "key order");
    same(new Map());
    same({ m: new Map([["a", new Map([["b", new Map([["c", 1]])]])]]) });
  });

  await t.step("RegExp, with its flags", () => {
    for (
      const re of [/a+b/, /^\d{2,}$/gimsuy, new RegExp("", "d"), /[\/\\]/u]
    ) {
      const back = roundTrip(re);
      assert.ok(back instanceof RegExp);
      assert.equal(back.source, re.source);
      assert.equal(back.flags, re.flags);
    }
    same({ r: [/x/g, new Map([["k", /y/i]])] });
  });

  await t.step("Set", () => {
    same(new Set());
    same(new Set([1, "1", null, undefined, 3n, new Set([new Map()])]));
    assert.deepStrictEqual(
      [...roundTrip(new Set([3, 1, 2]))],
      [3, 1, 2],
      "insertion order",
    );
  });

  await t.step("Error and its subclasses keep name, message, stack", () => {
    for (
      const error of [
        new Error("plain"),
        new TypeError("wrong type"),
        new RangeError("out of range"),
        new SyntaxError("bad syntax"),
        new ReferenceError("no such name"),
        new EvalError("eval"),
        new URIError("uri"),
      ]
    ) {
      const back = roundTrip(error);
      assert.ok(back instanceof Error);
      assert.equal(
        Object.getPrototypeOf(back),
        Object.getPrototypeOf(error),
        `${error.name} keeps its class`,
      );
      assert.equal(back.name, error.name);
      assert.equal(back.message, error.message);
      assert.equal(back.stack, error.stack);
    }
    const typed = roundTrip(new TypeError("x"));
    assert.ok(typed instanceof TypeError);

    class ParseError extends Error {
      constructor(message: string) {
        super(message);
        this.name = "ParseError";
      }
    }
    const custom = new ParseError("line 3");
    const back = roundTrip(custom);
    assert.ok(back instanceof Error);
    assert.equal(back.name, "ParseError");
    assert.equal(back.message, "line 3");
    assert.equal(back.stack, custom.stack);

    const noStack = new Error("no stack");
    noStack.stack = undefined;
    assert.equal(roundTrip(noStack).message, "no stack");
    const nested = roundTrip({ errors: [new Error("a"), new RangeError("b")] });
    assert.ok(nested.errors[1] instanceof RangeError);
    assert.equal(nested.errors[1].message, "b");
  });

  await t.step("a revived built-in Error has no extra own properties", () => {
    // `error.name = ...` on a revived RangeError adds an enumerable own
    // `name`: Object.keys, JSON.stringify and deepStrictEqual then differ
    // from the original.
    const original = new RangeError("b");
    const back = roundTrip(original);
    assert.deepStrictEqual(Object.keys(back), Object.keys(original));
    assert.deepStrictEqual(back, original);
  });

  await t.step("ArrayBuffer", () => {
    const buffer = new Uint8Array([1, 2, 3, 250]).buffer;
    const back = roundTrip(buffer);
    assert.ok(back instanceof ArrayBuffer);
    assert.deepStrictEqual(new Uint8Array(back), new Uint8Array(buffer));
    assert.equal(roundTrip(new ArrayBuffer(0)).byteLength, 0);
    const big = roundTrip(new Uint8Array(100_000).fill(9).buffer);
    assert.equal(big.byteLength, 100_000);
    assert.equal(new Uint8Array(big)[99_999], 9);
  });

  await t.step("DataView, also one into a larger buffer", () => {
    const buffer = new ArrayBuffer(32);
    const view = new DataView(buffer, 8, 12);
    view.setFloat64(0, Math.E);
    view.setInt32(8, -7, true);
    const back = roundTrip(view);
    assert.ok(back instanceof DataView);
    assert.equal(back.byteLength, 12);
    assert.equal(back.getFloat64(0), Math.E);
    assert.equal(back.getInt32(8, true), -7);
    assert.equal(roundTrip(new DataView(new ArrayBuffer(0))).byteLength, 0);
  });
});

Deno.test("codec: arrays and nested structures", async (t) => {
  await t.step("small and large arrays", () => {
    same([]);
    same([1, "two", 3.5, null]);
    const large = Array.from(
      { length: 100_000 },
      (_, i) => i % 3 ? i : `s${i}`,
    );
    same(large);
    same(Array.from({ length: 70_000 }, () => undefined));
  });

  await t.step("nested structures of every kind", () => {
    const value = {
      id: 7,
      name: "run",
      when: new Date(1_700_000_000_000),
      tags: new Set(["a", "b"]),
      big: -(2n ** 70n),
      series: [new Float64Array([1, 2]), new Int16Array([-3])],
      byEngine: new Map<number, unknown>([
        [0, { data: new Float32Array(2000), seen: undefined }],
        [1, { error: null, raw: new ArrayBuffer(3) }],
      ]),
      deep: { a: { b: { c: { d: [[[new Uint8Array([1])]]] } } } },
      view: new DataView(new Uint8Array([5, 6]).buffer),
      nothing: null,
      missing: undefined,
    };
    const back = roundTrip(value);
    assert.deepStrictEqual(back, value);
    assert.ok(back.byEngine.get(1) !== undefined);
  });

  await t.step(
    "plain objects and arrays are msgpack's own maps and arrays",
    () => {
      // Written without asking the extensions (none takes them): the bytes
      // are still those of any msgpack writer.
      const value = { t: "run", n: [1, [2, { x: "y" }], []], z: {} };
      assert.deepStrictEqual(encodeValue(value), encode(value));
      const bare = Object.assign(Object.create(null), { a: 1, b: [2] });
      assert.deepStrictEqual(encodeValue(bare), encode({ a: 1, b: [2] }));
      assert.deepStrictEqual(decodeValue(encodeValue(bare)), { a: 1, b: [2] });
    },
  );

  await t.step("an earlier result is not changed by a later encode", () => {
    const first = encodeValue({ a: 1, s: "first" });
    const copy = first.slice();
    encodeValue({ b: 2, s: "second, longer than the first one" });
    assert.deepStrictEqual(first, copy);
    assert.deepStrictEqual(decodeValue(first), { a: 1, s: "first" });
  });

  await t.step("the deepest message of every container decodes as sent", () => {
    for (const wrap of WRAPPERS) {
      let deep: unknown = "bottom";
      for (let i = 0; i < OVER_MSGPACK.maxDepth - 1; i++) deep = wrap(deep);
      same(wrap(deep), wrap.name);
      // Inside a Map at the top, which adds to msgpack's depth.
      same(new Map([[1, deep]]), wrap.name);
    }
  });
});

/** One level of each container that holds values. */
const WRAPPERS = [
  function array(v: unknown) {
    return [v];
  },
  function object(v: unknown) {
    return { v };
  },
  function map(v: unknown) {
    return new Map([["v", v]]);
  },
  function set(v: unknown) {
    return new Set([v]);
  },
  function error(v: unknown) {
    const e = new Error("level");
    e.cause = v; // As the codec revives it: an own, enumerable cause.
    return e;
  },
];

Deno.test("codec: errors keep their cause and an AggregateError its errors", () => {
  const inner = new RangeError("inner");
  const outer = new Error("outer", { cause: inner });
  const back = decodeValue(encodeValue(outer)) as Error;
  assert.equal(back.message, "outer");
  assert.ok(back.cause instanceof RangeError);
  assert.equal((back.cause as Error).message, "inner");

  const many = new AggregateError([new TypeError("a"), "b"], "several");
  const again = decodeValue(encodeValue(many)) as AggregateError;
  assert.ok(again instanceof AggregateError);
  assert.equal(again.message, "several");
  assert.ok(again.errors[0] instanceof TypeError);
  assert.equal(again.errors[1], "b");

  assert.throws(
    () => encodeValue(new Error("x", { cause: () => 1 })),
    /at \.cause, is a function/,
  );
});
