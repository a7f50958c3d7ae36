import assert from "node:assert/strict";
import {
  newTraceId,
  parseTraceparent,
  sampledAt,
  traceparentOf,
} from "./span.ts";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN = "00f067aa0ba902b7";

Deno.test("a traceparent's sampled flag is read, and written as it was decided", () => {
  assert.equal(parseTraceparent(`00-${TRACE}-${SPAN}-01`)?.sampled, true);
  assert.equal(parseTraceparent(`00-${TRACE}-${SPAN}-00`)?.sampled, false);
  // Other flag bits (W3C's random-trace-id, 02) leave sampling alone.
  assert.equal(parseTraceparent(`00-${TRACE}-${SPAN}-02`)?.sampled, false);
  assert.equal(parseTraceparent(`00-${TRACE}-${SPAN}-03`)?.sampled, true);
  const unsampled = { traceId: TRACE, spanId: SPAN, sampled: false };
  assert.equal(traceparentOf(unsampled), `00-${TRACE}-${SPAN}-00`);
  assert.equal(
    traceparentOf({ traceId: TRACE, spanId: SPAN }),
    `00-${TRACE}-${SPAN}-01`,
  );
});

Deno.test("sampledAt: deterministic per trace id, about the ratio over many", () => {
  for (const ratio of [0, 0.1, 0.5, 0.9, 1]) {
    const ids = Array.from({ length: 4000 }, () => newTraceId());
    const kept = ids.filter((id) => sampledAt(id, ratio)).length / ids.length;
    // 4000 draws: 5 standard deviations at most is 0.04.
    assert.ok(Math.abs(kept - ratio) < 0.04, `${kept} at ${ratio}`);
    for (const id of ids.slice(0, 50)) {
      assert.equal(sampledAt(id, ratio), sampledAt(id, ratio));
    }
  }
  // A trace kept at one ratio is kept at every higher one.
  const id = newTraceId();
  const ratios = [0.01, 0.2, 0.4, 0.6, 0.8, 0.99];
  const decided = ratios.map((r) => sampledAt(id, r));
  assert.deepEqual(decided, [...decided].sort());
});
