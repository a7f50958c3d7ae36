/**
 * What the metrics cost (`deno bench observe/metrics_bench.ts`), each
 * beside its raw limit: a counter's `inc` on a bound child against an
 * integer add in a loop, a histogram's `observe` against the same, and
 * `prometheusText` of a 64-engine cluster's families (the core's names,
 * per-engine memory and publications) against `JSON.stringify` of them.
 *
 * @module
 */

import { DURATION_BUCKETS, MetricsRegistry } from "./metrics.ts";
import { prometheusText } from "./prometheus_text.ts";

const N = 1_000_000;

const registry = new MetricsRegistry();
const done = registry.counter("bench_done_total", "Done.", ["view"])
  .with({ view: "direct" });
const took = registry.histogram("bench_seconds", "Took.", ["view"])
  .with({ view: "direct" });

let sink = 0;
Deno.bench(`${N} integer adds`, { group: "count", baseline: true }, () => {
  let n = 0;
  for (let i = 0; i < N; i++) n += 1;
  sink += n;
});
Deno.bench(`${N} counter inc`, { group: "count" }, () => {
  for (let i = 0; i < N; i++) done.inc();
});

// Durations spread over the buckets, as a mixed load's would be.
const values = Float64Array.from(
  { length: 1024 },
  (_, i) => DURATION_BUCKETS[i % DURATION_BUCKETS.length] * 0.9,
);
Deno.bench(
  `${N} adds of a duration`,
  { group: "observe", baseline: true },
  () => {
    let s = 0;
    for (let i = 0; i < N; i++) s += values[i & 1023];
    sink += s;
  },
);
Deno.bench(`${N} histogram observe`, { group: "observe" }, () => {
  for (let i = 0; i < N; i++) took.observe(values[i & 1023]);
});

/** The families of a core with `engines` engines, as troupe's names them. */
function clusterFamilies(engines: number) {
  const r = new MetricsRegistry();
  const states = [
    "starting",
    "idle",
    "busy",
    "draining",
    "restarting",
    "stopped",
  ];
  const byState = r.gauge("troupe_engines", "Engines.", ["state", "kind"]);
  for (const state of states) {
    byState.set({ state, kind: "process" }, state === "busy" ? engines : 0);
  }
  r.counter("troupe_engine_deaths_total", "Deaths.", ["kind", "reason"])
    .inc({ kind: "process", reason: "exited" }, 3);
  r.counter("troupe_engine_restarts_total", "Restarts.", ["kind"])
    .inc({ kind: "process" }, 3);
  const view = ["view"];
  const doneBy = r.counter("troupe_tasks_done_total", "Done.", view);
  const failed = r.counter("troupe_tasks_failed_total", "Failed.", [
    "view",
    "error",
  ]);
  const histograms = ["duration", "queue_wait"].map((name) =>
    r.histogram(`troupe_task_${name}_seconds`, "H.", view)
  );
  for (const v of ["direct", "balanced"]) {
    doneBy.inc({ view: v }, 1e6);
    failed.inc({ view: v, error: "RemoteError" }, 12);
    for (const h of histograms) {
      for (const x of values) h.observe({ view: v }, x);
    }
  }
  const perEngine = [
    "troupe_publications_total",
    "troupe_publication_bytes_total",
  ].map((name) => r.counter(name, "Per engine.", ["engine"]));
  const memory = ["troupe_engine_heap_bytes", "troupe_engine_rss_bytes"]
    .map((name) => r.gauge(name, "Per engine.", ["engine"]));
  for (let id = 0; id < engines; id++) {
    const engine = String(id);
    for (const family of perEngine) family.inc({ engine }, 1234 * id);
    for (const family of memory) family.set({ engine }, 5e7 + id);
  }
  return r.families();
}

const families = clusterFamilies(64);
Deno.bench("JSON.stringify of a 64-engine cluster's families", {
  group: "text",
  baseline: true,
}, () => {
  sink += JSON.stringify(families).length;
});
Deno.bench("prometheusText of a 64-engine cluster's families", {
  group: "text",
}, () => {
  sink += prometheusText(families).length;
});

globalThis.addEventListener("unload", () => {
  if (sink === 0.5) console.log(sink); // Keeps the loops' work alive.
});
