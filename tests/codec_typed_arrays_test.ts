/**
 * Typed arrays through `transport/codec.ts`: every kind keeps its type and
 * values, payloads at every alignment decode, large aligned arrays are
 * zero-copy views into their frame, small ones own their buffer, and a
 * malformed payload is refused.
 *
 * @module
 */

import assert from "node:assert/strict";
import { decodeValue, encodeValue, EXT } from "../transport/codec.ts";
import { FrameDecoder, frameHeader } from "../transport/frame.ts";
import {
  TYPED_ARRAYS,
  type TypedArrayConstructor,
} from "../transport/typed_arrays.ts";
import { roundTrip } from "./round_trip.ts";

type AnyTypedArray = InstanceType<TypedArrayConstructor>;

/** A typed array of `length` elements with distinct, kind-typical values. */
function sample(
  Ctor: TypedArrayConstructor,
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
