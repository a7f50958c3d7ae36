/**
 * Property tests of `FrameDecoder` (`frame.ts`): every chunking of a byte
 * stream gives the same frames, bodies are views that later pushes leave
 * intact, `buffered` counts what is held, and 1-byte chunks cost linear time.
 *
 * Random cases come from a seeded PRNG; a failure names its seed. Rerun one
 * with `FRAME_TEST_SEED=<seed> deno test -A transport/frame_chunking_test.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  FrameDecoder,
  FrameError,
  frameHeader,
  HEADER_BYTES,
} from "./frame.ts";
import {
  assertFrames,
  boundaries,
  cut,
  decodeChunks,
  randomBodies,
  streamOf,
  withSeed,
} from "../tests/frame_streams.ts";

Deno.test("FrameDecoder: every chunking gives the same frames", async (t) => {
  await t.step("every single split point of a small stream", () => {
    withSeed(0x5eed0001, (r) => {
      const bodies: Uint8Array[] = [new Uint8Array(0), new Uint8Array(0)];
      for (let i = 0; i < 40; i++) {
        bodies.push(r.bytes(r.next() < 0.25 ? 0 : r.range(1, 60)));
      }
      bodies.push(new Uint8Array(0));
      const stream = streamOf(bodies);
      assert.ok(stream.byteLength > 400, "the stream is worth splitting");
      for (let s = 0; s <= stream.byteLength; s++) {
        const { frames, buffered } = decodeChunks(cut(stream, [s]));
        assertFrames(frames, bodies, `split at ${s}`);
        assert.equal(buffered, 0, `split at ${s}: nothing left over`);
      }
    });
  });

  await t.step("every pair of split points of a tiny stream", () => {
    withSeed(0x5eed0002, (r) => {
      const bodies: Uint8Array[] = [
        new Uint8Array(0),
        r.bytes(1),
        r.bytes(5),
        new Uint8Array(0),
        r.bytes(3),
        r.bytes(9),
        new Uint8Array(0),
      ];
      const stream = streamOf(bodies);
      for (let s1 = 0; s1 <= stream.byteLength; s1++) {
        for (let s2 = s1; s2 <= stream.byteLength; s2++) {
          const { frames, buffered } = decodeChunks(cut(stream, [s1, s2]));
          assertFrames(frames, bodies, `splits at ${s1}, ${s2}`);
          assert.equal(buffered, 0);
        }
      }
    });
  });

  await t.step("single splits around every boundary, frames > 64 KiB", () => {
    withSeed(0x5eed0003, (r) => {
      const bodies: Uint8Array[] = [
        r.bytes(10),
        r.bytes(65536),
        new Uint8Array(0),
        r.bytes(65537),
        r.bytes(3),
        r.bytes(70_000),
        new Uint8Array(0),
      ];
      const stream = streamOf(bodies);
      const points = new Set<number>();
      for (const b of boundaries(bodies)) {
        for (let d = -6; d <= 6; d++) {
          if (b + d >= 0 && b + d <= stream.byteLength) points.add(b + d);
        }
      }
      for (let i = 0; i < 200; i++) points.add(r.int(stream.byteLength + 1));
      for (const s of points) {
        const { frames, buffered } = decodeChunks(cut(stream, [s]));
        assertFrames(frames, bodies, `split at ${s}`);
        assert.equal(buffered, 0);
      }
    });
  });

  await t.step("many random multi-split chunkings of a large stream", () => {
    withSeed(0x5eed0004, (r) => {
      const bodies = randomBodies(r, 300, 4);
      const stream = streamOf(bodies);
      const edges = boundaries(bodies);
      const styles = [
        // Mostly tiny chunks, now and then a large one.
        () => r.next() < 0.9 ? r.range(1, 8) : r.range(1, 100_000),
        // Anything from 1 byte to 256 KiB.
        () => r.range(1, 256 * 1024),
        // Socket-like reads.
        () => r.next() < 0.5 ? 65536 : r.range(1, 65536),
        // Around 1 KiB.
        () => r.range(1, 2048),
      ];
      for (let round = 0; round < 40; round++) {
        const size = styles[round % styles.length];
        const points: number[] = [];
        for (let at = size(); at < stream.byteLength; at += size()) {
          points.push(at);
        }
        const { frames, buffered } = decodeChunks(cut(stream, points));
        assertFrames(frames, bodies, `round ${round} (${points.length} cuts)`);
        assert.equal(buffered, 0);
      }
      // Cut exactly at every frame boundary, and not at all.
      const exact = edges.filter((e) => e > 0 && e < stream.byteLength);
      assertFrames(decodeChunks(cut(stream, exact)).frames, bodies, "exact");
      assertFrames(decodeChunks([stream]).frames, bodies, "one chunk");
    });
  });

  await t.step("empty chunks change nothing", () => {
    const bodies: Uint8Array[] = [new Uint8Array([1, 2, 3]), new Uint8Array(0)];
    const stream = streamOf(bodies);
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < stream.byteLength; i++) {
      chunks.push(new Uint8Array(0), stream.subarray(i, i + 1));
    }
    chunks.push(new Uint8Array(0));
    assertFrames(decodeChunks(chunks).frames, bodies, "with empty chunks");
  });

  await t.step("a frame kept from an earlier push stays intact", () => {
    // Bodies may be views into the pushed chunks: later pushes must not
    // change frames already returned.
    const decoder = new FrameDecoder();
    const a = new Uint8Array([...frameHeader(3), 1, 2, 3, ...frameHeader(2)]);
    const [first] = decoder.push(a);
    assert.deepEqual([...first], [1, 2, 3]);
    const [second] = decoder.push(new Uint8Array([4, 5]));
    assert.deepEqual([...first], [1, 2, 3]);
    assert.deepEqual([...second], [4, 5]);
  });

  await t.step("a body within one chunk is a view into it (no copy)", () => {
    const chunk = new Uint8Array([...frameHeader(4), 9, 8, 7, 6]);
    const [body] = new FrameDecoder().push(chunk);
    assert.equal(body.buffer, chunk.buffer);
    assert.equal(body.byteOffset, HEADER_BYTES);
  });

  await t.step("buffered counts every byte not yet in a frame", () => {
    // Documented as "bytes received that do not make a whole frame yet":
    // the header of an incomplete frame is such bytes too.
    const decoder = new FrameDecoder();
    const stream = streamOf([new Uint8Array(10), new Uint8Array(3)]);
    assert.deepEqual(decoder.push(stream.subarray(0, 2)), []);
    assert.equal(decoder.buffered, 2);
    assert.deepEqual(decoder.push(stream.subarray(2, 9)), []);
    assert.equal(decoder.buffered, 9, "4 header bytes + 5 body bytes");
    assert.equal(decoder.push(stream.subarray(9, 16)).length, 1);
    assert.equal(decoder.buffered, 2);
    assert.equal(decoder.push(stream.subarray(16)).length, 1);
    assert.equal(decoder.buffered, 0);
  });

  await t.step(
    "1-byte chunks of a 1 MiB frame: work linear in the chunks",
    () => {
      // A hang guard, not a speed test: a linear decoder takes well under a
      // second for these 2^20 pushes; one that is quadratic in the chunks it
      // holds would take hours (2^39 chunk visits), far past the 30 s guard.
      const bodies: Uint8Array[] = [new Uint8Array(2 ** 20).fill(7)];
      const stream = streamOf(bodies);
      const decoder = new FrameDecoder();
      const frames: Uint8Array[] = [];
      const started = performance.now();
      for (let i = 0; i < stream.byteLength; i++) {
        frames.push(...decoder.push(stream.subarray(i, i + 1)));
        if ((i & 0xffff) === 0 && performance.now() - started > 30_000) {
          assert.fail(
            `${i} one-byte pushes took over 30 s: decoding is not linear in ` +
              "the number of chunks",
          );
        }
      }
      assertFrames(frames, bodies, "1-byte chunks");
    },
  );
});

/**
 * Pushes `chunks` as a reader with one buffer does: each is copied into
 * the same buffer and pushed as `transient`, and the buffer is scribbled
 * over before the next read, so that a frame still viewing it shows.
 */
function decodeThroughOneBuffer(
  chunks: Uint8Array[],
  max?: number,
): { frames: Uint8Array[]; error: unknown } {
  const buffer = new Uint8Array(Math.max(1, ...chunks.map((c) => c.length)));
  const decoder = new FrameDecoder(max);
  const frames: Uint8Array[] = [];
  for (const chunk of chunks) {
    buffer.set(chunk);
    try {
      frames.push(...decoder.push(buffer.subarray(0, chunk.length), true));
    } catch (error) {
      buffer.fill(0xee);
      frames.push(...(error as FrameError).frames);
      return { frames, error };
    }
    buffer.fill(0xee);
  }
  return { frames, error: undefined };
}

Deno.test("FrameDecoder: transient chunks of one reused buffer give the same frames, copied", async (t) => {
  await t.step("random chunkings of small and large frames", () => {
    withSeed(0x5eed0005, (r) => {
      const bodies = randomBodies(r, 200, 3);
      const stream = streamOf(bodies);
      for (let round = 0; round < 12; round++) {
        const points: number[] = [];
        const size = () => round % 2 === 0 ? r.range(1, 64) : r.range(1, 65536);
        for (let at = size(); at < stream.byteLength; at += size()) {
          points.push(at);
        }
        const { frames, error } = decodeThroughOneBuffer(cut(stream, points));
        assert.equal(error, undefined);
        assertFrames(frames, bodies, `round ${round} (${points.length} cuts)`);
      }
    });
  });

  await t.step("no body is a view of the pushed chunk's buffer", () => {
    const chunk = new Uint8Array([...frameHeader(2), 9, 8, ...frameHeader(1)]);
    const decoder = new FrameDecoder();
    const [body] = decoder.push(chunk, true);
    assert.notEqual(body.buffer, chunk.buffer);
    chunk.fill(0);
    const [next] = decoder.push(new Uint8Array([7]), true);
    assert.deepEqual([...body], [9, 8]);
    assert.deepEqual([...next], [7], "the header kept from the first push");
  });

  await t.step("frames before a broken header are intact copies too", () => {
    const bodies = [new Uint8Array([1, 2, 3]), new Uint8Array([4])];
    const stream = new Uint8Array([
      ...streamOf(bodies),
      ...frameHeader(1000),
    ]);
    const { frames, error } = decodeThroughOneBuffer([stream], 100);
    assert.ok(error instanceof FrameError, `got ${error}`);
    assertFrames(frames, bodies, "before the break");
  });
});
