/**
 * Tests for `transport/transferables.ts`. A message crosses a thread as
 * `postMessage` would move it: `structuredClone(value, { transfer })`.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  packMessage,
  TRANSFER_THRESHOLD_BYTES,
  unpackMessage,
} from "../transport/transferables.ts";

/** Packs, moves as postMessage does, unpacks. */
function send<T>(message: T): { back: T; transfer: ArrayBuffer[] } {
  const { value, transfer } = packMessage(message);
  const moved = structuredClone(value, { transfer });
  return { back: unpackMessage(moved), transfer };
}

const LARGE = TRANSFER_THRESHOLD_BYTES * 4;

function large<T extends new (length: number) => ArrayBufferView>(
  Ctor: T,
  bytes = LARGE,
): InstanceType<T> {
  const size = (Ctor as unknown as { BYTES_PER_ELEMENT: number })
    .BYTES_PER_ELEMENT;
  const array = new Ctor(bytes / size) as InstanceType<T>;
  const u8 = new Uint8Array(array.buffer);
  for (let i = 0; i < u8.length; i++) u8[i] = (i * 31 + 7) & 0xff;
  return array;
}

Deno.test("transferables", async (t) => {
  await t.step("round trip keeps every typed array kind and the rest", () => {
    const message = {
      t: "run",
      id: 3,
      args: [
        large(Float64Array),
        large(Int8Array),
        large(Uint8Array),
        large(Uint8ClampedArray),
        large(Int16Array),
        large(Uint16Array),
        large(Int32Array),
        large(Uint32Array),
        large(Float32Array),
        large(BigInt64Array),
        large(BigUint64Array),
        new DataView(large(Uint8Array).buffer),
        new Float64Array([1, 2, 3]),
        "text",
        null,
        undefined,
        { nested: { deeper: [large(Float32Array, TRANSFER_THRESHOLD_BYTES)] } },
      ],
      when: new Date(5),
      map: new Map([["k", 1]]),
    };
    const { back, transfer } = send(message);
    assert.deepStrictEqual(back, message);
    assert.ok(transfer.length >= 12, `${transfer.length} buffers moved`);
  });

  await t.step("the caller's arrays are not detached", () => {
    const big = large(Float64Array);
    const view = new DataView(large(Uint8Array).buffer);
    const before = big.slice();
    const message = { a: big, b: [big], v: view };
    const { back } = send(message);
    assert.equal(big.byteLength, LARGE, "still attached");
    assert.equal(big.buffer.byteLength, LARGE);
    assert.equal(view.byteLength, LARGE);
    assert.deepStrictEqual(big, before, "values intact");
    assert.deepStrictEqual(back.a, before);
    assert.equal(message.a, big, "the message itself is not rewritten");
    assert.equal(message.b[0], big);
  });

  await t.step("only copies are transferred", () => {
    const a = large(Float64Array);
    const b = large(Int32Array);
    const callers = new Set<ArrayBufferLike>([a.buffer, b.buffer]);
    const { value, transfer } = packMessage({ a, list: [b] });
    assert.equal(transfer.length, 2);
    for (const buffer of transfer) {
      assert.ok(!callers.has(buffer), "a caller's buffer is in the list");
      assert.ok(buffer instanceof ArrayBuffer);
    }
    structuredClone(value, { transfer });
    for (const buffer of transfer) assert.equal(buffer.byteLength, 0);
    assert.equal(a.byteLength, LARGE);
    assert.equal(b.byteLength, LARGE);
  });

  await t.step("a large view copies only its own bytes", () => {
    const whole = large(Uint8Array, LARGE * 4);
    const part = new Float64Array(whole.buffer, 8, LARGE / 8);
    const { back, transfer } = send({ part });
    assert.equal(transfer.length, 1);
    assert.equal(transfer[0].byteLength === 0, true, "moved");
    assert.equal(back.part.buffer.byteLength, LARGE, "only the view's bytes");
    assert.deepStrictEqual(back.part, part);
  });

  await t.step("a small view into a large buffer is copied", () => {
    const whole = large(Float64Array, 1 << 20);
    const small = whole.subarray(10, 12);
    // With a large array in the same message.
    const withLarge = send({ small, big: large(Uint8Array) }).back;
    assert.deepStrictEqual(withLarge.small, small);
    assert.equal(withLarge.small.buffer.byteLength, 16);
    // On its own: the whole 1 MiB buffer must not travel either.
    const { value } = packMessage({ small });
    const alone = unpackMessage(structuredClone(value));
    assert.deepStrictEqual(alone.small, small);
    assert.equal(
      alone.small.buffer.byteLength,
      16,
      `a 16-byte view took its ${alone.small.buffer.byteLength}-byte ` +
        "buffer along",
    );
    assert.equal(whole.byteLength, 1 << 20, "the caller's array is intact");
  });

  await t.step("the same array twice comes back as one array", () => {
    const big = large(Float64Array);
    const { back, transfer } = send({ a: big, b: big, list: [big] });
    assert.equal(transfer.length, 1, "copied and moved once");
    assert.equal(back.a, back.b);
    assert.equal(back.a, back.list[0]);
    assert.deepStrictEqual(back.a, big);
  });

  await t.step("the same small view twice comes back as one array", () => {
    const small = large(Float64Array, 1 << 16).subarray(0, 4);
    const { back } = send({ a: small, b: small, big: large(Uint8Array) });
    assert.equal(back.a, back.b, "structured clone would keep one array");
  });

  await t.step("the same container twice comes back as one object", () => {
    const shared = { data: large(Float64Array) };
    const { back } = send({ x: shared, y: shared });
    assert.equal(back.x, back.y, "structured clone would keep one object");
  });

  await t.step(
    "a message with a cycle survives, as structured clone's do",
    () => {
      const big = large(Float64Array);
      const list: unknown[] = [big];
      list.push(list);
      const node: Record<string, unknown> = { big };
      node.self = node;
      const { back } = send({ list, node });
      assert.deepStrictEqual(back.list[0], big);
      assert.equal(back.list[1], back.list, "the array still holds itself");
      assert.equal(back.node.self, back.node, "the object still holds itself");
    },
  );

  await t.step("a subclass of Float64Array comes back as Float64Array", () => {
    class Vector extends Float64Array {}
    const vector = new Vector(LARGE / 8).fill(2.5);
    const { back } = send({ vector });
    assert.equal(back.vector.constructor, Float64Array);
    assert.deepStrictEqual([...back.vector], [...vector]);
  });

  await t.step("messages without large arrays pass through unchanged", () => {
    const messages: unknown[] = [
      { t: "ping" },
      {
        t: "run",
        args: [1, "a", new Float64Array(8), { x: [new Int8Array(3)] }],
      },
      [new Uint8Array(TRANSFER_THRESHOLD_BYTES - 1)],
      new Map([["big", large(Float64Array)]]),
      "text",
      42,
      null,
      undefined,
    ];
    for (const message of messages) {
      const { value, transfer } = packMessage(message);
      assert.equal(value, message, "the same object");
      assert.deepEqual(transfer, []);
      assert.equal(unpackMessage(message), message);
    }
  });

  await t.step("unpackMessage returns non-packed values as they are", () => {
    const plain = { a: [1, 2], b: { c: 3 } };
    assert.equal(unpackMessage(plain), plain);
    assert.equal(unpackMessage(null), null);
    assert.equal(unpackMessage(7), 7);
  });

  await t.step("a packed message can be unpacked without moving it", () => {
    const big = large(Int16Array);
    const { value } = packMessage({ big });
    assert.deepStrictEqual(unpackMessage(value).big, big);
  });
});

Deno.test("small plain messages go as they are; a view deep or in company is still boxed", () => {
  const run = {
    t: "run",
    taskId: 7,
    fn: { kind: "source", source: "(x) => x + 1" },
    args: [1, "a", null, [true, { n: 2 }]],
  };
  const packed = packMessage(run);
  assert.equal(packed.value, run, "the message itself, not a copy");
  assert.deepEqual(packed.transfer, []);
  // Past the quick look (deep, wide, or a view anywhere): the walk boxes it.
  const big = new Float64Array(TRANSFER_THRESHOLD_BYTES);
  const cases = [
    { a: { b: { c: { d: { e: big } } } } },
    { args: [...Array(20).keys(), big] },
    { args: [1, big] },
  ];
  for (const message of cases) {
    const { back, transfer } = send(message);
    assert.equal(transfer.length, 1);
    assert.deepEqual(back, message);
  }
});
