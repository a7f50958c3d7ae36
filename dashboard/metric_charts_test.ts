import assert from "node:assert/strict";
import type { MetricFamily } from "../observe/metrics.ts";
import { MetricCharts } from "./metric_charts.ts";

/** The families the charts read, as the core would give them. */
function families(
  done: number,
  failed: number,
  queued: number,
  heap: Record<string, number>,
): MetricFamily[] {
  return [
    {
      name: "troupe_tasks_done_total",
      help: "",
      type: "counter",
      labelNames: ["view"],
      samples: [
        { labels: { view: "direct" }, value: done - 1 },
        { labels: { view: "balanced" }, value: 1 },
      ],
    },
    {
      name: "troupe_tasks_failed_total",
      help: "",
      type: "counter",
      labelNames: ["view", "error"],
      samples: [{
        labels: { view: "direct", error: "RemoteError" },
        value: failed,
      }],
    },
    {
      name: "troupe_tasks_queued",
      help: "",
      type: "gauge",
      labelNames: ["view"],
      samples: [
        { labels: { view: "direct" }, value: queued },
        { labels: { view: "balanced" }, value: 0 },
      ],
    },
    {
      name: "troupe_engine_heap_bytes",
      help: "",
      type: "gauge",
      labelNames: ["engine"],
      samples: Object.entries(heap).map(([engine, value]) => ({
        labels: { engine },
        value,
      })),
    },
  ];
}

const byKey = (charts: MetricCharts) =>
  Object.fromEntries(charts.charts().map((c) => [c.key, c]));

Deno.test("tasks/s is done + failed over the trailing two seconds; queued sums the views", () => {
  const charts = new MetricCharts();
  charts.take(families(1, 0, 5, {}), 10_000);
  assert.equal(byKey(charts).tasks_per_second.latest, "0.0/s");
  assert.match(byKey(charts).tasks_per_second.svg, /data-points="0"/);
  charts.take(families(21, 10, 2, {}), 11_000);
  let shown = byKey(charts);
  assert.equal(shown.tasks_per_second.latest, "30.0/s");
  assert.equal(shown.queued.latest, "2");
  assert.match(shown.queued.svg, /data-points="2"/);
  assert.match(shown.queued.svg, /<path d="M/);
  charts.take(families(31, 10, 2, {}), 12_000);
  shown = byKey(charts);
  assert.equal(shown.tasks_per_second.latest, "20.0/s", "40 in the last 2 s");
  // A core started again counts from 0: no negative rate.
  charts.take(families(1, 0, 0, {}), 13_000);
  assert.equal(byKey(charts).tasks_per_second.latest, "1.0/s");
});

Deno.test("a steady load whose tasks end in bursts reads steady, sampled at 1 Hz", () => {
  const charts = new MetricCharts();
  const seen: string[] = [];
  for (let second = 0; second <= 10; second++) {
    // 100 tasks end in every other second: 50/s.
    const finished = 1 + 100 * Math.floor(second / 2);
    charts.take(families(finished, 0, 0, {}), 30_000 + second * 1000);
    if (second >= 2) seen.push(byKey(charts).tasks_per_second.latest);
  }
  assert.deepEqual(new Set(seen), new Set(["50.0/s"]));
});

Deno.test("missed samples break the line instead of joining across the gap", () => {
  const charts = new MetricCharts();
  for (let second = 0; second < 5; second++) {
    charts.take(families(1 + second, 0, second, {}), second * 1000);
  }
  // Nothing for 10 s (the core did not answer), then again.
  for (let second = 15; second < 18; second++) {
    charts.take(families(1 + second, 0, second, {}), second * 1000);
  }
  const shown = byKey(charts);
  const path = (svg: string) => svg.match(/<path d="([^"]*)"/)![1];
  assert.equal(path(shown.queued.svg).match(/M/g)!.length, 2);
  assert.equal(path(shown.queued.svg).match(/L/g)!.length, 4 + 2);
  // The rate needs two samples of a window: none across the gap.
  assert.equal(path(shown.tasks_per_second.svg).match(/M/g)!.length, 2);
  assert.match(shown.tasks_per_second.svg, /data-points="6"/);
  assert.equal(shown.tasks_per_second.latest, "1.0/s");
});

Deno.test("one point alone between gaps is a dot, beside the broken line", () => {
  const charts = new MetricCharts();
  for (const second of [0, 1, 2, 10, 20, 21]) {
    charts.take(families(1, 0, 3, {}), second * 1000);
  }
  const svg = byKey(charts).queued.svg;
  assert.equal(svg.match(/<circle/g)!.length, 1);
  assert.equal(svg.match(/<path d="([^"]*)"/)![1].match(/M/g)!.length, 2);
});

Deno.test("updates within one second make one point: its newest", () => {
  const charts = new MetricCharts();
  for (let i = 0; i < 8; i++) {
    charts.take(families(1, 0, i, {}), 20_000 + i * 100);
  }
  const queued = byKey(charts).queued;
  assert.equal(queued.latest, "7");
  assert.match(queued.svg, /data-points="1"/);
  charts.take(families(1, 0, 3, {}), 21_000);
  assert.match(byKey(charts).queued.svg, /data-points="2"/);
});

Deno.test("of many engines, the heap chart draws and names the 8 largest, in engine order", () => {
  const charts = new MetricCharts();
  const heap = Object.fromEntries(
    Array.from({ length: 20 }, (_, i) => [String(i), (i % 10) * 2 ** 20]),
  );
  charts.take(families(1, 0, 0, heap), 0);
  const shown = byKey(charts).engine_heap;
  assert.equal(shown.title, "engine heap (the 8 largest of 20)");
  assert.equal(
    shown.latest,
    "6: 6.0 MiB, 7: 7.0 MiB, 8: 8.0 MiB, 9: 9.0 MiB, 16: 6.0 MiB, 17: 7.0 MiB, 18: 8.0 MiB, 19: 9.0 MiB",
  );
  assert.match(shown.svg, /data-points="8"/);
});

Deno.test("each engine's heap is a line of its own, gone two minutes after its engine", () => {
  const charts = new MetricCharts();
  charts.take(families(1, 0, 0, { "0": 2 ** 20, "1": 30 * 2 ** 20 }), 0);
  charts.take(families(1, 0, 0, { "1": 31 * 2 ** 20 }), 2_000);
  let heap = byKey(charts).engine_heap;
  assert.equal(heap.latest, "0: 1.0 MiB, 1: 31 MiB");
  assert.match(heap.svg, /<circle/, "engine 0's one point");
  assert.match(heap.svg, /<path/, "engine 1's line");
  charts.take(families(1, 0, 0, { "1": 32 * 2 ** 20 }), 121_000);
  heap = byKey(charts).engine_heap;
  assert.equal(heap.latest, "1: 32 MiB");
  charts.take(families(1, 0, 0, {}), 250_000);
  assert.equal(byKey(charts).engine_heap.latest, "-");
});

Deno.test("families without the charts' metrics chart zeros, not errors", () => {
  const charts = new MetricCharts();
  charts.take([], 0);
  charts.take([], 250);
  const shown = byKey(charts);
  assert.equal(shown.tasks_per_second.latest, "0.0/s");
  assert.equal(shown.queued.latest, "0");
  assert.equal(shown.engine_heap.latest, "-");
});
