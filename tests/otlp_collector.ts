/**
 * A real OTLP/HTTP collector for tests: an HTTP server on 127.0.0.1 that
 * keeps the spans it is posted, and the checks that read them.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { OtlpSpan } from "../observe/otlp_json.ts";

/** A collector: what it was posted, answered as `answer` says. */
export interface Collector {
  endpoint: string;
  spans: OtlpSpan[];
  posts: number;
  /** The last request's headers and resource attributes. */
  headers: Headers | undefined;
  serviceName: string | undefined;
  /** The last request's resource attributes (values as strings) and scope. */
  resource: Record<string, unknown>;
  scope: { name?: string; version?: string } | undefined;
  close(): Promise<void>;
}

/**
 * Runs `body` with a collector on 127.0.0.1 (`Deno.serve`, a free port),
 * whose every answer is `answer`'s (200 `{}` by default), keeping the spans
 * of each POST it answered with a 2xx; shuts it down afterwards.
 *
 * @example
 * ```ts
 * import { withCollector } from "./otlp_collector.ts";
 * await withCollector(async (collector) => {
 *   console.log(collector.endpoint); // http://127.0.0.1:PORT/v1/traces
 * });
 * ```
 */
export async function withCollector(
  body: (collector: Collector) => Promise<void>,
  answer: (request: Request) => Promise<Response> | Response = () =>
    new Response("{}"),
): Promise<void> {
  const collector: Collector = {
    endpoint: "",
    spans: [],
    posts: 0,
    headers: undefined,
    serviceName: undefined,
    resource: {},
    scope: undefined,
    close: () => server.shutdown(),
  };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      collector.posts++;
      collector.headers = request.headers;
      const response = await answer(request);
      if (response.ok) {
        const sent = await request.json();
        const [resourceSpans] = sent.resourceSpans;
        collector.serviceName = resourceSpans.resource.attributes.find(
          (a: { key: string }) => a.key === "service.name",
        )?.value.stringValue;
        collector.resource = Object.fromEntries(
          resourceSpans.resource.attributes.map(
            (a: { key: string; value: object }) => [
              a.key,
              Object.values(a.value)[0],
            ],
          ),
        );
        collector.scope = resourceSpans.scopeSpans[0].scope;
        collector.spans.push(...resourceSpans.scopeSpans[0].spans);
      } else {
        await request.body?.cancel();
      }
      return response;
    },
  );
  collector.endpoint = `http://127.0.0.1:${server.addr.port}/v1/traces`;
  try {
    await body(collector);
  } finally {
    await server.shutdown();
  }
}

/** The value of `span`'s attribute `key`, as OTLP JSON has it (ints as strings). */
export const attribute = (span: OtlpSpan, key: string): unknown => {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value && Object.values(value)[0];
};
const ms = (nanos: string) => Number(BigInt(nanos) / 1000n) / 1000;
/** Engines and the client share a clock here; this much slack is rounding. */
const SLACK_MS = 1;

/**
 * The task spans under `call`, after asserting that each has its queue and
 * run children in its trace and that the times are in order: submitted,
 * queued, run, ended, all within the call.
 */
export function tasksOf(spans: OtlpSpan[], call: OtlpSpan): OtlpSpan[] {
  return spans.filter((s) => s.parentSpanId === call.spanId).map((task) => {
    assert.equal(task.name, "troupe.task");
    assert.equal(task.traceId, call.traceId);
    const children = spans.filter((s) => s.parentSpanId === task.spanId);
    const queue = children.find((s) => s.name === "troupe.queue");
    const run = children.find((s) => s.name === "troupe.run");
    assert.ok(queue && run, `task ${attribute(task, "troupe.task_id")}`);
    for (const child of children) assert.equal(child.traceId, call.traceId);
    // Submitted, queued, run, ended, in that order.
    assert.ok(ms(queue.startTimeUnixNano) >= ms(task.startTimeUnixNano));
    assert.ok(
      ms(queue.endTimeUnixNano) <= ms(run.startTimeUnixNano) + SLACK_MS,
      "the queue ends before the run starts",
    );
    assert.ok(ms(run.startTimeUnixNano) <= ms(run.endTimeUnixNano));
    assert.ok(ms(run.endTimeUnixNano) <= ms(task.endTimeUnixNano) + SLACK_MS);
    assert.ok(ms(call.startTimeUnixNano) <= ms(task.startTimeUnixNano));
    assert.ok(ms(task.endTimeUnixNano) <= ms(call.endTimeUnixNano));
    return task;
  });
}
