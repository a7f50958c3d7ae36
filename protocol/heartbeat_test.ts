/**
 * Missed-beat counting, the rule the client's engine actors and an engine
 * process's relay share: silence counts only in periods the caller says it
 * counts, and any sign of life breaks the run.
 */

import assert from "node:assert/strict";
import { MissedBeats } from "./heartbeat.ts";

Deno.test("silent periods that count are counted in a row", () => {
  const beats = new MissedBeats();
  assert.equal(beats.beat(true), 0, "a new peer counts as heard");
  assert.equal(beats.beat(true), 1);
  assert.equal(beats.beat(true), 2);
});

Deno.test("a sign of life breaks the run", () => {
  const beats = new MissedBeats();
  beats.beat(true);
  beats.beat(true);
  beats.heard();
  assert.equal(beats.beat(true), 0);
  assert.equal(beats.beat(true), 1);
});

Deno.test("a period whose silence does not count breaks the run", () => {
  const beats = new MissedBeats();
  beats.beat(true);
  assert.equal(beats.beat(true), 1);
  assert.equal(beats.beat(false), 0, "busy: its silence is work");
  assert.equal(beats.beat(true), 1);
});

Deno.test("reset forgets a predecessor's silence", () => {
  const beats = new MissedBeats();
  beats.beat(true);
  beats.beat(true);
  beats.reset();
  assert.equal(beats.beat(true), 0);
});
