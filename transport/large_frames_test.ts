/**
 * Large frames cost one copy less each way: their bodies are read straight
 * into a buffer of their own (FrameDecoder.directRegion), placed so that
 * their big typed array decodes in place (bodyPlacement), and a large
 * encoding keeps the buffer it was written in (codec.ts).
 */

import assert from "node:assert/strict";
import { guard } from "../tests/helpers.ts";
import { bodyPlacement } from "./body_placement.ts";
import { concatBytes } from "./bytes.ts";
import {
  decodeValue,
  encodeParts,
  encodeValue,
  recycleEncoding,
} from "./codec.ts";
import {
  FrameDecoder,
  frameHeader,
  MAX_READ_BYTES,
  nextReadBytes,
} from "./frame.ts";
import { FramedConnection } from "./framed_connection.ts";
import { FrameSeal } from "./seal.ts";

const MIB = 2 ** 20;

Deno.test("a large body is read into a buffer of its own", async (t) => {
  const body = new Uint8Array(3 * MIB).map((_, i) => i % 251);

  await t.step("what arrived first moves in, the rest is read into it", () => {
    const decoder = new FrameDecoder();
    assert.deepEqual(decoder.push(frameHeader(body.byteLength)), []);
    assert.equal(
      decoder.directRegion(MIB),
      undefined,
      "nothing is allocated for a body only announced",
    );
    assert.deepEqual(decoder.push(body.subarray(0, 1000)), []);
    assert.equal(decoder.directRegion(4 * MIB), undefined, "under minBytes");
    let region = decoder.directRegion(MIB)!;
    assert.equal(region.byteLength, body.byteLength - 1000);
    assert.throws(() => decoder.push(new Uint8Array(1)), /directRegion/);
    let got: Uint8Array[] = [];
    for (let at = 1000; at < body.byteLength;) {
      const n = Math.min(777_777, region.byteLength);
      region.set(body.subarray(at, at + n));
      at += n;
      got = decoder.filled(n);
      assert.equal(decoder.buffered, got.length ? 0 : at + 4);
      if (!got.length) region = decoder.directRegion(MIB)!;
    }
    assert.equal(got.length, 1);
    assert.deepEqual(got[0], body);
    assert.equal(got[0].buffer.byteLength, body.byteLength, "its own buffer");
    // The frame after it is read as any other.
    assert.deepEqual(decoder.push(new Uint8Array([0, 0, 0, 1, 9])), [
      new Uint8Array([9]),
    ]);
  });

  await t.step("place() decides the bytes before the body", () => {
    const decoder = new FrameDecoder();
    decoder.push(frameHeader(body.byteLength));
    decoder.push(body.subarray(0, 10));
    const seen: number[] = [];
    const region = decoder.directRegion(MIB, (prefix, bodyBytes) => {
      seen.push(prefix.byteLength, bodyBytes);
      return 5;
    })!;
    assert.deepEqual(seen, [10, body.byteLength]);
    region.set(body.subarray(10));
    const [got] = decoder.filled(region.byteLength);
    assert.equal(got.byteOffset, 5);
    assert.deepEqual(got, body);
  });
});

Deno.test("bodyPlacement puts the big typed array of a body on its boundary", () => {
  for (const Ctor of [Float64Array, Int32Array, Int16Array, BigInt64Array]) {
    for (let shift = 0; shift < 8; shift++) {
      const big = new Ctor(200_000);
      const body = encodeValue({ t: "x".repeat(shift), big, after: 1 });
      const pad = bodyPlacement(body.subarray(0, 300), body.byteLength);
      const placed = new Uint8Array(pad + body.byteLength).subarray(pad);
      placed.set(body);
      const value = decodeValue(placed) as { big: typeof big };
      assert.equal(value.big.length, big.length);
      assert.equal(
        value.big.buffer,
        placed.buffer,
        `${Ctor.name} after ${shift} bytes: decoded in place, not copied`,
      );
    }
  }
  // Nothing big in sight: no padding, and a guess never breaks a value.
  assert.equal(bodyPlacement(encodeValue({ a: 1 }), 10), 0);
  const noise = new Uint8Array(5000).fill(0xc9);
  assert.ok(bodyPlacement(noise, 5000) < 8);
});

Deno.test("large encodings keep their own bytes: one does not overwrite another", () => {
  const first = encodeValue({ a: new Float64Array(MIB / 4).fill(1) });
  const second = encodeValue({ a: new Float64Array(MIB / 4).fill(2) });
  const small = encodeValue({ a: 3 });
  assert.notEqual(first.buffer, second.buffer);
  assert.equal((decodeValue(first) as { a: Float64Array }).a[100], 1);
  assert.equal((decodeValue(second) as { a: Float64Array }).a[100], 2);
  assert.deepEqual(decodeValue(small), { a: 3 });
  // The big write got what it needed, not twice that.
  assert.ok(first.buffer.byteLength < first.byteLength + MIB / 8);
});

Deno.test("an 80 MB array crosses a real socket intact and lands in place", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const sender = new FramedConnection(
    await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
  );
  const receiver = new FramedConnection(await accepted);
  const values: unknown[] = [];
  const got = Promise.withResolvers<void>();
  receiver.onValue = (value) => {
    values.push(value);
    if (values.length === 3) got.resolve();
  };
  receiver.start();
  sender.start();
  const big = new Float64Array(10_000_000).map((_, i) => i);
  for (const t of ["a", "ab", "abc"]) sender.send({ t, big }).catch(() => {});
  await guard(got.promise, "three 80 MB frames", 60_000);
  for (const [i, value] of values.entries()) {
    const { t, big: arrived } = value as { t: string; big: Float64Array };
    assert.equal(t, "abc".slice(0, i + 1));
    assert.equal(arrived.length, big.length);
    assert.equal(arrived[9_999_999], 9_999_999);
    assert.equal(arrived[12_345], 12_345);
    assert.ok(
      arrived.buffer.byteLength > arrived.byteLength,
      "a view of its frame, not a copy",
    );
  }
  sender.close("done");
  await Promise.all([sender.closed, receiver.closed]);
});

Deno.test("encodeParts: large arrays are parts of their own, not copied", () => {
  const big = new Float64Array(MIB / 4).map((_, i) => i);
  const window = new Int16Array(new ArrayBuffer(4 * MIB), 2, MIB);
  const value = { t: "done", value: [big, "between", window], small: [1, 2] };
  const parts = encodeParts(value);
  assert.equal(parts.length, 5, "bytes, big, bytes, window, bytes");
  assert.equal(parts[1].buffer, big.buffer);
  assert.equal(parts[3].buffer, window.buffer);
  assert.equal(parts[3].byteOffset, 2);
  assert.deepEqual(concatBytes(parts), encodeValue(value), "the same bytes");
  // Shared (written once, inside ext 9) and small arrays are copied as usual.
  const shared = encodeParts({ a: big, b: big, c: new Float64Array(8) });
  assert.equal(shared.length, 1);
  assert.deepEqual(decodeValue(shared[0]), {
    a: big,
    b: big,
    c: new Float64Array(8),
  });
  assert.equal(encodeParts({ x: 1 }).length, 1);
});

Deno.test("sendOwned writes a large array from where it is, intact", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const sender = new FramedConnection(
    await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
  );
  const receiver = new FramedConnection(await accepted);
  const got = Promise.withResolvers<unknown>();
  receiver.onValue = got.resolve;
  receiver.start();
  sender.start();
  const big = new Float64Array(3 * MIB).map((_, i) => i);
  await guard(sender.sendOwned({ t: "done", big, after: "x" }), "the write");
  const value = await guard(got.promise, "the frame") as {
    big: Float64Array;
    after: string;
  };
  assert.deepEqual(value.big, big);
  assert.equal(value.after, "x");
  assert.throws(
    () => {
      sender.maxFrameBytes = MIB;
      sender.sendOwned({ big });
    },
    RangeError,
    "the frame limit holds for parts too",
  );
  sender.close("done");
  await Promise.all([sender.closed, receiver.closed]);
});

Deno.test("a written large encoding's buffer is written into again, and only then", () => {
  const first = encodeValue({ a: new Float64Array(MIB / 4).fill(1) });
  const copy = first.slice();
  recycleEncoding(new Uint8Array(8)); // Not an encoding: ignored.
  const second = encodeValue({ a: new Float64Array(MIB / 4).fill(2) });
  assert.notEqual(second.buffer, first.buffer, "not taken back: not reused");
  assert.deepEqual(first, copy);
  recycleEncoding(first); // Its frame is written.
  const third = encodeValue({ a: new Float64Array(MIB / 4).fill(3) });
  assert.equal(third.buffer, first.buffer, "written into the same memory");
  assert.equal((decodeValue(third) as { a: Float64Array }).a[7], 3);
  recycleEncoding(first); // Twice: nothing happens the second time.
  const fourth = encodeValue({ a: new Float64Array(MIB / 4).fill(4) });
  assert.notEqual(fourth.buffer, third.buffer, "third is still the caller's");
  assert.equal((decodeValue(third) as { a: Float64Array }).a[7], 3);
  const small = encodeValue({ x: 1 });
  assert.deepEqual(decodeValue(small), { x: 1 });
});

Deno.test("reads ask for what frames need: more when full, less when small", () => {
  assert.equal(nextReadBytes(MAX_READ_BYTES, 40), MAX_READ_BYTES / 4);
  assert.equal(nextReadBytes(4096, 40), 4096, "never under 4 KiB");
  assert.equal(nextReadBytes(4096, 4096), 8192, "a full read doubles");
  assert.equal(nextReadBytes(MAX_READ_BYTES, MAX_READ_BYTES), MAX_READ_BYTES);
  assert.equal(nextReadBytes(16384, 5000), 16384, "a fair read keeps it");
});

Deno.test("a sealed large body opens placed: its big array decodes in place", async () => {
  const nc = crypto.getRandomValues(new Uint8Array(32));
  const ne = crypto.getRandomValues(new Uint8Array(32));
  const client = await FrameSeal.derive("secret", nc, ne, "client");
  const engine = await FrameSeal.derive("secret", nc, ne, "engine");
  for (const t of ["a", "ab", "abc"]) {
    const big = new Float64Array(3 * MIB / 8).map((_, i) => i);
    const plain = encodeValue({ t, big });
    const opened = await engine.open(await client.seal(plain));
    assert.deepEqual(opened, plain);
    const value = decodeValue(opened) as { big: Float64Array };
    assert.equal(value.big.buffer, opened.buffer, `after "${t}": in place`);
    assert.equal(value.big[12_345], 12_345);
  }
});
