import assert from "node:assert/strict";
import type { MetricFamily } from "../observe/metrics.ts";
import { CoreMetrics } from "./core_metrics.ts";
import { engineStatus as status } from "../tests/engine_status.ts";

function value(
  f: MetricFamily[],
  name: string,
  labels: Record<string, string>,
) {
  const family = f.find((x) => x.name === name);
  assert.ok(family && family.type !== "histogram", name);
  const key = JSON.stringify(labels);
  return family.samples.find((s) => JSON.stringify(s.labels) === key)?.value ??
    0;
}

Deno.test("core metrics: engines by state at scrape, every state of each kind", () => {
  let engines = [status(0, {}), status(1, { state: "busy", heapBytes: 7 })];
  const metrics = new CoreMetrics(() => engines, () => []);
  let f = metrics.families();
  assert.equal(
    value(f, "troupe_engines", { state: "idle", kind: "process" }),
    1,
  );
  assert.equal(
    value(f, "troupe_engines", { state: "busy", kind: "process" }),
    1,
  );
  assert.equal(
    f.find((x) => x.name === "troupe_engines")!.samples.length,
    6,
    "six states of one kind",
  );
  assert.equal(value(f, "troupe_engine_heap_bytes", { engine: "1" }), 7);
  engines = [status(0, { kind: "worker" })];
  f = metrics.families();
  assert.equal(
    value(f, "troupe_engines", { state: "busy", kind: "process" }),
    0,
  );
  assert.equal(
    f.find((x) => x.name === "troupe_engine_heap_bytes")!.samples.length,
    0,
    "a gone engine's memory is no sample",
  );
});

Deno.test("core metrics: deaths by kind and cause; a TCP engine's lost connection is a drop", () => {
  const metrics = new CoreMetrics(() => [], () => []);
  const died = (cause: "connection_lost" | "heartbeat" | "exited") => ({
    type: "died" as const,
    engineId: 0,
    reason: "…",
    cause,
    deliberate: false,
  });
  metrics.engineEvent(died("connection_lost"), "process");
  metrics.engineEvent(died("heartbeat"), "remote");
  metrics.engineEvent(died("heartbeat"), "worker");
  metrics.engineEvent(died("exited"), "worker");
  metrics.engineEvent(
    { type: "restarted", engineId: 0, restarts: 1 },
    "worker",
  );
  metrics.engineEvent(died("exited"), undefined); // An engine forgotten: none.
  const f = metrics.families();
  const deaths = (kind: string, reason: string) =>
    value(f, "troupe_engine_deaths_total", { kind, reason });
  assert.deepEqual(
    [
      deaths("process", "connection_lost"),
      deaths("remote", "heartbeat"),
      deaths("worker", "heartbeat"),
      deaths("worker", "exited"),
    ],
    [1, 1, 1, 1],
  );
  assert.equal(value(f, "troupe_engine_restarts_total", { kind: "worker" }), 1);
  const drops = (cause: string) =>
    value(f, "troupe_connections_dropped_total", { cause });
  assert.deepEqual(
    [drops("closed"), drops("heartbeat")],
    [1, 1],
    "no Worker's",
  );
});

Deno.test("core metrics: publications per engine, read at scrape", () => {
  const engines = [{ engineId: 3, publications: { count: 2, bytes: 40 } }];
  const metrics = new CoreMetrics(() => [], () => engines);
  const f = metrics.families();
  assert.equal(value(f, "troupe_publications_total", { engine: "3" }), 2);
  assert.equal(value(f, "troupe_publication_bytes_total", { engine: "3" }), 40);
  assert.deepEqual(
    ["in", "out"].map((direction) =>
      value(f, "troupe_wire_frames_total", { direction })
    ),
    [0, 0],
  );
});

Deno.test("core metrics: aborting a running task is a restart, not a death", () => {
  const metrics = new CoreMetrics(() => [], () => []);
  // A Worker's thread is ended to abort: it dies (aborted), then restarts.
  metrics.engineEvent({
    type: "died",
    engineId: 0,
    reason: "it was restarted to abort task 3",
    cause: "aborted",
    deliberate: true,
  }, "worker");
  metrics.engineEvent(
    { type: "restarted", engineId: 0, restarts: 1 },
    "worker",
  );
  // A process replaces its task thread: only the restart is heard.
  metrics.engineEvent(
    { type: "restarted", engineId: 1, restarts: 1 },
    "process",
  );
  const f = metrics.families();
  const deaths = f.find((x) => x.name === "troupe_engine_deaths_total")!;
  assert.deepEqual(deaths.samples, [], "no death, no aborted reason");
  for (const kind of ["worker", "process"]) {
    assert.equal(value(f, "troupe_engine_restarts_total", { kind }), 1, kind);
  }
});

Deno.test("core metrics: the closed label sets have a sample before their first event", () => {
  const engines = [status(0, { kind: "worker" }), status(1, {})];
  const metrics = new CoreMetrics(() => engines, () => []);
  const f = metrics.families();
  const samples = (name: string) =>
    f.find((x) => x.name === name)!.samples.map((s) => s.labels);
  const deaths = samples("troupe_engine_deaths_total");
  // Every reason but aborted, for each kind present.
  assert.equal(deaths.length, 2 * 11);
  assert.ok(deaths.some((l) => l.kind === "process" && l.reason === "killed"));
  assert.ok(!deaths.some((l) => l.reason === "aborted"));
  assert.deepEqual(
    samples("troupe_engine_restarts_total").map((l) => l.kind).sort(),
    ["process", "worker"],
  );
  const failed = samples("troupe_tasks_failed_total");
  assert.equal(failed.length, 2 * 9, "view × 8 classes and other");
  assert.ok(
    failed.some((l) => l.view === "balanced" && l.error === "other"),
  );
  assert.ok(
    f.find((x) => x.name === "troupe_tasks_failed_total")!.samples.every((s) =>
      "value" in s && s.value === 0
    ),
  );
});
