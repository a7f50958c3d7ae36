/**
 * Micro benchmarks (`deno bench`): each group puts troupe's piece beside
 * the raw operation it wraps, marked as the baseline.
 *
 * @module
 */

import { decode, encode } from "@msgpack/msgpack";
import { Worker } from "node:worker_threads";
import { Client } from "../mod.ts";
import { decodeValue, encodeValue } from "../transport/codec.ts";
import { FrameDecoder, frameHeader } from "../transport/frame.ts";
import { packMessage, unpackMessage } from "../transport/transferables.ts";

const small = { t: "run", taskId: 1, args: [1, "two", { three: 3 }] };
const withArray = { t: "pub", data: { a: new Float64Array(20), i: 7 } };
const smallBytes = encode(small);

Deno.bench("msgpack encode+decode, small (bare)", {
  group: "codec",
  baseline: true,
}, () => {
  decode(encode(small));
});
Deno.bench("troupe codec encode+decode, small", { group: "codec" }, () => {
  decodeValue(encodeValue(small));
});
Deno.bench("troupe codec encode+decode, Float64Array(20)", {
  group: "codec",
}, () => {
  decodeValue(encodeValue(withArray));
});

const stream = (() => {
  const frames = Array.from({ length: 100 }, () => smallBytes);
  const out = new Uint8Array(frames.length * (4 + smallBytes.byteLength));
  let at = 0;
  for (const body of frames) {
    out.set(frameHeader(body.byteLength), at);
    out.set(body, at + 4);
    at += 4 + body.byteLength;
  }
  return out;
})();

Deno.bench("split 100 frames from one chunk", { group: "frames" }, () => {
  new FrameDecoder().push(stream);
});
Deno.bench("split 100 frames from 7-byte chunks", { group: "frames" }, () => {
  const decoder = new FrameDecoder();
  for (let i = 0; i < stream.byteLength; i += 7) {
    decoder.push(stream.subarray(i, i + 7));
  }
});

// What troupe adds to every thread message on top of postMessage's own
// structured clone (shown for scale).
Deno.bench("structuredClone, small message (postMessage's own cost)", {
  group: "thread message",
  baseline: true,
}, () => {
  structuredClone(withArray);
});
Deno.bench("packMessage + unpackMessage, small message (troupe's addition)", {
  group: "thread message",
}, () => {
  unpackMessage(packMessage(withArray).value);
});

// Round trips: a bare worker_threads echo against a troupe no-op task.
const echo = new Worker(new URL("./raw_echo_worker.ts", import.meta.url));
const client = await Client.start({ workers: 1 });
const engine = client.view(0);
const noop = () => 0;

Deno.bench("bare worker_threads postMessage round trip", {
  group: "round trip",
  baseline: true,
}, async () => {
  await new Promise((resolve) => {
    echo.once("message", resolve);
    echo.postMessage(small);
  });
});
Deno.bench("troupe no-op task on a Worker engine", {
  group: "round trip",
}, async () => {
  await engine.applyAsync(noop);
});

globalThis.addEventListener("unload", () => {
  echo.terminate();
  client.close();
});
