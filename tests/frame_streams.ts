/**
 * Seeded random frame streams for the property tests of `transport/frame.ts`
 * (`transport/frame_*_test.ts`): a PRNG whose failures name their seed,
 * streams of frames and their chunkings, and a reference parser that says
 * what a correct decoder yields.
 *
 * Rerun a failure with `FRAME_TEST_SEED=<seed> deno test -A <that file>`.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  DEFAULT_MAX_FRAME_BYTES,
  FrameDecoder,
  frameHeader,
  HEADER_BYTES,
} from "../transport/frame.ts";

// ---------------------------------------------------------------------------
// A small seeded PRNG (mulberry32), so that every failure reproduces.

/**
 * A seeded source of random numbers and bytes (mulberry32): the same seed
 * gives the same sequence, so that every failure reproduces.
 *
 * @example
 * ```ts
 * import { type Rng, withSeed } from "./frame_streams.ts";
 * withSeed(1, (r: Rng) => console.log(r.range(1, 6), r.bytes(4)));
 * ```
 */
export type Rng = {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number;
  /** `n` random bytes. */
  bytes(n: number): Uint8Array;
};

/**
 * The seeded source itself, for tests that draw from it outside
 * `withSeed` (the chaos test's fates and kill times).
 *
 * @example
 * ```ts
 * import { rng } from "./frame_streams.ts";
 * console.log(rng(7).next() === rng(7).next()); // true
 * ```
 */
export function rng(seed: number): Rng {
  let a = seed >>> 0;
  const u32 = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const next = () => u32() / 2 ** 32;
  return {
    next,
    int: (n) => Math.floor(next() * n),
    range: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    bytes: (n) => {
      const out = new Uint8Array(n);
      let i = 0;
      for (; i + 4 <= n; i += 4) {
        const x = u32();
        out[i] = x;
        out[i + 1] = x >>> 8;
        out[i + 2] = x >>> 16;
        out[i + 3] = x >>> 24;
      }
      for (; i < n; i++) out[i] = u32();
      return out;
    },
  };
}

/** The seed for `name`: `FRAME_TEST_SEED` if set, else a fixed one. */
function seedFor(fixed: number): number {
  const env = Deno.permissions.querySync({
      name: "env",
      variable: "FRAME_TEST_SEED",
    }).state === "granted"
    ? Deno.env.get("FRAME_TEST_SEED")
    : undefined;
  return env === undefined ? fixed : Number(env) >>> 0;
}

/**
 * Runs `body` with a PRNG seeded with `fixed` (or `FRAME_TEST_SEED`, when
 * set); on failure, says which seed reproduces it.
 *
 * @example
 * ```ts
 * import { withSeed } from "./frame_streams.ts";
 * withSeed(0x5eed, (r) => console.log(r.int(10) < 10)); // true
 * ```
 */
export function withSeed(fixed: number, body: (r: Rng) => void): void {
  const seed = seedFor(fixed);
  try {
    body(rng(seed));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(
      `frame test failed with seed ${seed} ` +
        `(rerun with FRAME_TEST_SEED=${seed}): ${message}`,
    );
    throw new Error(`[seed ${seed}] ${message}`, { cause: error });
  }
}

// ---------------------------------------------------------------------------
// Streams and a reference parser.

/**
 * Frames laid end to end, each with its 4-byte big-endian length.
 *
 * @example
 * ```ts
 * import { streamOf } from "./frame_streams.ts";
 * console.log(streamOf([new Uint8Array([7])])); // [0, 0, 0, 1, 7]
 * ```
 */
export function streamOf(bodies: Uint8Array[]): Uint8Array {
  const total = bodies.reduce((n, b) => n + HEADER_BYTES + b.byteLength, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const body of bodies) {
    out.set(frameHeader(body.byteLength), at);
    out.set(body, at + HEADER_BYTES);
    at += HEADER_BYTES + body.byteLength;
  }
  return out;
}

/**
 * Where each frame (header included) starts and ends in its stream: the
 * offsets after each header and after each body.
 *
 * @example
 * ```ts
 * import { boundaries } from "./frame_streams.ts";
 * console.log(boundaries([new Uint8Array(2)])); // [0, 4, 6]
 * ```
 */
export function boundaries(bodies: Uint8Array[]): number[] {
  const out = [0];
  let at = 0;
  for (const body of bodies) {
    at += HEADER_BYTES;
    out.push(at);
    at += body.byteLength;
    out.push(at);
  }
  return out;
}

/**
 * Pushes `chunks` in order (each a fresh view) into a new decoder and
 * collects the frames, and how many bytes it holds at the end.
 *
 * @example
 * ```ts
 * import { cut, decodeChunks, streamOf } from "./frame_streams.ts";
 * const stream = streamOf([new Uint8Array(3)]);
 * console.log(decodeChunks(cut(stream, [2])).frames.length); // 1
 * ```
 */
export function decodeChunks(
  chunks: Uint8Array[],
  max = DEFAULT_MAX_FRAME_BYTES,
): { frames: Uint8Array[]; buffered: number } {
  const decoder = new FrameDecoder(max);
  const frames: Uint8Array[] = [];
  for (const chunk of chunks) {
    for (const frame of decoder.push(chunk)) frames.push(frame);
  }
  return { frames, buffered: decoder.buffered };
}

/**
 * Splits `stream` at the given ascending cut points.
 *
 * @example
 * ```ts
 * import { cut } from "./frame_streams.ts";
 * console.log(cut(new Uint8Array([1, 2, 3]), [1]).length); // 2
 * ```
 */
export function cut(stream: Uint8Array, points: number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const point of points) {
    chunks.push(stream.subarray(from, point));
    from = point;
  }
  chunks.push(stream.subarray(from));
  return chunks;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Asserts the frames are exactly `expected`, cheaply, with a clear diff
 * (large frames byte by byte, without printing them).
 *
 * @example
 * ```ts
 * import { assertFrames } from "./frame_streams.ts";
 * assertFrames([new Uint8Array([1])], [new Uint8Array([1])], "one frame");
 * ```
 */
export function assertFrames(
  actual: Uint8Array[],
  expected: Uint8Array[],
  what: string,
): void {
  assert.equal(actual.length, expected.length, `${what}: frame count`);
  for (let i = 0; i < expected.length; i++) {
    if (!equalBytes(actual[i], expected[i])) {
      assert.fail(
        `${what}: frame ${i} differs (got ${actual[i].byteLength} bytes, ` +
          `expected ${expected[i].byteLength})`,
      );
    }
  }
}

/**
 * Random frame bodies: empty ones first and last, then empty, tiny, medium
 * and a few kB ones, with `bigOnes` over 64 KiB put anywhere.
 *
 * @example
 * ```ts
 * import { randomBodies, withSeed } from "./frame_streams.ts";
 * withSeed(1, (r) => console.log(randomBodies(r, 10, 1).length)); // 13
 * ```
 */
export function randomBodies(
  r: Rng,
  count: number,
  bigOnes: number,
): Uint8Array[] {
  const bodies: Uint8Array[] = [new Uint8Array(0)];
  for (let i = 0; i < count; i++) {
    const roll = r.next();
    const size = roll < 0.15
      ? 0
      : roll < 0.55
      ? r.range(1, 16)
      : roll < 0.85
      ? r.range(17, 1024)
      : r.range(1025, 9000);
    bodies.push(r.bytes(size));
  }
  for (let i = 0; i < bigOnes; i++) {
    const size = i === 0 ? 65536 : i === 1 ? 65537 : r.range(65537, 200_000);
    bodies.splice(r.int(bodies.length + 1), 0, r.bytes(size));
  }
  bodies.push(new Uint8Array(0));
  return bodies;
}

/**
 * What a correct decoder yields for `stream` under `max`: its frames, the
 * offset of the first header over the limit (if any), and what it holds.
 *
 * @example
 * ```ts
 * import { reference, streamOf } from "./frame_streams.ts";
 * const { frames, errorAt } = reference(streamOf([new Uint8Array(5)]), 4);
 * console.log(frames.length, errorAt); // 0 0
 * ```
 */
export function reference(
  stream: Uint8Array,
  max: number,
): { frames: Uint8Array[]; errorAt: number | undefined; buffered: number } {
  const view = new DataView(stream.buffer, stream.byteOffset);
  const frames: Uint8Array[] = [];
  let at = 0;
  while (stream.byteLength - at >= HEADER_BYTES) {
    const length = view.getUint32(at);
    if (length > max) return { frames, errorAt: at, buffered: 0 };
    if (stream.byteLength - at - HEADER_BYTES < length) break;
    frames.push(stream.subarray(at + HEADER_BYTES, at + HEADER_BYTES + length));
    at += HEADER_BYTES + length;
  }
  return { frames, errorAt: undefined, buffered: stream.byteLength - at };
}
