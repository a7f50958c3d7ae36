import assert from "node:assert/strict";
import { OtlpExporter } from "./otlp_export.ts";
import { otlpJson, otlpRequest } from "./otlp_json.ts";
import { newSpanId, newTraceId, type SpanRecord } from "./span.ts";
import { until } from "../tests/waits.ts";

const span = (name: string): SpanRecord => ({
  traceId: newTraceId(),
  spanId: newSpanId(),
  name,
  kind: 1,
  start: 1_700_000_000_000.25,
  end: 1_700_000_000_001.5,
  attributes: { s: "x", i: 3, d: 0.5, b: false },
});

/** A receiver on 127.0.0.1: the span names of each POST, in order. */
async function withReceiver(
  body: (endpoint: string, posts: string[][]) => Promise<void>,
): Promise<void> {
  const posts: string[][] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      const sent = await request.json();
      posts.push(
        sent.resourceSpans[0].scopeSpans[0].spans.map((s: SpanRecord) =>
          s.name
        ),
      );
      return new Response("{}");
    },
  );
  try {
    await body(`http://127.0.0.1:${server.addr.port}/v1/traces`, posts);
  } finally {
    await server.shutdown();
  }
}

Deno.test("a full batch is posted at once, not at the flush timer's end", async () => {
  await withReceiver(async (endpoint, posts) => {
    const exporter = new OtlpExporter({
      endpoint,
      serviceName: "t",
      flushMs: 600_000,
      maxBatch: 2,
      log: () => {},
    });
    try {
      exporter.add(span("a"));
      exporter.add(span("b"));
      exporter.add(span("c")); // waits for its batch
      await until(() => posts.length === 1, "the full batch's POST");
      assert.deepEqual(posts, [["a", "b"]]);
      assert.equal(exporter.stats().queued, 1);
    } finally {
      await exporter.close();
    }
    assert.deepEqual(posts, [["a", "b"], ["c"]]);
    assert.deepEqual(exporter.stats(), {
      exported: 3,
      dropped: 0,
      failedPosts: 0,
      queued: 0,
    });
  });
});

Deno.test("beyond maxQueue spans are dropped and counted; after close() too", async () => {
  await withReceiver(async (endpoint, posts) => {
    const exporter = new OtlpExporter({
      endpoint,
      serviceName: "t",
      flushMs: 600_000,
      maxQueue: 3,
      log: () => {},
    });
    for (const name of ["a", "b", "c", "d", "e"]) exporter.add(span(name));
    assert.deepEqual(exporter.stats().dropped, 2);
    await exporter.close();
    exporter.add(span("late"));
    assert.deepEqual(posts, [["a", "b", "c"]]);
    assert.deepEqual(exporter.stats(), {
      exported: 3,
      dropped: 3,
      failedPosts: 0,
      queued: 0,
    });
  });
});

Deno.test("the OTLP JSON mapping: ns as strings, typed values, status codes", () => {
  const s = span("x");
  const request = otlpRequest(
    [{ ...s, parentSpanId: "b7ad6b7169203331", status: { code: "ok" } }],
    { attributes: [] },
    { name: "troupe" },
  );
  const [out] = request.resourceSpans[0].scopeSpans[0].spans;
  assert.equal(out.startTimeUnixNano, "1700000000000250000");
  assert.equal(out.endTimeUnixNano, "1700000000001500000");
  assert.equal(out.parentSpanId, "b7ad6b7169203331");
  assert.deepEqual(out.status, { code: 1 });
  assert.deepEqual(out.attributes, [
    { key: "s", value: { stringValue: "x" } },
    { key: "i", value: { intValue: "3" } },
    { key: "d", value: { doubleValue: 0.5 } },
    { key: "b", value: { boolValue: false } },
  ]);
});

Deno.test("otlpJson writes what otlpRequest gives, escaping included", () => {
  const spans: SpanRecord[] = [
    { ...span("plain"), status: { code: "ok" } },
    {
      ...span('a "quoted"\nname'),
      parentSpanId: newSpanId(),
      attributes: {
        'k"\\': 'v"\n',
        big: 2 ** 40,
        neg: -1.25,
        t: true,
        huge: 1e21,
        past53: 2 ** 53 + 2,
        nan: NaN,
        inf: -Infinity,
      },
      status: { code: "error", message: 'RemoteError: "boom"\n' },
    },
    { ...span("whole ms"), start: 1_700_000_000_000, end: 1_699_999_999_999 },
  ];
  const resource = {
    attributes: [{ key: "service.name", value: { stringValue: "t" } }],
  };
  const scope = { name: "troupe" };
  assert.deepEqual(
    JSON.parse(otlpJson(spans, resource, scope)),
    otlpRequest(spans, resource, scope),
  );
  // An intValue is an exact int64; JSON has no NaN or Infinity.
  const values = Object.fromEntries(
    otlpRequest(spans, resource, scope).resourceSpans[0].scopeSpans[0]
      .spans[1].attributes.map((a) => [a.key, a.value]),
  );
  assert.deepEqual(values.big, { intValue: String(2 ** 40) });
  assert.deepEqual(values.huge, { doubleValue: 1e21 });
  assert.deepEqual(values.past53, { doubleValue: 2 ** 53 + 2 });
  assert.deepEqual(values.nan, { stringValue: "NaN" });
  assert.deepEqual(values.inf, { stringValue: "-Infinity" });
});
