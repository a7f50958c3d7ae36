/**
 * Which calls are traced, and what a full queue keeps, on a real client
 * posting to a real HTTP collector on 127.0.0.1: a caller's traceparent
 * that is not sampled (flag 00) traces nothing of its call, one that is
 * (01) is traced whatever `sampleRatio` says; `sampleRatio` 0 traces no
 * root call; and when `maxQueue` is reached a task's spans are kept or
 * dropped together, so that no kept span lacks its parent.
 */

import assert from "node:assert/strict";
import { withCollector } from "./otlp_collector.ts";
import { withClient } from "./helpers.ts";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN = "00f067aa0ba902b7";

Deno.test("a traceparent's sampled flag decides its call; sampleRatio decides root calls", async () => {
  await withCollector(async (collector) => {
    await withClient({
      workers: 1,
      tracing: { endpoint: collector.endpoint, sampleRatio: 0 },
    }, async (client) => {
      const lv = client.loadBalancedView();
      // Not sampled by its caller: nothing of it is traced.
      const unsampled = lv.with({ traceparent: `00-${TRACE}-${SPAN}-00` });
      assert.equal(await unsampled.applyAsync(() => 1), 1);
      assert.deepEqual(
        await client.view(0).with({ traceparent: `00-${TRACE}-${SPAN}-00` })
          .mapAsync((x: number) => x, [1, 2]),
        [1, 2],
      );
      // A root call at ratio 0: not traced either.
      assert.equal(await lv.applyAsync(() => 2), 2);
      // Sampled by its caller: traced, ratio or not.
      const sampled = lv.with({ traceparent: `00-${TRACE}-${SPAN}-01` });
      assert.equal(await sampled.applyAsync(() => 3), 3);
    });
    // close() sent what waited: the sampled call's 4 spans, only them.
    const names = collector.spans.map((s) => s.name).sort();
    assert.deepEqual(names, [
      "troupe.apply",
      "troupe.queue",
      "troupe.run",
      "troupe.task",
    ]);
    const call = collector.spans.find((s) => s.name === "troupe.apply")!;
    assert.equal(call.traceId, TRACE);
    assert.equal(call.parentSpanId, SPAN);
  });
});

Deno.test("sampleRatio out of 0..1 is refused before anything starts", async () => {
  for (const sampleRatio of [-0.1, 1.5, NaN, "1" as unknown as number]) {
    await assert.rejects(
      () =>
        withClient({
          workers: 1,
          tracing: { endpoint: "http://127.0.0.1:9/v1/traces", sampleRatio },
        }, () => Promise.resolve()),
      RangeError,
      "sampleRatio must be a number from 0 to 1",
    );
  }
});

Deno.test("a full queue drops a task's spans together: no kept span lacks its parent", async () => {
  await withCollector(async (collector) => {
    await withClient({
      workers: 1,
      // Nothing is sent before close(): the queue holds 5 spans at most.
      tracing: {
        endpoint: collector.endpoint,
        flushMs: 600_000,
        maxQueue: 5,
      },
    }, async (client) => {
      assert.deepEqual(
        await client.view(0).mapAsync((x: number) => x, [1, 2, 3]),
        [1, 2, 3],
      );
      // One task's 3 spans fit; the next two tasks' do not, whole; the
      // call's span is kept past the bound, as the parent of the kept ones.
      assert.deepEqual(client.tracingStats(), {
        exported: 0,
        dropped: 6,
        failedPosts: 0,
        queued: 4,
      });
    });
    const ids = new Set(collector.spans.map((s) => s.spanId));
    assert.equal(collector.spans.length, 4);
    for (const span of collector.spans) {
      if (span.parentSpanId !== undefined) {
        assert.ok(ids.has(span.parentSpanId), `${span.name} has its parent`);
      }
    }
  });
});
