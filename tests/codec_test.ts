/**
 * Tests for `transport/codec.ts`: values keep their JavaScript types across
 * `encodeValue` / `decodeValue`, typed arrays are zero-copy where they can
 * be, unsendable values are refused with a path, and malformed bytes throw.
 *
 * @module
 */

import assert from "node:assert/strict";
import { decodeValue, encodeValue, EXT } from "../transport/codec.ts";
import { OVER_MSGPACK } from "../transport/crossable.ts";
import { FrameDecoder, frameHeader } from "../transport/frame.ts";

const roundTrip = <T>(value: T): T => decodeValue(encodeValue(value)) as T;

/** Round trips `value` and checks it is deeply, strictly equal. */
function same(value: unknown, message?: string): void {
  assert.deepStrictEqual(roundTrip(value), value, message);
}

const TYPED_ARRAYS = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
] as const;

type AnyTypedArray = InstanceType<(typeof TYPED_ARRAYS)[number]>;

/** A typed array of `length` elements with distinct, kind-typical values. */
function sample(
  Ctor: (typeof TYPED_ARRAYS)[number],
  length: number,
): AnyTypedArray {
  if (Ctor === BigInt64Array) {
    return BigInt64Array.from(
      { length },
      (_, i) => BigInt(i * 7919 - 300) ** 3n,
    );
  }
  if (Ctor === BigUint64Array) {
    return BigUint64Array.from({ length }, (_, i) => 2n ** 63n + BigInt(i));
  }
  const out = new Ctor(length);
  for (let i = 0; i < length; i++) out[i] = (i * 37 - 100) * 1.25;
  return out;
}

/** Copies `bytes` to a fresh buffer at byte offset `shift`. */
function placeAt(bytes: Uint8Array, shift: number): Uint8Array {
  const buffer = new ArrayBuffer(shift + bytes.byteLength + 8);
  const out = new Uint8Array(buffer, shift, bytes.byteLength);
  out.set(bytes);
  return out;
}

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

Deno.test("codec: typed arrays", async (t) => {
  await t.step("every kind, small and large, keeps its type and values", () => {
    for (const Ctor of TYPED_ARRAYS) {
      for (const length of [0, 1, 3, 100, 8192]) {
        const array = sample(Ctor, length);
        const back = roundTrip(array);
        assert.equal(back.constructor, Ctor, `${Ctor.name}(${length})`);
        assert.deepStrictEqual(back, array, `${Ctor.name}(${length})`);
      }
    }
  });

  await t.step("Uint8ClampedArray stays clamped", () => {
    const back = roundTrip(new Uint8ClampedArray([0, 128, 255]));
    assert.ok(back instanceof Uint8ClampedArray);
    back[0] = 300;
    assert.equal(back[0], 255);
  });

  await t.step("special float values inside typed arrays", () => {
    const back = roundTrip(new Float64Array([-0, NaN, Infinity, -Infinity]));
    assert.ok(Object.is(back[0], -0));
    assert.ok(Number.isNaN(back[1]));
    assert.equal(back[2], Infinity);
    assert.equal(back[3], -Infinity);
  });

  await t.step(
    "a view into part of a larger buffer sends only its part",
    () => {
      const whole = Float64Array.from({ length: 100 }, (_, i) => i);
      const part = whole.subarray(10, 13);
      const bytes = encodeValue(part);
      assert.ok(bytes.byteLength < 64, `encoded ${bytes.byteLength} bytes`);
      assert.deepStrictEqual(
        decodeValue(bytes),
        new Float64Array([10, 11, 12]),
      );
    },
  );

  await t.step("a subclass of Float64Array comes back as Float64Array", () => {
    class Vector extends Float64Array {}
    const back = roundTrip(new Vector([1.5, -2.5, 3]));
    assert.equal(
      back?.constructor,
      Float64Array,
      `came back as ${back?.constructor?.name}`,
    );
    assert.deepStrictEqual([...back], [1.5, -2.5, 3]);
  });

  await t.step("payloads at every alignment decode correctly", () => {
    for (const Ctor of TYPED_ARRAYS) {
      for (const length of [5, 1024]) {
        const array = sample(Ctor, length);
        const bytes = encodeValue({ a: array, pad: "x" });
        for (let shift = 0; shift < 8; shift++) {
          const back = decodeValue(placeAt(bytes, shift)) as { a: unknown };
          assert.deepStrictEqual(
            back.a,
            array,
            `${Ctor.name}(${length}) shifted by ${shift}`,
          );
        }
      }
    }
  });

  await t.step("arrays in frames: unaligned payloads are copied", () => {
    // Odd-length prefixes push the payload off its element alignment.
    for (const prefix of ["", "a", "ab", "abc", "abcd", "abcdefg"]) {
      const array = sample(Float64Array, 1024); // 8 KiB
      const body = encodeValue([prefix, array]);
      const frame = new Uint8Array([...frameHeader(body.byteLength), ...body]);
      const [decodedBody] = new FrameDecoder().push(frame);
      const [text, back] = decodeValue(decodedBody) as [string, Float64Array];
      assert.equal(text, prefix);
      assert.ok(back instanceof Float64Array);
      assert.equal(back.byteOffset % 8, 0, "a usable Float64Array");
      assert.deepStrictEqual(back, array, `prefix ${JSON.stringify(prefix)}`);
    }
  });

  await t.step("a large aligned array is a view into the frame", () => {
    for (const Ctor of TYPED_ARRAYS) {
      const array = sample(Ctor, 65536 / Ctor.BYTES_PER_ELEMENT);
      const bytes = encodeValue(array);
      // A single top-level typed array ends the encoding: its payload is
      // the last `byteLength` bytes.
      const payloadAt = bytes.byteLength - array.byteLength;
      const size = Ctor.BYTES_PER_ELEMENT;
      const shift = (size - (payloadAt % size)) % size;
      const input = placeAt(bytes, shift);
      const back = decodeValue(input) as AnyTypedArray;
      assert.deepStrictEqual(back, array);
      assert.equal(
        back.buffer,
        input.buffer,
        `${Ctor.name}: a large aligned array should not be copied`,
      );
      assert.equal(back.byteOffset, input.byteOffset + payloadAt);

      if (size > 1) {
        const unaligned = placeAt(bytes, shift + 1);
        const copied = decodeValue(unaligned) as AnyTypedArray;
        assert.deepStrictEqual(copied, array);
        assert.notEqual(copied.buffer, unaligned.buffer);
      }
    }
  });

  await t.step("a decoded large array in a frame is zero copy", () => {
    // The frame header (4 bytes) plus the ext 16 header (4 bytes) put a
    // Float64Array payload at offset 8 of a frame read in one chunk.
    const array = sample(Float64Array, 1024);
    const body = encodeValue(array);
    const frame = new Uint8Array(4 + body.byteLength);
    frame.set(frameHeader(body.byteLength));
    frame.set(body, 4);
    const [decodedBody] = new FrameDecoder().push(frame);
    const back = decodeValue(decodedBody) as Float64Array;
    assert.deepStrictEqual(back, array);
    assert.equal(back.buffer, frame.buffer, "a view into the frame");
  });

  await t.step("small arrays own their buffer", () => {
    for (const Ctor of TYPED_ARRAYS) {
      const array = sample(Ctor, 16);
      const bytes = encodeValue({ a: array, b: "x".repeat(5000) });
      for (let shift = 0; shift < 8; shift++) {
        const input = placeAt(bytes, shift);
        const back = (decodeValue(input) as { a: AnyTypedArray }).a;
        assert.deepStrictEqual(back, array);
        assert.notEqual(back.buffer, input.buffer, `${Ctor.name} shared`);
        assert.equal(
          back.buffer.byteLength,
          back.byteLength,
          `${Ctor.name}: a small array keeps no frame alive`,
        );
      }
    }
  });

  await t.step("a malformed typed array payload is refused", () => {
    // A Float64Array (kind 8) of 3 bytes.
    const bytes = new Uint8Array([0xc7, 3, EXT.typedArrayBase + 8, 1, 2, 3]);
    assert.throws(() => decodeValue(bytes), /multiple of 8/);
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
