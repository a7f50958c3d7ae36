/**
 * Metrics as plain data: what a registry's `families()` give, what crosses
 * the controller wire (`Cluster.metrics()`), and what `prometheusText`
 * writes.
 *
 * @module
 */

/** The three kinds of metric troupe exposes. */
export type MetricType = "counter" | "gauge" | "histogram";

/** Label names to values, e.g. `{ view: "direct" }`. */
export type Labels = Readonly<Record<string, string>>;

/**
 * One counter's or gauge's value under one set of labels.
 *
 * @example
 * ```ts
 * import type { Sample } from "./metrics.ts";
 * const s: Sample = { labels: { view: "direct" }, value: 3 };
 * ```
 */
export interface Sample {
  /** Its labels, each of the family's label names. */
  labels: Record<string, string>;
  /** Its value. */
  value: number;
}

/**
 * One histogram's figures under one set of labels: `counts[i]` is how many
 * observations were at most `buckets[i]` (cumulative, as Prometheus counts
 * them); `count` is all of them (the `+Inf` bucket).
 *
 * @example
 * ```ts
 * import type { HistogramSample } from "./metrics.ts";
 * const h: HistogramSample = {
 *   labels: { view: "balanced" }, counts: [1, 2], sum: 0.3, count: 3,
 * };
 * ```
 */
export interface HistogramSample {
  /** Its labels, each of the family's label names. */
  labels: Record<string, string>;
  /** Cumulative counts, one per bucket bound. */
  counts: number[];
  /** The sum of the observed values. */
  sum: number;
  /** How many values were observed. */
  count: number;
}

/**
 * A metric family as plain data: what `MetricsRegistry.families()` gives,
 * `Cluster.metrics()` answers and `prometheusText` writes.
 *
 * @example
 * ```ts
 * import type { MetricFamily } from "./metrics.ts";
 * const done: MetricFamily = {
 *   name: "troupe_tasks_done_total",
 *   help: "Tasks that succeeded.",
 *   type: "counter",
 *   labelNames: ["view"],
 *   samples: [{ labels: { view: "direct" }, value: 4 }],
 * };
 * ```
 */
export type MetricFamily =
  | {
    name: string;
    help: string;
    type: "counter" | "gauge";
    labelNames: string[];
    samples: Sample[];
  }
  | {
    name: string;
    help: string;
    type: "histogram";
    labelNames: string[];
    /** Upper bounds of the buckets, ascending; `+Inf` is implied. */
    buckets: number[];
    samples: HistogramSample[];
  };

/**
 * Bucket bounds for durations, in seconds: a millisecond to ten minutes.
 *
 * @example
 * ```ts
 * import { DURATION_BUCKETS } from "./metrics.ts";
 * console.log(DURATION_BUCKETS.at(-1)); // 600
 * ```
 */
export const DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
  120,
  300,
  600,
]);

/**
 * Adds the samples of `more` into `into` (same name, same labels: summed;
 * otherwise appended): a controller's own figures (its client connections'
 * frames) joined to its core's.
 *
 * @example
 * ```ts
 * import { mergeFamilies, type MetricFamily } from "./metric_family.ts";
 * const f = (value: number): MetricFamily[] => [{
 *   name: "frames_total", help: "Frames.", type: "counter",
 *   labelNames: ["direction"], samples: [{ labels: { direction: "in" }, value }],
 * }];
 * const [frames] = mergeFamilies(f(2), f(3));
 * console.log(frames.type !== "histogram" && frames.samples[0].value); // 5
 * ```
 */
export function mergeFamilies(
  into: MetricFamily[],
  more: readonly MetricFamily[],
): MetricFamily[] {
  for (const family of more) {
    const same = into.find((f) => f.name === family.name);
    if (same === undefined) {
      into.push(family);
      continue;
    }
    if (same.type !== family.type || same.type === "histogram") {
      throw new TypeError(`cannot merge two metrics named ${family.name}`);
    }
    for (const sample of family.samples as Sample[]) {
      const key = JSON.stringify(sample.labels);
      const match = same.samples.find((s) => JSON.stringify(s.labels) === key);
      if (match) match.value += sample.value;
      else same.samples.push({ ...sample, labels: { ...sample.labels } });
    }
  }
  return into;
}
