/**
 * Unit tests for publication flow control: the window on the sending side,
 * the count on the receiving side, and the two across threads through shared
 * memory, as a busy task on a Worker engine meets them.
 */

import assert from "node:assert/strict";
import {
  ackPublication,
  PUBLISH_WINDOW,
  PublishWindow,
} from "./flow_control.ts";
import { ACK_SLOT, newSharedSlots, SHARED_SLOTS } from "./messages.ts";
import { guard } from "../tests/helpers.ts";

function sharedSlots(): Int32Array<SharedArrayBuffer> {
  return new Int32Array(
    newSharedSlots(),
  );
}

/** Sends while the window has room; how many it sent. */
function fill(window: PublishWindow): number {
  let n = 0;
  while (window.hasRoom() && n <= PUBLISH_WINDOW) {
    window.sent();
    n++;
  }
  return n;
}

Deno.test("PublishWindow", async (t) => {
  await t.step("holds exactly PUBLISH_WINDOW unacknowledged sends", () => {
    const window = new PublishWindow(sharedSlots());
    assert.equal(fill(window), PUBLISH_WINDOW);
    assert.equal(window.hasRoom(), false);
  });

  await t.step("each publication taken in frees one place", () => {
    const slots = sharedSlots();
    const window = new PublishWindow(slots);
    fill(window);
    ackPublication(slots);
    ackPublication(slots);
    assert.equal(fill(window), 2);
    assert.equal(window.hasRoom(), false);
  });

  await t.step("leaves the other slots alone", () => {
    const slots = sharedSlots();
    slots.fill(7);
    Atomics.store(slots, ACK_SLOT, 0);
    ackPublication(slots);
    for (let i = 0; i < SHARED_SLOTS; i++) {
      assert.equal(slots[i], i === ACK_SLOT ? 1 : 7);
    }
  });
});

Deno.test("ackPublication", async (t) => {
  await t.step("without a write, counts at once", () => {
    const slots = sharedSlots();
    assert.equal(ackPublication(slots), undefined);
    assert.equal(Atomics.load(slots, ACK_SLOT), 1);
  });

  await t.step("counts once the write is done, not before", async () => {
    const slots = sharedSlots();
    const write = Promise.withResolvers<void>();
    const counted = ackPublication(slots, write.promise);
    await Promise.resolve();
    assert.equal(Atomics.load(slots, ACK_SLOT), 0);
    write.resolve();
    await guard(counted!, "the count after the write");
    assert.equal(Atomics.load(slots, ACK_SLOT), 1);
  });

  await t.step("a write that failed counts all the same", async () => {
    const slots = sharedSlots();
    const counted = ackPublication(slots, Promise.reject(new Error("gone")));
    await guard(counted!, "the count after a failed write");
    assert.equal(Atomics.load(slots, ACK_SLOT), 1);
  });
});

Deno.test("a full window opens for a sender that never yields, when another thread takes a publication in", async () => {
  const slots = sharedSlots();
  const window = new PublishWindow(slots);
  fill(window);
  const flowControl = new URL("./flow_control.ts", import.meta.url).href;
  const source = `import { ackPublication } from ${JSON.stringify(flowControl)};
    self.onmessage = (e) => { ackPublication(new Int32Array(e.data)); self.postMessage("acked"); };`;
  const url = URL.createObjectURL(
    new Blob([source], { type: "text/javascript" }),
  );
  const worker = new Worker(url, { type: "module" });
  try {
    worker.postMessage(slots.buffer);
    // Busy, as a task that publishes in a loop: the event loop never runs,
    // only the shared count can open the window.
    const deadline = Date.now() + 10_000;
    while (!window.hasRoom() && Date.now() < deadline);
    assert.ok(window.hasRoom(), "the window stayed shut for 10 s");
    window.sent();
    assert.equal(window.hasRoom(), false);
    const acked = new Promise((resolve) => worker.onmessage = resolve);
    await guard(acked, "the worker's answer");
  } finally {
    worker.terminate();
    URL.revokeObjectURL(url);
  }
});
