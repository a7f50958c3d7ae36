/**
 * Each way an engine actor decides a death gives its `died` event the
 * cause the metrics count it under; an engine's `pong` memory is kept
 * while it is up. On a `FakeLink`: the test plays the engine.
 */

import assert from "node:assert/strict";
import type { EngineEvent } from "./engine_types.ts";
import { engineRig } from "../tests/engine_rig.ts";
import { sleep } from "../tests/helpers.ts";

function causeOf(events: EngineEvent[]): string | undefined {
  const died = events.find((e) => e.type === "died");
  return died?.type === "died" ? died.cause : undefined;
}

Deno.test("an engine's fatal gives its cause, or fatal", () => {
  for (const [said, cause] of [["heap", "heap"], [undefined, "fatal"]]) {
    const rig = engineRig();
    rig.ready();
    rig.link.say({
      t: "fatal",
      reason: "it ran out of memory",
      ...(said ? { cause: said as "heap" } : {}),
    });
    assert.equal(causeOf(rig.events), cause);
  }
});

Deno.test("a message that breaks the protocol is a protocol death", () => {
  const rig = engineRig();
  rig.ready();
  rig.link.say({ t: "pub" } as never);
  assert.equal(causeOf(rig.events), "protocol");
});

Deno.test("a link that ends without saying why is other", () => {
  const rig = engineRig();
  rig.ready();
  rig.link.exit("gone");
  assert.equal(causeOf(rig.events), "other");
});

Deno.test("silence is a heartbeat death; a late start a start_timeout", async () => {
  const silent = engineRig();
  silent.ready();
  for (let i = 0; i < 5 && causeOf(silent.events) === undefined; i++) {
    silent.engine.tell({ kind: "heartbeat", misses: 1 });
  }
  assert.equal(causeOf(silent.events), "heartbeat");

  const late = engineRig({ startTimeoutMs: 1 });
  await sleep(5);
  late.engine.tell({ kind: "heartbeat", misses: 1 });
  assert.equal(causeOf(late.events), "start_timeout");
});

Deno.test("a pong's memory is the engine's until it goes down", () => {
  const rig = engineRig();
  // Read anew each time (a getter: no narrowing from one check to the next).
  const memory = () => rig.engine.memory;
  rig.ready();
  assert.equal(memory(), undefined);
  rig.link.say({ t: "pong", memory: { heapBytes: 1000, rssBytes: 5000 } });
  assert.deepEqual(memory(), { heapBytes: 1000, rssBytes: 5000 });
  rig.link.say({ t: "pong" }); // An older engine says none: the last stays.
  assert.equal(memory()?.heapBytes, 1000);
  rig.link.say({ t: "pong", memory: { heapBytes: "x" } } as never);
  assert.equal(
    causeOf(rig.events),
    "protocol",
    "a malformed memory is refused",
  );
  assert.equal(memory(), undefined, "down: none");
});
