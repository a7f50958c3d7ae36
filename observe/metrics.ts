/**
 * A tiny metrics registry: counters, gauges and histograms with labels,
 * whose `families()` are plain data (they cross the controller wire) that
 * `prometheusText` writes in the Prometheus text format.
 *
 * Hot paths take a child once (`family.with(labels)`) and then pay an
 * integer add per `inc` or a short bucket scan per `observe`; figures that
 * a snapshot already holds (engines by state) are set by a `collect`
 * callback at scrape instead of being kept in step by hand.
 *
 * @module
 */

import { DURATION_BUCKETS, type MetricFamily } from "./metric_family.ts";
import { Counter, Gauge, Histogram } from "./metric_kinds.ts";

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export {
  DURATION_BUCKETS,
  type HistogramSample,
  type Labels,
  mergeFamilies,
  type MetricFamily,
  type MetricType,
  type Sample,
} from "./metric_family.ts";
export {
  Buckets,
  Counter,
  Family,
  Gauge,
  Histogram,
  Tally,
  TallyFamily,
} from "./metric_kinds.ts";

/**
 * The registry: makes families, runs the collect callbacks at scrape, and
 * gives every family as plain data, in the order they were made.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "./metrics.ts";
 * const registry = new MetricsRegistry();
 * const up = registry.gauge("things_up", "Things up, by colour.", ["colour"]);
 * const things = ["red", "red", "blue"];
 * registry.collect(() => {
 *   up.reset();
 *   for (const colour of things) up.inc({ colour });
 * });
 * console.log(registry.families()[0].samples);
 * // [ { labels: { colour: "red" }, value: 2 }, { labels: { colour: "blue" }, value: 1 } ]
 * ```
 */
export class MetricsRegistry {
  readonly #families = new Map<string, Counter | Gauge | Histogram>();
  readonly #collectors: (() => void)[] = [];

  /** A counter family; see `Counter`. */
  counter(name: string, help: string, labelNames: readonly string[]): Counter {
    return this.#add(new Counter(name, help, checkNames(name, labelNames)));
  }

  /** A gauge family; see `Gauge`. */
  gauge(name: string, help: string, labelNames: readonly string[]): Gauge {
    return this.#add(new Gauge(name, help, checkNames(name, labelNames)));
  }

  /** A histogram family with these bucket bounds; see `Histogram`. */
  histogram(
    name: string,
    help: string,
    labelNames: readonly string[],
    buckets: readonly number[] = DURATION_BUCKETS,
  ): Histogram {
    return this.#add(
      new Histogram(name, help, checkNames(name, labelNames), buckets),
    );
  }

  /**
   * Runs `fn` at the start of every `families()`, to set figures from a
   * snapshot; returns a function that stops it.
   */
  collect(fn: () => void): () => void {
    this.#collectors.push(fn);
    return () => {
      const at = this.#collectors.indexOf(fn);
      if (at >= 0) this.#collectors.splice(at, 1);
    };
  }

  /** Every family as plain data, after the collect callbacks ran. */
  families(): MetricFamily[] {
    for (const fn of this.#collectors) fn();
    return [...this.#families.values()].map((family): MetricFamily => {
      const base = {
        name: family.name,
        help: family.help,
        labelNames: [...family.labelNames],
      };
      if (family instanceof Histogram) {
        return {
          ...base,
          type: "histogram",
          buckets: [...family.buckets],
          samples: family.samples(),
        };
      }
      return {
        ...base,
        type: family instanceof Counter ? "counter" : "gauge",
        samples: family.samples(),
      };
    });
  }

  #add<F extends Counter | Gauge | Histogram>(family: F): F {
    if (this.#families.has(family.name)) {
      throw new RangeError(`there is already a metric ${family.name}`);
    }
    this.#families.set(family.name, family);
    return family;
  }
}

function checkNames(name: string, labelNames: readonly string[]): string[] {
  if (!METRIC_NAME.test(name)) {
    throw new TypeError(
      `"${name}" is not a metric name: use letters, digits, _ and :, ` +
        `not starting with a digit`,
    );
  }
  for (const label of labelNames) {
    if (!LABEL_NAME.test(label) || label.startsWith("__")) {
      throw new TypeError(
        `"${label}" is not a label name for ${name}: use letters, digits ` +
          `and _, not starting with a digit or __`,
      );
    }
  }
  if (new Set(labelNames).size !== labelNames.length) {
    throw new TypeError(`metric ${name} names a label twice: ${labelNames}`);
  }
  return [...labelNames];
}
