import assert from "node:assert/strict";
import { concatBytes } from "./bytes.ts";
import { FrameDecoder, frameHeader } from "./frame.ts";
import { type ByteSink, type FramePart, FrameWriter } from "./frame_writer.ts";
import { errorOf, guard } from "../tests/helpers.ts";

/** A sink that records each write, and can hold writes until released. */
function recordingSink(): ByteSink & {
  writes: Uint8Array[];
  hold(): void;
  release(): void;
  fail(error: Error): void;
} {
  const writes: Uint8Array[] = [];
  let gate: PromiseWithResolvers<void> | undefined;
  let failure: Error | undefined;
  return {
    writes,
    async write(bytes) {
      if (failure) throw failure;
      // Like a socket, take at most 100 KiB at a time.
      const taken = Math.min(bytes.byteLength, 100 * 1024);
      writes.push(bytes.slice(0, taken));
      if (gate) await gate.promise;
      return taken;
    },
    hold: () => (gate = Promise.withResolvers()),
    release: () => gate?.resolve(),
    fail: (error) => (failure = error),
  };
}

const frame = (body: Uint8Array): [FramePart[], number] => [
  [frameHeader(body.byteLength), body],
  4 + body.byteLength,
];
const bodies = (writes: Uint8Array[]) =>
  new FrameDecoder().push(concatBytes(writes));

Deno.test("frame writer: the first frame goes at once, the rest of the turn together", async () => {
  const sink = recordingSink();
  const writer = new FrameWriter(sink, (e) => assert.fail(String(e)));
  const sent = [1, 2, 3].map((n) =>
    writer.write(...frame(new Uint8Array([n])))
  );
  assert.equal(sink.writes.length, 1, "the first before write() returned");
  await guard(Promise.all(sent), "three frames");
  assert.equal(sink.writes.length, 2, "the other two in one write");
  assert.deepEqual(
    bodies(sink.writes),
    [[1], [2], [3]].map((b) => new Uint8Array(b)),
  );
});

Deno.test("frame writer: a lone frame is written at once, alone", async () => {
  const sink = recordingSink();
  const writer = new FrameWriter(sink, (e) => assert.fail(String(e)));
  const sent = writer.write(...frame(new Uint8Array([7])));
  assert.equal(sink.writes.length, 1, "no tick, no timer, no other frame");
  await guard(sent, "one frame");
  assert.deepEqual(bodies(sink.writes), [new Uint8Array([7])]);
});

Deno.test("frame writer: frames queued during a write join the next one", async () => {
  const sink = recordingSink();
  const writer = new FrameWriter(sink, (e) => assert.fail(String(e)));
  sink.hold();
  const first = writer.write(...frame(new Uint8Array([1])));
  assert.equal(sink.writes.length, 1, "the first is being written");
  const later = [2, 3, 4].map((n) =>
    writer.write(...frame(new Uint8Array([n])))
  );
  sink.release();
  await guard(Promise.all([first, ...later]), "four frames");
  assert.equal(sink.writes.length, 2, "the three queued frames in one write");
  assert.deepEqual(
    bodies(sink.writes),
    [1, 2, 3, 4].map((n) => new Uint8Array([n])),
  );
});

Deno.test("frame writer: a large frame is written part by part, in its place", async () => {
  const sink = recordingSink();
  const writer = new FrameWriter(sink, (e) => assert.fail(String(e)));
  const big = new Uint8Array(300 * 1024).map((_, i) => i % 256);
  const sealing = Promise.withResolvers<Uint8Array>();
  await guard(
    Promise.all([
      writer.write(...frame(new Uint8Array([1]))),
      writer.write([frameHeader(big.byteLength), big], 4 + big.byteLength),
      // A frame still being sealed waits its turn; nothing overtakes it.
      writer.write([frameHeader(1), sealing.promise], 5),
      writer.write(...frame(new Uint8Array([3]))),
      Promise.resolve().then(() => sealing.resolve(new Uint8Array([2]))),
    ]),
    "four frames",
  );
  const got = bodies(sink.writes);
  assert.deepEqual(got.map((b) => b.byteLength), [1, big.byteLength, 1, 1]);
  assert.deepEqual(got[1], big);
  assert.deepEqual([got[0][0], got[2][0], got[3][0]], [1, 2, 3]);
  assert.ok(
    sink.writes.some((w) => w.byteLength === 100 * 1024),
    "the large body went out without being joined",
  );
});

Deno.test("frame writer: a failed write refuses its frames and every later one", async () => {
  const sink = recordingSink();
  const errors: unknown[] = [];
  const writer = new FrameWriter(sink, (e) => errors.push(e));
  const broken = new Error("broken pipe");
  sink.fail(broken);
  const sent = [1, 2].map((n) => writer.write(...frame(new Uint8Array([n]))));
  for (const p of sent) assert.equal(await errorOf(p), broken);
  assert.equal(
    await errorOf(writer.write(...frame(new Uint8Array([3])))),
    broken,
  );
  assert.deepEqual(errors, [broken], "told once");
});

Deno.test("frame writer: frames with more coming wait for the end of the turn, then go in one write", async () => {
  const sink = recordingSink();
  const writer = new FrameWriter(sink, (e) => assert.fail(String(e)));
  const sent = [1, 2, 3].map((n) =>
    writer.write(...frame(new Uint8Array([n])), true)
  );
  assert.equal(sink.writes.length, 0, "nothing before the turn ends");
  await guard(Promise.all(sent), "three frames with more coming");
  assert.equal(sink.writes.length, 1, "all three in one write");
  assert.deepEqual(
    bodies(sink.writes),
    [[1], [2], [3]].map((b) => new Uint8Array(b)),
  );
});

Deno.test("frame writer: a frame without more coming goes at once, with those waiting before it", async () => {
  const sink = recordingSink();
  const writer = new FrameWriter(sink, (e) => assert.fail(String(e)));
  const waiting = [1, 2].map((n) =>
    writer.write(...frame(new Uint8Array([n])), true)
  );
  const last = writer.write(...frame(new Uint8Array([3])));
  assert.equal(sink.writes.length, 1, "written before write() returned");
  await guard(Promise.all([...waiting, last]), "three frames");
  assert.equal(sink.writes.length, 1, "nothing written twice or later");
  assert.deepEqual(
    bodies(sink.writes),
    [[1], [2], [3]].map((b) => new Uint8Array(b)),
  );
});

Deno.test("frame writer: a frame with more coming while a write is under way joins the next one", async () => {
  const sink = recordingSink();
  const writer = new FrameWriter(sink, (e) => assert.fail(String(e)));
  sink.hold();
  const first = writer.write(...frame(new Uint8Array([1])));
  const more = writer.write(...frame(new Uint8Array([2])), true);
  assert.equal(sink.writes.length, 1);
  sink.release();
  await guard(Promise.all([first, more]), "two frames");
  assert.equal(sink.writes.length, 2);
  assert.deepEqual(
    bodies(sink.writes),
    [[1], [2]].map((b) => new Uint8Array(b)),
  );
});

Deno.test("frame writer: a frame with more coming after a failed write is refused with its error", async () => {
  const sink = recordingSink();
  const heard: unknown[] = [];
  const writer = new FrameWriter(sink, (e) => heard.push(e));
  sink.fail(new Error("the peer went away"));
  const failed = await errorOf(
    writer.write(...frame(new Uint8Array([1])), true),
  );
  assert.match(String(failed), /the peer went away/);
  assert.equal(heard.length, 1);
  const later = await errorOf(
    writer.write(...frame(new Uint8Array([2])), true),
  );
  assert.match(String(later), /the peer went away/);
});
