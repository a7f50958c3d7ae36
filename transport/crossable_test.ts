/**
 * The crossing check on its own: what it accepts, what it refuses and how
 * it names it, cycles and shared objects, and values too big to walk twice.
 * End-to-end behaviour on both kinds of engine is in tests/crossing_test.ts.
 */

import assert from "node:assert/strict";
import {
  ANY_ENGINE,
  CROSSES,
  ENGINE_PROCESS,
  MAX_DEPTH,
  MESSAGE_DEPTH,
  OVER_MSGPACK,
} from "./crossable.ts";
import { checkCrossable } from "./crossing_check.ts";

function refused(
  value: unknown,
  expected: string,
  rules = ANY_ENGINE,
): string {
  let message = "";
  assert.throws(() => checkCrossable(value, "v", rules), (error: unknown) => {
    assert.ok(error instanceof TypeError, `not a TypeError: ${error}`);
    message = error.message;
    assert.ok(message.startsWith(expected), `"${message}" ≠ "${expected}…"`);
    assert.ok(message.endsWith(`What crosses: ${CROSSES}.`), message);
    return true;
  });
  return message;
}

Deno.test("crossable: what crosses is accepted by both rules", () => {
  const everything = {
    n: [0, -0, NaN, 1e300],
    s: "s",
    b: true,
    z: null,
    u: undefined,
    big: 1n,
    bare: Object.create(null),
    list: [[], [[1]]],
    map: new Map<unknown, unknown>([[{ k: 1 }, new Set([new Date(0)])]]),
    re: /x/g,
    error: new AggregateError([new TypeError("t")], "m", { cause: [1] }),
    buffer: new ArrayBuffer(8),
    typed: [new Float64Array(2), new BigInt64Array(1), new Uint8Array(0)],
    // Typed arrays of any subclass are data (node's Buffer is one).
    sub: new (class Vector extends Float32Array {})(2),
    view: new DataView(new ArrayBuffer(2)),
  };
  checkCrossable(everything, "v", ANY_ENGINE);
  checkCrossable(everything, "v", OVER_MSGPACK);
  for (const primitive of [1, "a", true, null, undefined, 2n]) {
    checkCrossable(primitive, "v", OVER_MSGPACK);
  }
});

Deno.test("crossable: refusals say where, what, and what to do", () => {
  refused(() => 1, "v is a function, which cannot cross");
  const helper = () => 1;
  assert.match(
    refused({ a: [helper] }, "v, at .a[0], is a function (helper)"),
    /moduleFunction\(new URL/,
  );
  refused(class Point {}, "v is a class (Point)");
  refused(Symbol("s"), "v is a symbol");
  refused({ "odd key": new WeakSet() }, 'v, at ["odd key"], is a WeakSet');
  refused(
    new Map([[1, { s: new WeakRef({}) }]]),
    "v, at .get(1).s, is a WeakRef",
  );
  refused(new Map([["k", Promise.resolve()]]), 'v, at .get("k"), is a Promise');
  refused(new Map([[() => 1, 1]]), "v, at  (a Map key), is a function");
  refused(new Set([1, Symbol()]), "v, at  (a Set item), is a symbol");
  refused(
    new Error("e", { cause: new WeakMap() }),
    "v, at .cause, is a WeakMap",
  );
  refused(new AggregateError([1, () => 1]), "v, at .errors[1], is a function");
  refused([new String("s")], "v, at [0], is a String object");
  refused(new URL("https://example.com"), "v is an URL");
  refused(new EventTarget(), "v is an EventTarget");

  class Point {
    constructor(public x: number) {}
  }
  const message = refused(
    { p: new Point(1) },
    "v, at .p, is an instance of class Point,",
  );
  assert.match(message, /\{ \.\.\.value \}/);
  assert.match(message, /moduleFunction/);
  // Subclasses of what crosses would arrive as the base type: refused.
  class Registry extends Map {}
  refused(
    new Registry(),
    "v is an instance of class Registry (a subclass of Map)",
  );
  refused(
    Object.create({ inherited: 1 }),
    "v is an object with a prototype of its own",
  );
});

Deno.test("crossable: cycles and shared objects cross to both kinds", () => {
  const shared = { n: 1 };
  const dag = { a: shared, b: [shared, { c: shared }] };
  checkCrossable(dag, "v", OVER_MSGPACK);

  // Structured clone keeps cycles; the codec refers back to them.
  const cyclic: { self?: unknown; list: unknown[] } = { list: [] };
  cyclic.self = cyclic;
  cyclic.list.push(cyclic.list);
  checkCrossable(cyclic, "v", ANY_ENGINE);
  checkCrossable(cyclic, "v", OVER_MSGPACK);

  const map = new Map<string, unknown>();
  map.set("me", map);
  checkCrossable(map, "v", OVER_MSGPACK);
  // What a shared object holds is checked where it is first met.
  map.set("bad", { f: () => 0 });
  refused(map, 'v, at .get("bad").f, is a function', OVER_MSGPACK);

  // A cycle found deep down, and a refusal behind one, still name the path.
  let deep: Record<string, unknown> = { end: true };
  const top = deep;
  for (let i = 0; i < 50; i++) deep = deep.next = { i };
  deep.loop = top;
  checkCrossable(top, "v");
  deep.bad = () => 0;
  refused(top, "v, at .next.next.next");
});

Deno.test("crossable: shared memory crosses only to threads", () => {
  const sab = new SharedArrayBuffer(8);
  checkCrossable({ sab }, "v", ANY_ENGINE);
  refused({ sab }, "v, at .sab, is a SharedArrayBuffer", OVER_MSGPACK);
  // A typed array over it is copied by msgpack, as any typed array.
  checkCrossable(new Int32Array(sab), "v", OVER_MSGPACK);
});

Deno.test("crossable: deep, wide and heavily shared values end", () => {
  let nested: unknown = 1;
  for (let i = 0; i < MAX_DEPTH; i++) nested = [nested];
  // One limit for both kinds: the deepest that crosses, and one deeper.
  for (const rules of [ANY_ENGINE, ENGINE_PROCESS]) {
    checkCrossable(nested, "v", rules);
    const message = refused(
      [nested],
      `v, at ${"[0]".repeat(12)}…(${MAX_DEPTH + 1 - 24} more steps)…${
        "[0]".repeat(12)
      }, is nested more than ${MAX_DEPTH} levels deep`,
      rules,
    );
    assert.match(message, /MAX_DEPTH, for every engine/);
    assert.match(message, /Flatten it/);
  }
  // A whole message may hold such a value a few levels down.
  checkCrossable({ t: "run", args: [[nested]] }, "v", OVER_MSGPACK);
  assert.equal(OVER_MSGPACK.maxDepth, MAX_DEPTH + MESSAGE_DEPTH);
  let linked: unknown = { end: true };
  for (let i = 0; i < MAX_DEPTH; i++) linked = { next: linked };
  refused(linked, "v, at .next.next", ANY_ENGINE);
  // A short path is shown whole.
  refused({ a: [{ f: Symbol() }] }, "v, at .a[0].f, is a symbol");

  // 2^40 paths through 40 objects: walked once each, not once per path.
  let doubling: Record<string, unknown> = { leaf: 1 };
  for (let i = 0; i < 40; i++) doubling = { a: doubling, b: doubling };
  checkCrossable(doubling, "v", OVER_MSGPACK);
  let shallow: Record<string, unknown> = { leaf: 1 };
  for (let i = 0; i < 25; i++) shallow = { a: shallow, b: shallow };
  checkCrossable(shallow, "v", ANY_ENGINE);

  const wide = Array.from({ length: 200_000 }, (_, i) => ({ i }));
  wide.push({ i: () => 0 } as unknown as { i: number });
  refused(wide, "v, at [200000].i, is a function");
  // Big typed arrays are never walked: their elements are numbers.
  checkCrossable([new Float64Array(10_000_000)], "v", OVER_MSGPACK);
});
