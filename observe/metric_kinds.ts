/**
 * The three kinds of metric family, each keeping a child per set of label
 * values: counters and gauges a `Tally` (an add per count), histograms a
 * `Buckets` (a short scan of fixed bounds per observation).
 *
 * @module
 */

import type { HistogramSample, Labels, Sample } from "./metric_family.ts";

/**
 * What every family shares: its name, help, label names, and a child per
 * set of label values.
 *
 * @example
 * ```ts
 * import { Family, MetricsRegistry } from "./metrics.ts";
 * const family = new MetricsRegistry().gauge("depth", "Depth.", ["view"]);
 * console.log(family instanceof Family, family.labelNames); // true [ "view" ]
 * ```
 */
export abstract class Family<Child> {
  readonly #children = new Map<string, { labels: Labels; child: Child }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  /**
   * The child for these labels, made on first use: hot paths keep it, so
   * that each count is an add.
   */
  with(labels: Labels = {}): Child {
    const key = this.#key(labels);
    let entry = this.#children.get(key);
    if (entry === undefined) {
      this.#checkLabels(labels);
      const own: Record<string, string> = {};
      for (const name of this.labelNames) own[name] = labels[name];
      entry = { labels: Object.freeze(own), child: this.make() };
      this.#children.set(key, entry);
    }
    return entry.child;
  }

  /** Forgets every child (a collected gauge whose engines went away). */
  reset(): void {
    this.#children.clear();
  }

  protected abstract make(): Child;

  protected children(): Iterable<{ labels: Labels; child: Child }> {
    return this.#children.values();
  }

  #key(labels: Labels): string {
    const names = this.labelNames;
    if (names.length === 0) return "";
    if (names.length === 1) return labels[names[0]] ?? "\u0001";
    let key = "";
    for (const name of names) key += (labels[name] ?? "\u0001") + "\u0000";
    return key;
  }

  #checkLabels(labels: Labels): void {
    const given = Object.keys(labels);
    const missing = this.labelNames.filter((n) =>
      typeof labels[n] !== "string"
    );
    const extra = given.filter((n) => !this.labelNames.includes(n));
    if (missing.length > 0 || extra.length > 0) {
      throw new TypeError(
        `metric ${this.name} takes the labels {${this.labelNames.join(", ")}}` +
          ` (each a string), not {${given.join(", ")}}` +
          (missing.length > 0 ? `; missing ${missing.join(", ")}` : "") +
          (extra.length > 0 ? `; unknown ${extra.join(", ")}` : ""),
      );
    }
  }
}

/**
 * One counter's or gauge's value under one set of labels: what `with`
 * gives, for a hot path to count on.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "./metrics.ts";
 * const frames = new MetricsRegistry().counter("frames_total", "Frames.", []);
 * const tally = frames.with();
 * tally.inc();
 * tally.inc(2);
 * console.log(tally.value); // 3
 * ```
 */
export class Tally {
  /** Its value now. */
  value = 0;

  /** Adds `by` (1). */
  inc(by = 1): void {
    this.value += by;
  }

  /** Sets it. */
  set(value: number): void {
    this.value = value;
  }
}

/**
 * What counters and gauges share: a `Tally` per set of labels. They differ
 * only in their type (how the registry writes them), so each is this base
 * under its own name.
 *
 * @example
 * ```ts
 * import { MetricsRegistry, TallyFamily } from "./metrics.ts";
 * const registry = new MetricsRegistry();
 * const up = registry.gauge("things_up", "Things up.", ["colour"]);
 * up.inc({ colour: "red" }, 2);
 * up.set({ colour: "blue" }, 5);
 * console.log(up instanceof TallyFamily, up.samples().length); // true 2
 * ```
 */
export abstract class TallyFamily extends Family<Tally> {
  /** Adds `by` (1; a gauge may take a negative one) under `labels`. */
  inc(labels?: Labels, by = 1): void {
    this.with(labels).value += by;
  }

  /** Sets the value under `labels` (a counter's: a total kept elsewhere). */
  set(labels: Labels, value: number): void {
    this.with(labels).value = value;
  }

  protected make(): Tally {
    return new Tally();
  }

  /** @internal Its samples, as plain data. */
  samples(): Sample[] {
    return [...this.children()].map(({ labels, child }) => ({
      labels: { ...labels },
      value: child.value,
    }));
  }
}

/**
 * A counter: only goes up (`inc`). `set` is for a counter computed at
 * scrape from a total kept elsewhere (frames a connection read).
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "./metrics.ts";
 * const registry = new MetricsRegistry();
 * const done = registry.counter("jobs_done_total", "Jobs done.", ["view"]);
 * const direct = done.with({ view: "direct" });
 * direct.inc();
 * done.inc({ view: "direct" }, 2);
 * console.log(direct.value); // 3
 * ```
 */
export class Counter extends TallyFamily {}

/**
 * A gauge: a value that goes up and down, or is set at scrape.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "./metrics.ts";
 * const registry = new MetricsRegistry();
 * const running = registry.gauge("jobs_running", "Jobs running.", []);
 * running.inc();
 * running.inc({}, -1);
 * running.set({}, 5);
 * console.log(running.with().value); // 5
 * ```
 */
export class Gauge extends TallyFamily {}

/**
 * One histogram's buckets under one set of labels.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "./metrics.ts";
 * const registry = new MetricsRegistry();
 * const wait = registry.histogram("wait_seconds", "Wait.", [], [0.1, 1]);
 * wait.with().observe(0.5);
 * console.log(wait.with().count); // 1
 * ```
 */
export class Buckets {
  /** Observations per bucket (not cumulative); the last one is `+Inf`. */
  readonly perBucket: Float64Array;
  /**
   * The upper bounds, as doubles: a scan of a typed array (measured, Deno
   * 2.9.6) costs a sixth of the same scan of a number array.
   */
  readonly bounds: Float64Array;
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.bounds = Float64Array.from(bounds);
    this.perBucket = new Float64Array(bounds.length + 1);
  }

  /** Counts `value` (seconds) in its bucket. */
  observe(value: number): void {
    const bounds = this.bounds;
    const n = bounds.length;
    let i = 0;
    while (i < n && value > bounds[i]) i++;
    this.perBucket[i]++;
    this.sum += value;
    this.count++;
  }
}

/**
 * A histogram with fixed bucket bounds.
 *
 * @example
 * ```ts
 * import { DURATION_BUCKETS, MetricsRegistry } from "./metrics.ts";
 * const registry = new MetricsRegistry();
 * const took = registry.histogram(
 *   "job_duration_seconds", "How long jobs ran.", ["view"], DURATION_BUCKETS,
 * );
 * took.observe({ view: "direct" }, 0.02);
 * console.log(registry.families()[0].samples.length); // 1
 * ```
 */
export class Histogram extends Family<Buckets> {
  readonly buckets: readonly number[];

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    buckets: readonly number[],
  ) {
    super(name, help, labelNames);
    if (labelNames.includes("le")) {
      throw new TypeError(`histogram ${name} may not have a label "le"`);
    }
    const sorted = buckets.every((b, i) =>
      Number.isFinite(b) && (i === 0 || b > buckets[i - 1])
    );
    if (!sorted) {
      throw new RangeError(
        `histogram ${name}'s buckets must be finite and ascending, ` +
          `not ${JSON.stringify(buckets)} (+Inf is added by itself)`,
      );
    }
    this.buckets = Object.freeze([...buckets]);
  }

  /** Counts `value` (seconds) under `labels`. */
  observe(labels: Labels, value: number): void {
    this.with(labels).observe(value);
  }

  protected make(): Buckets {
    return new Buckets(this.buckets);
  }

  /** @internal Its samples, as plain data. */
  samples(): HistogramSample[] {
    return [...this.children()].map(({ labels, child }) => {
      const counts: number[] = [];
      let running = 0;
      for (let i = 0; i < this.buckets.length; i++) {
        running += child.perBucket[i];
        counts.push(running);
      }
      return {
        labels: { ...labels },
        counts,
        sum: child.sum,
        count: child.count,
      };
    });
  }
}
