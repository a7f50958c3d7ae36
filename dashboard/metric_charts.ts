/**
 * The dashboard's live figures of the core: tasks finished per second,
 * tasks queued, and each engine's heap, as sparklines over the last two
 * minutes. They are read from the same metric families `/metrics` serves,
 * once a second whether or not a page is open (so a page opened late shows
 * the past two minutes), and drawn here as small SVGs: no Vega for charts
 * redrawn four times a second.
 *
 * @module
 */

import type { MetricFamily } from "../observe/metrics.ts";

/** How far back the sparklines reach, in ms. */
const WINDOW_MS = 120_000;
/** How often the dashboard takes the families in (`SAMPLE_MS`), in ms. */
export const SAMPLE_MS: number = 1_000;
/**
 * tasks/s is the increase over the trailing ~2 s (two samples apart): over
 * one 250 ms page update a steady load read as 0, 90, 0, 70 … by when the
 * tasks' ends fell.
 */
const RATE_WINDOW_MS = 2_000;
const WIDTH = 240;
const HEIGHT = 48;
/**
 * One point per this many ms at most (two pixels): more points than
 * pixels would only make every page update bigger.
 */
const STEP_MS = 1_000;
/**
 * Engines report their heap once per heartbeat (1 s): a point per 2 s,
 * and the lines of the largest heaps only, keep the message small on a
 * cluster of many engines.
 */
const HEAP_STEP_MS = 2_000;
const HEAP_LINES = 8;
/** One colour per engine, in turn (the page's palette). */
const COLOURS = [
  "#1d4ed8",
  "#c2410c",
  "#15803d",
  "#7e22ce",
  "#b91c1c",
  "#0e7490",
  "#a16207",
  "#be185d",
];

/**
 * One sparkline of the page.
 *
 * @example
 * ```ts
 * import type { MetricChart } from "./metric_charts.ts";
 * const chart: MetricChart = {
 *   key: "queued", title: "tasks queued", latest: "3", svg: "<svg></svg>",
 * };
 * ```
 */
export interface MetricChart {
  /** `tasks_per_second`, `queued` or `engine_heap`. */
  key: "tasks_per_second" | "queued" | "engine_heap";
  /** What it shows. */
  title: string;
  /** Its newest value, as text (e.g. `12.5/s`, `3`, `0: 18 MiB`). */
  latest: string;
  /** The sparkline, one line per series, over the last two minutes. */
  svg: string;
}

type Point = [time: number, value: number];

/**
 * The sparklines' history, fed the core's metric families once per page
 * update.
 *
 * @example
 * ```ts
 * import { MetricCharts } from "./metric_charts.ts";
 * const charts = new MetricCharts();
 * const done = (value: number) => [{
 *   name: "troupe_tasks_done_total", help: "", type: "counter" as const,
 *   labelNames: ["view"], samples: [{ labels: { view: "direct" }, value }],
 * }];
 * charts.take(done(0), 0);
 * charts.take(done(10), 1000);
 * console.log(charts.charts()[0].latest); // 10.0/s
 * ```
 */
export class MetricCharts {
  #rate: Point[] = [];
  #queued: Point[] = [];
  #heap = new Map<string, Point[]>();
  /** done + failed at the recent samples, oldest first. */
  #finished: Point[] = [];
  #now: number | undefined;

  /**
   * Takes in the families as they are at `now` (ms); meant to be called
   * every `SAMPLE_MS`.
   */
  take(families: readonly MetricFamily[], now: number = Date.now()): void {
    const finished = total(families, "troupe_tasks_done_total") +
      total(families, "troupe_tasks_failed_total");
    // A counter that went down was started again: count from there.
    const last = this.#finished.at(-1);
    if (last && finished < last[1]) this.#finished = [[last[0], 0]];
    // The rate's base: the oldest sample of the trailing window (a sample
    // late by up to half a step still counts); none after a gap.
    const since = now - RATE_WINDOW_MS - SAMPLE_MS / 2;
    this.#finished = this.#finished.filter(([t]) => t >= since && t < now);
    const base = this.#finished[0];
    if (base !== undefined) {
      const rate = (finished - base[1]) / ((now - base[0]) / 1000);
      push(this.#rate, [now, rate], now, STEP_MS);
    }
    this.#finished.push([now, finished]);
    this.#now = now;
    const queued = total(families, "troupe_tasks_queued");
    push(this.#queued, [now, queued], now, STEP_MS);
    const heap = families.find((f) => f.name === "troupe_engine_heap_bytes");
    for (const sample of heap?.type === "gauge" ? heap.samples : []) {
      const engine = sample.labels.engine ?? "";
      const points = this.#heap.get(engine) ?? [];
      push(points, [now, sample.value], now, HEAP_STEP_MS);
      this.#heap.set(engine, points);
    }
    // An engine gone for two minutes leaves the chart.
    for (const [engine, points] of this.#heap) {
      trim(points, now);
      if (points.length === 0) this.#heap.delete(engine);
    }
  }

  /** The three sparklines as they stand. */
  charts(): MetricChart[] {
    const now = this.#now ?? 0;
    // The largest heaps, drawn and named in engine order.
    const engines = [...this.#heap]
      .sort((a, b) => b[1].at(-1)![1] - a[1].at(-1)![1])
      .slice(0, HEAP_LINES)
      .sort((a, b) => Number(a[0]) - Number(b[0]));
    const more = this.#heap.size - engines.length;
    return [
      {
        key: "tasks_per_second",
        title: "tasks finished per second",
        latest: `${(this.#rate.at(-1)?.[1] ?? 0).toFixed(1)}/s`,
        svg: sparkline([this.#rate], now, STEP_MS),
      },
      {
        key: "queued",
        title: "tasks queued",
        latest: String(this.#queued.at(-1)?.[1] ?? 0),
        svg: sparkline([this.#queued], now, STEP_MS),
      },
      {
        key: "engine_heap",
        title: more > 0
          ? `engine heap (the ${HEAP_LINES} largest of ${this.#heap.size})`
          : "engine heap",
        latest:
          engines.map(([engine, points]) =>
            `${engine}: ${mebibytes(points.at(-1)![1])}`
          ).join(", ") || "-",
        svg: sparkline(
          engines.map(([, points]) => points),
          now,
          HEAP_STEP_MS,
        ),
      },
    ];
  }
}

/** The sum of a counter's or gauge's samples; 0 when it is not there. */
function total(families: readonly MetricFamily[], name: string): number {
  const family = families.find((f) => f.name === name);
  if (family === undefined || family.type === "histogram") return 0;
  return family.samples.reduce((sum, sample) => sum + sample.value, 0);
}

/** Adds `point`, in place of the last one when both fall in one step. */
function push(points: Point[], point: Point, now: number, step: number): void {
  const last = points.at(-1);
  if (last && Math.floor(last[0] / step) === Math.floor(point[0] / step)) {
    points[points.length - 1] = point;
  } else {
    points.push(point);
  }
  trim(points, now);
}

function trim(points: Point[], now: number): void {
  let old = 0;
  while (old < points.length && points[old][0] < now - WINDOW_MS) old++;
  if (old > 0) points.splice(0, old);
}

/** `points` cut where two are more than `gap` ms apart. */
function unbroken(points: readonly Point[], gap: number): Point[][] {
  const runs: Point[][] = [];
  for (const point of points) {
    const run = runs.at(-1);
    if (run && point[0] - run.at(-1)![0] <= gap) run.push(point);
    else runs.push([point]);
  }
  return runs;
}

function mebibytes(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(bytes < 10 * 2 ** 20 ? 1 : 0)} MiB`;
}

/**
 * Lines over the window that ends at `now`, all on one scale from 0 to
 * the highest value. Points `step` apart are joined; a longer gap (a
 * sample missed: the core did not answer in time) breaks the line, and a
 * point alone between gaps is a dot.
 */
function sparkline(
  lines: readonly Point[][],
  now: number,
  step: number,
): string {
  const top = Math.max(0, ...lines.flatMap((l) => l.map((p) => p[1])));
  const x = (t: number) => (WIDTH * (1 - (now - t) / WINDOW_MS)).toFixed(1);
  const y = (v: number) =>
    (HEIGHT - 2 - (top > 0 ? (HEIGHT - 4) * v / top : 0)).toFixed(1);
  const drawn = lines.flatMap((points, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const runs = unbroken(points, step + SAMPLE_MS / 2);
    const dots = runs.filter((run) => run.length === 1).map(([[t, v]]) =>
      `<circle cx="${x(t)}" cy="${y(v)}" r="1.5" fill="${colour}"/>`
    );
    const d = runs.filter((run) => run.length > 1).map((run) =>
      run.map(([t, v], j) => `${j ? "L" : "M"}${x(t)} ${y(v)}`).join("")
    );
    if (d.length === 0) return dots;
    return [
      `<path d="${d.join("")}" fill="none" stroke="${colour}" ` +
      `stroke-width="1.5"/>`,
      ...dots,
    ];
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" ` +
    `height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" ` +
    `data-points="${lines.reduce((n, l) => n + l.length, 0)}">` +
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#f8fafc"/>` +
    drawn.join("") + "</svg>";
}
