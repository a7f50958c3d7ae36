import assert from "node:assert/strict";
import { MetricsRegistry } from "./metrics.ts";
import { prometheusText } from "./prometheus_text.ts";
import { PROMTOOL, promtoolCheck } from "../tests/prometheus_rig.ts";

Deno.test("counters and gauges: HELP, TYPE, a line per sample", () => {
  const registry = new MetricsRegistry();
  registry.counter("t_done_total", "Tasks done.", ["view"]).inc(
    { view: "direct" },
    3,
  );
  const depth = registry.gauge("t_queued", "Queued.", []);
  depth.set({}, 7);
  registry.gauge("t_empty", "No samples yet.", ["engine"]);
  assert.equal(
    prometheusText(registry.families()),
    [
      "# HELP t_done_total Tasks done.",
      "# TYPE t_done_total counter",
      't_done_total{view="direct"} 3',
      "# HELP t_queued Queued.",
      "# TYPE t_queued gauge",
      "t_queued 7",
      "# HELP t_empty No samples yet.",
      "# TYPE t_empty gauge",
      "",
    ].join("\n"),
  );
  assert.equal(prometheusText([]), "");
});

Deno.test('label values escape \\, " and line feeds; help escapes \\ and line feeds', () => {
  const registry = new MetricsRegistry();
  registry.counter("t_total", 'A "quoted" \\ help\nover two lines.', ["why"])
    .inc({ why: 'a "b" \\ c\nd' });
  assert.equal(
    prometheusText(registry.families()),
    '# HELP t_total A "quoted" \\\\ help\\nover two lines.\n' +
      "# TYPE t_total counter\n" +
      't_total{why="a \\"b\\" \\\\ c\\nd"} 1\n',
  );
});

Deno.test("a histogram: cumulative _bucket lines, le last, +Inf, _sum, _count", () => {
  const registry = new MetricsRegistry();
  const took = registry.histogram("t_seconds", "Took.", ["view"], [0.005, 1]);
  took.observe({ view: "direct" }, 0.001);
  took.observe({ view: "direct" }, 0.5);
  took.observe({ view: "direct" }, 2);
  assert.equal(
    prometheusText(registry.families()),
    [
      "# HELP t_seconds Took.",
      "# TYPE t_seconds histogram",
      't_seconds_bucket{view="direct",le="0.005"} 1',
      't_seconds_bucket{view="direct",le="1"} 2',
      't_seconds_bucket{view="direct",le="+Inf"} 3',
      't_seconds_sum{view="direct"} 2.501',
      't_seconds_count{view="direct"} 3',
      "",
    ].join("\n"),
  );
});

Deno.test("special values are written as Prometheus reads them", () => {
  const registry = new MetricsRegistry();
  const g = registry.gauge("t_value", "V.", ["k"]);
  g.set({ k: "nan" }, NaN);
  g.set({ k: "inf" }, Infinity);
  g.set({ k: "neg" }, -Infinity);
  g.set({ k: "big" }, 2 ** 53);
  g.set({ k: "small" }, 1e-9);
  assert.deepEqual(
    prometheusText(registry.families()).split("\n").slice(2, 7),
    [
      't_value{k="nan"} NaN',
      't_value{k="inf"} +Inf',
      't_value{k="neg"} -Inf',
      't_value{k="big"} 9007199254740992',
      't_value{k="small"} 1e-9',
    ],
  );
});

/** A registry shaped as troupe's core: every kind, labels, odd values. */
function realisticRegistry(): MetricsRegistry {
  const registry = new MetricsRegistry();
  const engines = registry.gauge("troupe_engines", "Engines.", [
    "state",
    "kind",
  ]);
  for (const kind of ["worker", "process"]) {
    for (const state of ["starting", "idle", "busy", "stopped"]) {
      engines.set({ state, kind }, state === "idle" ? 4 : 0);
    }
  }
  registry.counter("troupe_engine_deaths_total", "Deaths.", ["kind", "reason"])
    .inc({ kind: "worker", reason: "killed" }, 2);
  const failed = registry.counter("troupe_tasks_failed_total", "Failed.", [
    "view",
    "error",
  ]);
  failed.inc({ view: "direct", error: "RemoteError" }, 3);
  failed.inc({ view: "balanced", error: 'odd "name"\\\n' });
  const duration = registry.histogram(
    "troupe_task_duration_seconds",
    "Task duration, from its start on the engine to its end.",
    ["view"],
  );
  for (let i = 0; i < 100; i++) duration.observe({ view: "direct" }, i / 37);
  registry.gauge("troupe_engine_heap_bytes", "Heap.", ["engine"]).set(
    { engine: "0" },
    12_345_678,
  );
  return registry;
}

// Part of CI (apt-get install prometheus); without it the test says so.
Deno.test({
  name: "promtool check metrics accepts a realistic registry's text",
  ignore: PROMTOOL === undefined,
}, async () => {
  const text = prometheusText(realisticRegistry().families());
  const { code, said } = await promtoolCheck(text);
  assert.equal(code, 0, `promtool refused the text:\n${said}\n${text}`);
  assert.equal(said, "", "promtool found nothing to lint");
});
