/**
 * `frame.ts`: lengths over the limit fail at once (before any body byte, and
 * with words that say what the bytes were), the limit can change mid-stream,
 * and `frameHeader` and `formatBytes` write what they should. The property
 * tests are `frame_chunking_test.ts` and `frame_garbage_test.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  DEFAULT_MAX_FRAME_BYTES,
  formatBytes,
  FrameDecoder,
  FrameError,
  frameHeader,
  HEADER_BYTES,
} from "./frame.ts";
import { streamOf } from "../tests/frame_streams.ts";

Deno.test("FrameDecoder: lengths over the limit", async (t) => {
  await t.step("0xFFFFFFFF fails at once, before any body byte", () => {
    const decoder = new FrameDecoder();
    assert.throws(
      () => decoder.push(new Uint8Array([0xff, 0xff, 0xff, 0xff])),
      (error: unknown) => {
        assert.ok(error instanceof FrameError, `got ${error}`);
        assert.equal(error.name, "FrameError");
        assert.match(error.message, /GiB/);
        assert.match(error.message, /over the limit of 256 MiB/);
        return true;
      },
    );
  });

  await t.step("a header split over pushes fails on its last byte", () => {
    const decoder = new FrameDecoder(4096);
    assert.deepEqual(decoder.push(new Uint8Array([0xff])), []);
    assert.deepEqual(decoder.push(new Uint8Array([0xff, 0xff])), []);
    assert.throws(() => decoder.push(new Uint8Array([0xff])), FrameError);
  });

  await t.step("the decoder never allocates for an announced body", () => {
    // With no limit, a 4 GiB announcement is simply waited for: nothing is
    // allocated up front (memory outside the heap would grow by 4 GiB).
    const decoder = new FrameDecoder(2 ** 32);
    const before = Deno.memoryUsage().external;
    assert.deepEqual(
      decoder.push(new Uint8Array([0xff, 0xff, 0xff, 0xff])),
      [],
    );
    assert.deepEqual(decoder.push(new Uint8Array(1000)), []);
    assert.equal(decoder.buffered, 1004, "the 4 header bytes count too");
    const grown = Deno.memoryUsage().external - before;
    assert.ok(grown < 2 ** 26, `${grown} bytes were allocated for it`);
  });

  await t.step("one byte over the limit fails, the limit itself passes", () => {
    assert.throws(
      () => new FrameDecoder(100).push(frameHeader(101)),
      /over the limit of 100 B/,
    );
    const ok = new FrameDecoder(100);
    const stream = streamOf([new Uint8Array(100)]);
    assert.equal(ok.push(stream).length, 1);
    assert.throws(() => new FrameDecoder(0).push(frameHeader(1)), FrameError);
    assert.equal(new FrameDecoder(0).push(frameHeader(0)).length, 1);
  });

  await t.step("an HTTP request gives a FrameError that says text/HTTP", () => {
    const request = new TextEncoder().encode(
      "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    );
    for (const max of [4096, DEFAULT_MAX_FRAME_BYTES]) {
      assert.throws(
        () => new FrameDecoder(max).push(request),
        (error: unknown) => {
          assert.ok(error instanceof FrameError);
          assert.match(error.message, /text/);
          assert.match(error.message, /HTTP/);
          assert.match(error.message, /GET /);
          return true;
        },
      );
    }
    for (const text of ["POST /x HTTP/1.1\r\n", "SSH-2.0-OpenSSH_9\r\n"]) {
      assert.throws(
        () => new FrameDecoder(4096).push(new TextEncoder().encode(text)),
        /text/,
      );
    }
  });

  await t.step("maxFrameBytes setter raises and lowers the limit", () => {
    const decoder = new FrameDecoder(8);
    const nine = streamOf([new Uint8Array(9).fill(1)]);
    assert.throws(() => new FrameDecoder(8).push(nine), FrameError);
    decoder.maxFrameBytes = 16;
    assert.equal(decoder.push(nine).length, 1);
    decoder.maxFrameBytes = 4;
    assert.equal(decoder.push(streamOf([new Uint8Array(4)])).length, 1);
    assert.throws(() => decoder.push(frameHeader(5)), /over the limit of 4 B/);
  });

  await t.step("the limit set mid-stream applies to the next header", () => {
    const decoder = new FrameDecoder(10);
    const stream = streamOf([new Uint8Array(5), new Uint8Array(50)]);
    assert.equal(decoder.push(stream.subarray(0, 9)).length, 1);
    decoder.maxFrameBytes = 100;
    const frames = decoder.push(stream.subarray(9));
    assert.equal(frames.length, 1);
    assert.equal(frames[0].byteLength, 50);
  });
});

Deno.test("frameHeader and formatBytes", async (t) => {
  await t.step("frameHeader is 4 bytes, big-endian", () => {
    assert.deepEqual([...frameHeader(0)], [0, 0, 0, 0]);
    assert.deepEqual([...frameHeader(258)], [0, 0, 1, 2]);
    assert.deepEqual([...frameHeader(65536)], [0, 1, 0, 0]);
    assert.deepEqual([...frameHeader(0xffffffff)], [255, 255, 255, 255]);
    assert.equal(frameHeader(1).byteLength, HEADER_BYTES);
  });

  await t.step("formatBytes reads as a person would", () => {
    assert.equal(formatBytes(0), "0 B");
    assert.equal(formatBytes(1), "1 B");
    assert.equal(formatBytes(512), "512 B");
    assert.equal(formatBytes(1023), "1023 B");
    assert.equal(formatBytes(1024), "1 KiB");
    assert.equal(formatBytes(1536), "1.5 KiB");
    assert.equal(formatBytes(4096), "4 KiB");
    assert.equal(formatBytes(64 * 1024 + 512), "64.5 KiB");
    assert.equal(formatBytes(2 ** 20), "1 MiB");
    assert.equal(formatBytes(DEFAULT_MAX_FRAME_BYTES), "256 MiB");
    assert.equal(formatBytes(2 ** 30), "1 GiB");
    assert.equal(formatBytes(2 ** 32), "4 GiB");
    assert.equal(formatBytes(2 ** 40), "1024 GiB");
  });
});
