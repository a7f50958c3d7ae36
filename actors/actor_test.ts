import assert from "node:assert/strict";
import { Actor } from "./actor.ts";

/** Records what it handles; a handler may tell more, or throw. */
class Recorder extends Actor<string> {
  handled: string[] = [];
  dropped: string[] = [];
  crashes: unknown[] = [];
  /** What handling a message does besides recording it. */
  also = new Map<string, () => void>();
  depth = 0;
  deepest = 0;

  protected receive(message: string): void {
    this.depth++;
    this.deepest = Math.max(this.deepest, this.depth);
    try {
      this.handled.push(message);
      this.also.get(message)?.();
    } finally {
      this.depth--;
    }
  }

  protected override onCrash(error: unknown): void {
    this.crashes.push(error);
  }

  protected override onDropped(message: string): void {
    this.dropped.push(message);
  }
}

Deno.test("an idle actor handles a message at once; one told while it handles waits its turn, in order", () => {
  const actor = new Recorder();
  actor.tell("a");
  assert.deepEqual(actor.handled, ["a"]);
  actor.also.set("b", () => {
    actor.tell("c");
    actor.tell("d");
    // Not handled yet: the handler of b is still running.
    assert.deepEqual(actor.handled, ["a", "b"]);
  });
  actor.also.set("c", () => actor.tell("e"));
  actor.tell("b");
  assert.deepEqual(actor.handled, ["a", "b", "c", "d", "e"]);
  assert.equal(actor.deepest, 1, "no handler ran inside another");
  actor.tell("f");
  assert.deepEqual(actor.handled, ["a", "b", "c", "d", "e", "f"]);
  assert.deepEqual(actor.dropped, []);
});

Deno.test("a handler that throws on the message told to an idle actor: what it told goes to onDropped, and so does all that follows", () => {
  const actor = new Recorder();
  const boom = new Error("boom");
  actor.also.set("a", () => {
    actor.tell("b");
    actor.tell("c");
    throw boom;
  });
  actor.tell("a");
  assert.deepEqual(actor.handled, ["a"]);
  assert.deepEqual(actor.crashes, [boom]);
  assert.deepEqual(actor.dropped, ["b", "c"]);
  actor.tell("d");
  assert.deepEqual(actor.handled, ["a"]);
  assert.deepEqual(actor.dropped, ["b", "c", "d"]);
  assert.equal(actor.crashes.length, 1);
});

Deno.test("a handler that throws on a queued message: the ones queued after it are dropped, not the ones before", () => {
  const actor = new Recorder();
  const boom = new Error("boom");
  actor.also.set("a", () => {
    actor.tell("b");
    actor.tell("c");
    actor.tell("d");
  });
  actor.also.set("c", () => {
    throw boom;
  });
  actor.tell("a");
  assert.deepEqual(actor.handled, ["a", "b", "c"]);
  assert.deepEqual(actor.crashes, [boom]);
  assert.deepEqual(actor.dropped, ["d"]);
  actor.tell("e");
  assert.deepEqual(actor.dropped, ["d", "e"]);
});
