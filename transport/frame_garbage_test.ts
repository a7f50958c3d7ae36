/**
 * Property tests of `FrameDecoder` (`frame.ts`) on garbage: random bytes and
 * corrupted streams, pushed in random chunks under various limits, only ever
 * yield what a reference parser yields, or a `FrameError`, never a crash.
 *
 * Random cases come from a seeded PRNG; a failure names its seed. Rerun one
 * with `FRAME_TEST_SEED=<seed> deno test -A transport/frame_garbage_test.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DEFAULT_MAX_FRAME_BYTES, FrameDecoder, FrameError } from "./frame.ts";
import {
  assertFrames,
  cut,
  randomBodies,
  reference,
  streamOf,
  withSeed,
} from "../tests/frame_streams.ts";

Deno.test("FrameDecoder: garbage never crashes it", async (t) => {
  /** Pushes `chunks`; only FrameError may escape; compares to reference. */
  const check = (stream: Uint8Array, chunks: Uint8Array[], max: number) => {
    const expected = reference(stream, max);
    const decoder = new FrameDecoder(max);
    const frames: Uint8Array[] = [];
    let error: unknown;
    for (const chunk of chunks) {
      try {
        frames.push(...decoder.push(chunk));
      } catch (e) {
        error = e;
        break;
      }
    }
    if (error !== undefined && !(error instanceof FrameError)) {
      assert.fail(`push threw something other than a FrameError: ${error}`);
    }
    // A push that throws drops the frames it completed before the bad
    // header (the connection closes anyway), so only a prefix is required.
    assertFrames(
      frames,
      error === undefined
        ? expected.frames
        : expected.frames.slice(0, frames.length),
      "frames before any error",
    );
    assert.equal(
      error !== undefined,
      expected.errorAt !== undefined,
      `an error ${error === undefined ? "was not" : "was"} thrown, ` +
        `expected ${expected.errorAt === undefined ? "none" : "one"}`,
    );
  };

  await t.step("random bytes, random chunkings, various limits", () => {
    withSeed(0x5eed0005, (r) => {
      const limits = [0, 1, 16, 4096, 65536, DEFAULT_MAX_FRAME_BYTES, 2 ** 32];
      for (let round = 0; round < 600; round++) {
        const stream = r.bytes(r.range(0, 3000));
        // Bias some headers toward small lengths so that frames also occur.
        if (r.next() < 0.5) {
          for (let i = 0; i + 3 < stream.byteLength; i += r.range(1, 64)) {
            stream[i] = 0;
            stream[i + 1] = 0;
            if (r.next() < 0.7) stream[i + 2] = 0;
          }
        }
        const points: number[] = [];
        for (let at = r.range(1, 200); at < stream.byteLength;) {
          points.push(at);
          at += r.range(1, 200);
        }
        check(stream, cut(stream, points), limits[round % limits.length]);
      }
    });
  });

  await t.step("valid streams with corrupted bytes", () => {
    withSeed(0x5eed0006, (r) => {
      for (let round = 0; round < 300; round++) {
        const stream = streamOf(randomBodies(r, 20, 0));
        for (let i = r.range(1, 6); i > 0; i--) {
          stream[r.int(stream.byteLength)] = r.int(256);
        }
        const points: number[] = [];
        for (let at = r.range(1, 500); at < stream.byteLength;) {
          points.push(at);
          at += r.range(1, 500);
        }
        check(stream, cut(stream, points), r.next() < 0.5 ? 9000 : 1024);
      }
    });
  });
});
