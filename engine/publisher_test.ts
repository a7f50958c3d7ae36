/**
 * Unit tests for `Publisher`, what `publishData` does inside an engine: real
 * shared slots and a port that records what it is given, as the task thread
 * would post it. The whole path, with a real client, is in
 * tests/engine_kind_publish.case.ts and tests/publish_test.ts.
 */

import assert from "node:assert/strict";
import { Publisher } from "./publisher.ts";
import { PublishPace } from "./publish_pace.ts";
import type { EnginePort } from "../protocol/engine_link.ts";
import { ackPublication, PUBLISH_WINDOW } from "../protocol/flow_control.ts";
import type { FromEngine, PublishMessage } from "../protocol/messages.ts";
import { newSharedSlots } from "../protocol/messages.ts";
import { range, until } from "../tests/helpers.ts";

interface Rig {
  publisher: Publisher;
  slots: Int32Array<SharedArrayBuffer>;
  sent: PublishMessage[];
  /** The task the publisher sees running; `undefined` between tasks. */
  task: { id: number | undefined };
}

function rig(
  post?: (message: FromEngine) => void,
  pace?: PublishPace,
): Rig {
  const sent: PublishMessage[] = [];
  const port: EnginePort = {
    post: post ?? ((message) => void sent.push(message as PublishMessage)),
    onMessage() {},
  };
  const slots = new Int32Array(
    newSharedSlots(),
  );
  const task: Rig["task"] = { id: 7 };
  const publisher = new Publisher(port, 3, slots, () => task.id, pace);
  return { publisher, slots, sent, task };
}

/** Publishes `{ i }` for each `i`, filling the window when there are many. */
function publishEach(publisher: Publisher, is: number[]): void {
  for (const i of is) publisher.publish({ i });
}

Deno.test("Publisher sends while the window has room", () => {
  const { publisher, sent } = rig();
  publishEach(publisher, [1, 2, 3]);
  assert.deepEqual(
    sent.map(({ t, taskId, seq, data }) => ({ t, taskId, seq, data })),
    [1, 2, 3].map((i) => ({ t: "pub", taskId: 7, seq: i, data: { i } })),
  );
  assert.ok(sent.every((m) => typeof m.time === "number"));
});

Deno.test("Publisher past a full window merges, later keys winning, and the task's end sends it", () => {
  const { publisher, sent } = rig();
  publishEach(publisher, range(PUBLISH_WINDOW));
  assert.equal(sent.length, PUBLISH_WINDOW);
  publisher.publish({ a: 1, i: 100 });
  publisher.publish({ i: 101 });
  publisher.publish({ b: 2 });
  assert.equal(sent.length, PUBLISH_WINDOW, "sent past a full window");
  publisher.flush(); // the task ends: room or not
  assert.equal(sent.length, PUBLISH_WINDOW + 1);
  const merged = sent.at(-1)!;
  assert.deepEqual(merged.data, { a: 1, i: 101, b: 2 });
  // Its seq is its last call's: the gap says that calls were merged.
  assert.equal(merged.seq, PUBLISH_WINDOW + 3);
  publisher.flush();
  assert.equal(sent.length, PUBLISH_WINDOW + 1, "sent twice");
});

Deno.test("Publisher sends what it merged once a publication is taken in, with no call needed", async () => {
  const { publisher, slots, sent } = rig();
  publishEach(publisher, range(PUBLISH_WINDOW + 2));
  assert.equal(sent.length, PUBLISH_WINDOW);
  ackPublication(slots);
  await until(() => sent.length === PUBLISH_WINDOW + 1, "the merged send");
  assert.deepEqual(sent.at(-1)!.data, { i: PUBLISH_WINDOW + 1 });
});

Deno.test("Publisher merges copies: values as they were at each call", () => {
  const { publisher, sent } = rig();
  publishEach(publisher, range(PUBLISH_WINDOW));
  const a = new Float64Array([1, 2]);
  publisher.publish({ a });
  a[0] = 99; // after the call: not what was published
  publisher.flush();
  const got = sent.at(-1)!.data.a as Float64Array;
  assert.ok(got instanceof Float64Array);
  assert.deepEqual([...got], [1, 2]);
});

Deno.test("Publisher refuses bad input, saying what to do", () => {
  const { publisher, sent, task } = rig();
  assert.throws(
    () => publisher.publish([1] as unknown as Record<string, unknown>),
    {
      name: "TypeError",
      message: "publishData() takes an object of named values, e.g. " +
        "publishData({ a, i }); it got an array",
    },
  );
  assert.throws(() => publisher.publish({ f: () => 1 }), {
    name: "TypeError",
    message: /^the data given to publishData\(\), at \.f, is a function/,
  });
  task.id = undefined;
  assert.throws(() => publisher.publish({ i: 1 }), {
    name: "Error",
    message:
      /^publishData\(\) was called on engine 3 while no task was running/,
  });
  assert.equal(sent.length, 0);
});

Deno.test("Publisher: a publication the port cannot carry fails its call and holds no place in the window", () => {
  const sent: FromEngine[] = [];
  let refuse = true;
  const { publisher } = rig((message) => {
    if (refuse) {
      throw new DOMException("could not be cloned.", "DataCloneError");
    }
    sent.push(message);
  });
  assert.throws(() => publisher.publish({ i: 0 }), {
    name: "TypeError",
    message: /^publishData\(\) could not send its data: could not be cloned\. /,
  });
  refuse = false;
  publishEach(publisher, range(PUBLISH_WINDOW));
  assert.equal(sent.length, PUBLISH_WINDOW);
});

Deno.test("Publisher paces its posts: past a burst it merges with the window open, and the next call after an interval posts the merge", () => {
  let now = 0;
  const { publisher, slots, sent } = rig(
    undefined,
    new PublishPace(() => now, 2, 1),
  );
  publishEach(publisher, [0, 1, 2, 3]);
  assert.deepEqual(sent.map((m) => m.data), [{ i: 0 }, { i: 1 }]);
  ackPublication(slots);
  ackPublication(slots); // the client took both in: only the pace holds
  now = 0.5;
  publisher.publish({ i: 4, x: "a" });
  assert.equal(sent.length, 2, "posted within the interval");
  now = 1;
  publisher.publish({ i: 5 });
  assert.deepEqual(sent.map((m) => m.data), [{ i: 0 }, { i: 1 }, {
    i: 5,
    x: "a",
  }]);
  assert.equal(sent.at(-1)!.seq, 6, "the merge's seq is its last call's");
  // A lone publication once the pace has refilled goes out at once.
  now = 10;
  publisher.publish({ lone: true });
  assert.deepEqual(sent.at(-1)!.data, { lone: true });
  assert.equal(sent.length, 4);
});

Deno.test("Publisher paced: what it merged is posted once the pace allows, with no call needed, or when the task ends", async () => {
  const { publisher, sent } = rig(undefined, new PublishPace(undefined, 1, 1));
  publishEach(publisher, [0, 1, 2]);
  assert.equal(sent.length, 1);
  await until(() => sent.length === 2, "the merged post");
  assert.deepEqual(sent[1].data, { i: 2 });
  // On a clock that stands still, only the task's end posts the merge.
  const ended = rig(undefined, new PublishPace(() => 0, 1, 1));
  publishEach(ended.publisher, [0, 1, 2]);
  ended.publisher.flush();
  assert.deepEqual(ended.sent.map((m) => m.data), [{ i: 0 }, { i: 2 }]);
});

Deno.test("Publisher paced: merged values are as they were at each call, nested ones included, and keep their types", () => {
  const { publisher, sent } = rig(undefined, new PublishPace(() => 0, 1, 1));
  publisher.publish({ first: 1 });
  const nested = { list: [new Int32Array([1, 2])], n: 1 };
  const big = 2n ** 70n;
  publisher.publish({ nested, big, s: "x", nil: null, u: undefined });
  nested.list[0][0] = 99;
  nested.n = 2;
  publisher.flush();
  const got = sent[1].data as {
    nested: typeof nested;
    big: bigint;
    s: string;
    nil: null;
    u: undefined;
  };
  assert.ok(got.nested.list[0] instanceof Int32Array);
  assert.deepEqual([...got.nested.list[0]], [1, 2]);
  assert.equal(got.nested.n, 1);
  assert.deepEqual([got.big, got.s, got.nil, got.u], [
    big,
    "x",
    null,
    undefined,
  ]);
  assert.ok("u" in got, "an undefined value is a key the task set");
});
