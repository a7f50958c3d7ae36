import assert from "node:assert/strict";
import {
  mergeFamilies,
  type MetricFamily,
  MetricsRegistry,
} from "./metrics.ts";

Deno.test("a counter counts under each set of labels, in the order made", () => {
  const registry = new MetricsRegistry();
  const done = registry.counter("t_done_total", "Done.", ["view"]);
  const direct = done.with({ view: "direct" });
  direct.inc();
  direct.inc(2);
  done.inc({ view: "balanced" });
  done.inc({ view: "direct" });
  assert.equal(done.with({ view: "direct" }), direct, "one child per labels");
  assert.deepEqual(registry.families(), [{
    name: "t_done_total",
    help: "Done.",
    type: "counter",
    labelNames: ["view"],
    samples: [
      { labels: { view: "direct" }, value: 4 },
      { labels: { view: "balanced" }, value: 1 },
    ],
  }]);
});

Deno.test("labels are checked: missing, unknown and non-string are refused", () => {
  const family = new MetricsRegistry().counter("t_total", "T.", ["a", "b"]);
  assert.throws(
    () => family.inc({ a: "1" }),
    /metric t_total takes the labels \{a, b\}.*missing b/,
  );
  assert.throws(
    () => family.inc({ a: "1", b: "2", c: "3" }),
    /unknown c/,
  );
  assert.throws(
    () => family.inc({ a: "1", b: 2 as unknown as string }),
    /each a string.*missing b/,
  );
  family.inc({ b: "2", a: "1" });
  assert.deepEqual(
    family.with({ a: "1", b: "2" }).value,
    1,
    "label order does not matter",
  );
});

Deno.test("names are checked, and a name is made once", () => {
  const registry = new MetricsRegistry();
  assert.throws(() => registry.counter("1bad", "x", []), /not a metric name/);
  assert.throws(() => registry.gauge("ok", "x", ["__x"]), /not a label name/);
  assert.throws(
    () => registry.gauge("ok", "x", ["a", "a"]),
    /names a label twice/,
  );
  registry.gauge("ok", "x", []);
  assert.throws(() => registry.counter("ok", "x", []), /already a metric ok/);
  assert.throws(
    () => registry.histogram("h", "x", ["le"], [1]),
    /may not have a label "le"/,
  );
  assert.throws(
    () => registry.histogram("h2", "x", [], [1, 1]),
    /finite and ascending/,
  );
  assert.throws(
    () => registry.histogram("h3", "x", [], [1, Infinity]),
    /finite and ascending/,
  );
});

Deno.test("a histogram's counts are cumulative; a value on a bound is in it", () => {
  const registry = new MetricsRegistry();
  const wait = registry.histogram("t_wait_seconds", "W.", ["view"], [
    0.1,
    1,
    10,
  ]);
  for (const v of [0.05, 0.1, 0.5, 1, 3, 100]) wait.observe({ view: "d" }, v);
  const [family] = registry.families();
  assert.equal(family.type, "histogram");
  assert.deepEqual(family.buckets, [0.1, 1, 10]);
  assert.deepEqual(family.samples, [{
    labels: { view: "d" },
    counts: [2, 4, 5],
    sum: 0.05 + 0.1 + 0.5 + 1 + 3 + 100,
    count: 6,
  }]);
});

Deno.test("collect callbacks set gauges at every scrape, and can stop", () => {
  const registry = new MetricsRegistry();
  const up = registry.gauge("t_up", "Up.", ["colour"]);
  let things = ["red", "red", "blue"];
  let runs = 0;
  const stop = registry.collect(() => {
    runs++;
    up.reset();
    for (const colour of things) up.inc({ colour });
  });
  const values = () =>
    registry.families()[0].samples.map((s) =>
      "value" in s ? [s.labels.colour, s.value] : []
    );
  assert.deepEqual(values(), [["red", 2], ["blue", 1]]);
  things = ["blue"];
  assert.deepEqual(values(), [["blue", 1]], "a colour gone is no sample");
  stop();
  things = [];
  assert.deepEqual(values(), [["blue", 1]]);
  assert.equal(runs, 2);
});

Deno.test("families are copies: changing them changes nothing in the registry", () => {
  const registry = new MetricsRegistry();
  registry.counter("t_total", "T.", ["a"]).inc({ a: "x" });
  const first = registry.families();
  (first[0].samples[0] as { value: number }).value = 99;
  first[0].samples[0].labels.a = "y";
  assert.deepEqual(registry.families()[0].samples, [{
    labels: { a: "x" },
    value: 1,
  }]);
});

Deno.test("mergeFamilies sums equal labels, appends new ones and new families", () => {
  const counter = (
    value: number,
    direction = "in",
  ): MetricFamily & { type: "counter" | "gauge" } => ({
    name: "f_total",
    help: "F.",
    type: "counter",
    labelNames: ["direction"],
    samples: [{ labels: { direction }, value }],
  });
  const merged = mergeFamilies([counter(2)], [
    counter(3),
    counter(4, "out"),
    { ...counter(1), name: "g_total" },
  ]);
  assert.deepEqual(merged.map((f) => f.name), ["f_total", "g_total"]);
  assert.deepEqual(merged[0].samples, [
    { labels: { direction: "in" }, value: 5 },
    { labels: { direction: "out" }, value: 4 },
  ]);
  assert.throws(
    () => mergeFamilies([counter(1)], [{ ...counter(1), type: "gauge" }]),
    /cannot merge two metrics named f_total/,
  );
});
