/**
 * The thread side of a Worker link: a `WorkerPort` gets every message the
 * parent sends, lone or coalesced into one post, in order, and its thread
 * stays up while it waits for more (it listens on the thread's own message
 * event, which keeps the thread alive as `parentPort.on` does).
 */

import assert from "node:assert/strict";
import { liveWorkerCount, WorkerLink } from "./worker_link.ts";
import { guard, sleep } from "../tests/helpers.ts";

type Echo = { n: number; echo: unknown };

Deno.test("WorkerPort: lone and coalesced messages arrive in order, and an idle thread stays up for the next", async () => {
  const before = liveWorkerCount();
  const link = new WorkerLink<unknown, Echo>(
    new URL("../tests/fixtures/echo_port.ts", import.meta.url),
  );
  const got: Echo[] = [];
  let waiting: { n: number; resolve: () => void } | undefined;
  link.onMessage = (message) => {
    got.push(message);
    if (waiting && got.length >= waiting.n) waiting.resolve();
  };
  let exited: string | undefined;
  link.onExit = (reason) => void (exited = reason);
  const arrived = (n: number) => {
    const { promise, resolve } = Promise.withResolvers<void>();
    waiting = { n, resolve };
    if (got.length >= n) resolve();
    return guard(promise, `${n} echoes`);
  };
  try {
    link.send({ t: "one" });
    await arrived(1);
    // Idle, with nothing else to keep the thread alive.
    await sleep(300);
    assert.equal(exited, undefined, "the idle thread stayed up");
    // One turn: the first posted at once, the rest coalesced into one post.
    link.send({ t: "two", port: { postMessage: 1 } });
    link.send({ t: "three", nested: [{ deep: [1, 2] }] });
    link.send({ t: "four" });
    await arrived(4);
    assert.deepEqual(got, [
      { n: 1, echo: { t: "one" } },
      { n: 2, echo: { t: "two", port: { postMessage: 1 } } },
      { n: 3, echo: { t: "three", nested: [{ deep: [1, 2] }] } },
      { n: 4, echo: { t: "four" } },
    ]);
  } finally {
    await link.terminate();
  }
  assert.equal(liveWorkerCount(), before);
});
