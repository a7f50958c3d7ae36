/**
 * What the dashboard shows, kept up to date from publications and engine
 * events: each engine's latest data, scalar histories, and recent events.
 *
 * @module
 */

import { mergeData, type Publication } from "../protocol/publication.ts";
import {
  type Line,
  linePlotSpec,
  renderSvg,
  type VegaLiteSpec,
} from "../plot/plot.ts";

/** Points kept per engine and key for a scalar's time series. */
const HISTORY = 300;
/** Engine events kept for the page's log. */
const EVENTS = 30;

/** One chart of the page: a key of the published data. */
export interface Chart {
  /** The published key. */
  key: string;
  /** `array`: one line per engine over the index; `series`: over time. */
  kind: "array" | "series";
  /** The Vega-Lite spec (the same definition as the demo's plot). */
  spec: VegaLiteSpec;
  /** The spec rendered to SVG. */
  svg: string;
}

/** A value that is neither a number nor an array of numbers. */
export interface TextValue {
  engineId: number;
  key: string;
  text: string;
}

/**
 * Folds publications into per-engine state and renders it on demand. Fed at
 * the engines' pace; rendered at the page's.
 *
 * @example
 * ```ts
 * import { DashboardState } from "./dashboard_state.ts";
 * const state = new DashboardState();
 * state.publish({ engineId: 0, taskId: 1, seq: 1, time: 0, data: { i: 1 } });
 * const charts = await state.charts();
 * ```
 */
export class DashboardState {
  #start = Date.now();
  #data = new Map<number, { taskId: number; data: Record<string, unknown> }>();
  #history = new Map<string, Map<number, [number, number][]>>();
  #events: string[] = [];
  #dirty = new Set<string>();
  #rendered = new Map<string, Chart>();
  #version = 0;

  /** Increases with every change; tells the server when to send. */
  get version(): number {
    return this.#version;
  }

  /** Takes in one publication. */
  publish(p: Publication): void {
    const current = this.#data.get(p.engineId);
    // A new task starts a new state, as `ar.data` does.
    const data = current?.taskId === p.taskId ? current.data : {};
    mergeData(data, p.data);
    this.#data.set(p.engineId, { taskId: p.taskId, data });
    for (const [key, value] of Object.entries(p.data)) {
      this.#dirty.add(key);
      if (typeof value === "number") {
        const byEngine = this.#history.get(key) ?? new Map();
        const points = byEngine.get(p.engineId) ?? [];
        points.push([(p.time - this.#start) / 1000, value]);
        if (points.length > HISTORY) points.splice(0, points.length - HISTORY);
        byEngine.set(p.engineId, points);
        this.#history.set(key, byEngine);
      }
    }
    this.#version++;
  }

  /** Notes an engine event for the page's log. */
  event(line: string): void {
    this.#events.push(`${new Date().toISOString().slice(11, 23)} ${line}`);
    if (this.#events.length > EVENTS) this.#events.shift();
    this.#version++;
  }

  /** The newest events, oldest first. */
  get events(): string[] {
    return [...this.#events];
  }

  /** Values that are not plotted, as text. */
  texts(): TextValue[] {
    const out: TextValue[] = [];
    for (
      const [engineId, { data }] of [...this.#data].sort((a, b) => a[0] - b[0])
    ) {
      for (const [key, value] of Object.entries(data)) {
        if (kindOf(value) === undefined) {
          out.push({ engineId, key, text: describe(value) });
        }
      }
    }
    return out;
  }

  /** Every chart, re-rendering only those whose data changed. */
  async charts(): Promise<Chart[]> {
    for (const key of this.#dirty) {
      const chart = this.#chart(key);
      if (chart) {
        this.#rendered.set(key, { ...chart, svg: await renderSvg(chart.spec) });
      }
    }
    this.#dirty.clear();
    return [...this.#rendered.values()].sort((a, b) =>
      a.key.localeCompare(b.key)
    );
  }

  #chart(key: string): Omit<Chart, "svg"> | undefined {
    const arrays: Line[] = [];
    for (const [engineId, { data }] of this.#data) {
      if (kindOf(data[key]) === "array") {
        const values = data[key] as ArrayLike<number>;
        arrays.push({
          engineId,
          points: Array.from(values, (y, x) => [x, y] as [number, number]),
        });
      }
    }
    if (arrays.length > 0) {
      return {
        key,
        kind: "array",
        spec: linePlotSpec(arrays, {
          title: `${key}: latest values`,
          x: "index",
          y: key,
          integerX: true,
        }),
      };
    }
    const history = this.#history.get(key);
    if (!history) return undefined;
    return {
      key,
      kind: "series",
      spec: linePlotSpec(
        [...history].map(([engineId, points]) => ({ engineId, points })),
        { title: `${key} over time`, x: "seconds", y: key },
      ),
    };
  }
}

function kindOf(value: unknown): "array" | "number" | undefined {
  if (typeof value === "number") return "number";
  const numeric = (ArrayBuffer.isView(value) && !(value instanceof DataView) &&
    typeof (value as unknown as ArrayLike<unknown>)[0] !== "bigint") ||
    (Array.isArray(value) && value.length > 0 &&
      value.every((v) => typeof v === "number"));
  return numeric ? "array" : undefined;
}

function describe(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    const text = Deno.inspect(value, { colors: false, depth: 3 });
    return text.length > 500 ? `${text.slice(0, 500)}…` : text;
  } catch {
    return String(value);
  }
}
