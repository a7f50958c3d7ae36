import assert from "node:assert/strict";
import { metricsResponse, scrapeTimeoutMs } from "./metrics_route.ts";
import { ControllerLostError } from "../protocol/client_errors.ts";

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

Deno.test("a scrape waits less than the scraper's own timeout, at most 5 s", async () => {
  const scrape = (seconds?: string) =>
    new Request("http://127.0.0.1/metrics", {
      headers: seconds === undefined
        ? {}
        : { "x-prometheus-scrape-timeout-seconds": seconds },
    });
  assert.equal(scrapeTimeoutMs(scrape()), 5000);
  assert.equal(scrapeTimeoutMs(scrape("10")), 5000);
  assert.equal(scrapeTimeoutMs(scrape("1")), 750);
  assert.equal(scrapeTimeoutMs(scrape("0.5")), 250);
  assert.equal(scrapeTimeoutMs(scrape("0.1")), 50, "a moment, at least");
  for (const bad of ["", "soon", "-1", "0", "Infinity"]) {
    assert.equal(scrapeTimeoutMs(scrape(bad)), 5000, bad);
  }
  // Prometheus' scrape_timeout of 1 s: the 503 comes before it gives up.
  const answer = await metricsResponse(
    () => new Promise<never>(() => {}),
    {},
    scrapeTimeoutMs(scrape("1")),
  );
  assert.equal(answer.status, 503);
  assert.match(await answer.text(), /within 750 ms/);
});

Deno.test("a client that lost its controller says the controller cannot be reached, not its tasks' advice", async () => {
  const answer = await metricsResponse(() =>
    Promise.reject(
      new ControllerLostError({
        controller: "sim",
        why: "the peer closed the connection",
      }),
    )
  );
  assert.equal(answer.status, 503);
  const body = await answer.text();
  assert.match(
    body,
    /^troupe dashboard: the controller sim cannot be reached \(the peer closed the connection\): this dashboard's client lost its connection, so it has no metrics to give; /,
  );
  assert.doesNotMatch(body, /run on there/);
});
