import assert from "node:assert/strict";
import { metricsResponse } from "./metrics_route.ts";

Deno.test("a scrape the core does not answer in time is a 503 that says so, and keeps the headers it was given", async () => {
  const never = new Promise<never>(() => {});
  const answer = await metricsResponse(
    () => never,
    { "referrer-policy": "no-referrer" },
    20,
  );
  assert.equal(answer.status, 503);
  assert.equal(answer.headers.get("referrer-policy"), "no-referrer");
  assert.equal(answer.headers.get("content-type"), "text/plain; charset=utf-8");
  assert.equal(
    await answer.text(),
    "troupe dashboard: the cluster did not give its metrics within 20 ms\n",
  );
});

Deno.test("a scrape the core answers is its families as Prometheus text", async () => {
  const answer = await metricsResponse(() =>
    Promise.resolve([{
      name: "troupe_tasks_queued",
      help: "Tasks waiting.",
      type: "gauge",
      labelNames: ["view"],
      samples: [{ labels: { view: "balanced" }, value: 3 }],
    }])
  );
  assert.equal(answer.status, 200);
  assert.equal(
    answer.headers.get("content-type"),
    "text/plain; version=0.0.4; charset=utf-8",
  );
  assert.equal(answer.headers.get("cache-control"), "no-store");
  assert.match(
    await answer.text(),
    /^troupe_tasks_queued\{view="balanced"\} 3$/m,
  );
});

Deno.test("a core that throws synchronously is a 503 too, not a crash of the server", async () => {
  const answer = await metricsResponse(() => {
    throw new Error("the client is closed.");
  });
  assert.equal(answer.status, 503);
  assert.equal(
    await answer.text(),
    "troupe dashboard: the cluster's metrics could not be read: the client is closed\n",
  );
});
