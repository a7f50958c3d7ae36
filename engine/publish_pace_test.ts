/**
 * Unit tests for `PublishPace`, the engine's pacing of publication posts, on
 * a clock the test moves by hand. Its effect on `publishData` is in
 * engine/publisher_test.ts.
 */

import assert from "node:assert/strict";
import {
  PUBLISH_BURST,
  PUBLISH_INTERVAL_MS,
  PublishPace,
} from "./publish_pace.ts";
import { PUBLISH_WINDOW } from "../protocol/flow_control.ts";

/** Spends tokens while there are any, up to `max`; returns how many. */
function drain(pace: PublishPace, max = 1000): number {
  let n = 0;
  while (n < max && pace.hasToken()) {
    pace.spend();
    n++;
  }
  return n;
}

Deno.test("PublishPace: a burst at once, then one token per interval", () => {
  let now = 1000;
  const pace = new PublishPace(() => now, 4, 1);
  assert.equal(drain(pace), 4);
  now += 0.5;
  assert.equal(pace.hasToken(), false, "half an interval");
  now += 0.5;
  assert.equal(drain(pace), 1);
  now += 3;
  assert.equal(drain(pace), 3);
});

Deno.test("PublishPace: a quiet spell refills at most a burst", () => {
  let now = 0;
  const pace = new PublishPace(() => now, 4, 1);
  assert.equal(drain(pace), 4);
  now += 1_000_000;
  assert.equal(drain(pace), 4);
  assert.equal(pace.hasToken(), false);
});

Deno.test("PublishPace: a post without a token starts the interval again", () => {
  let now = 0;
  const pace = new PublishPace(() => now, 2, 1);
  assert.equal(drain(pace), 2);
  now += 0.9;
  assert.equal(pace.hasToken(), false);
  pace.spend(); // a task's end posts regardless
  now += 0.9;
  assert.equal(pace.hasToken(), false, "the forced post took the credit");
  now += 0.1;
  assert.equal(drain(pace), 1);
});

Deno.test("PublishPace's defaults: a window's worth back to back, on the engine's clock", () => {
  assert.equal(PUBLISH_BURST, PUBLISH_WINDOW);
  assert.ok(PUBLISH_INTERVAL_MS > 0);
  const pace = new PublishPace();
  assert.equal(drain(pace, PUBLISH_BURST), PUBLISH_BURST);
});
