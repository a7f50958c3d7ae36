/**
 * Plot for the seed demo, a port of IPython's "publish_data" notebook: one
 * line per engine of the latest array `a` it published.
 *
 * The plot is a Vega-Lite spec, plain JSON, so the same value can be written
 * to a file here, embedded in a browser dashboard, or displayed in Jupyter
 * (`application/vnd.vegalite.v5+json`). {@linkcode renderSvg} turns it into
 * SVG headless, with no permissions.
 *
 * @module
 */

import * as vega from "vega";
import * as vl from "vega-lite";

/**
 * A Vega-Lite spec as plain JSON. Kept loose on purpose: the precise
 * vega-lite types would leak into the public API and its slow-type checks.
 *
 * @example
 * ```ts
 * import type { VegaLiteSpec } from "./seed_plot.ts";
 * const spec: VegaLiteSpec = { mark: "point", data: { values: [] } };
 * ```
 */
export type VegaLiteSpec = Record<string, unknown>;

/**
 * The latest array one engine published.
 *
 * @example
 * ```ts
 * import type { EngineSeries } from "./seed_plot.ts";
 * const s: EngineSeries = { engineId: 0, values: new Float64Array(20) };
 * ```
 */
export interface EngineSeries {
  /** The engine's integer id, from 0. */
  engineId: number;
  /** The values to plot against their index; non-finite ones are skipped. */
  values: ArrayLike<number>;
}

/**
 * Builds the Vega-Lite spec of the seed demo's plot: one line per engine,
 * x = index, y = value, legend "engine: K", titled with the time step.
 *
 * Pure: the result holds only JSON values. Values that are not finite
 * (NaN, ±Infinity) become `null` and are not drawn: the line breaks there.
 *
 * @param series one entry per engine, in any order
 * @param step the latest time step published, or `undefined` before any
 * @returns a Vega-Lite spec with its data inline
 *
 * @example
 * ```ts
 * import { seedPlotSpec } from "./seed_plot.ts";
 * const spec = seedPlotSpec(
 *   [{ engineId: 0, values: [0.1, 0.7, 0.4] }],
 *   3,
 * );
 * console.log(spec.title); // { text: "Data published at time step: 3", ... }
 * ```
 */
export function seedPlotSpec(
  series: EngineSeries[],
  step: number | undefined,
): VegaLiteSpec {
  const ordered = [...series].sort((a, b) => a.engineId - b.engineId);
  const labels = [...new Set(ordered.map((s) => `engine: ${s.engineId}`))];
  const rows = ordered.flatMap((s) =>
    Array.from(s.values, (value, index) => ({
      engine: `engine: ${s.engineId}`,
      index,
      // JSON has no NaN; null also makes Vega-Lite 6 break the line there
      // rather than bridge the gap (Vega-Lite 5 bridges it).
      value: Number.isFinite(value) ? value : null,
    }))
  );
  const empty = rows.every((row) => row.value === null);
  return {
    // v5, not v6: Jupyter's renderer is Vega-Lite 5, and nothing here needs 6.
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    width: 640,
    height: 360,
    title: {
      text: step === undefined
        ? "Data published"
        : `Data published at time step: ${step}`,
      ...(empty ? { subtitle: "No data to plot yet" } : {}),
    },
    data: { values: rows },
    mark: { type: "line", point: { size: 24 }, strokeWidth: 2 },
    encoding: {
      x: {
        field: "index",
        type: "quantitative",
        title: "index in a",
        // Without data Vega would draw a collapsed [0, 0] axis.
        scale: empty ? { domain: [0, 1] } : { nice: false },
        axis: { tickMinStep: 1 },
      },
      y: {
        field: "value",
        type: "quantitative",
        title: "value",
        ...(empty ? { scale: { domain: [0, 1] } } : {}),
      },
      color: {
        field: "engine",
        type: "nominal",
        // An explicit domain sorts engines by number ("engine: 10" after 9).
        scale: { domain: labels },
        legend: { title: null },
      },
    },
    config: {
      font: "sans-serif",
      title: { fontSize: 16, subtitleFontSize: 12 },
      axis: { labelFontSize: 12, titleFontSize: 13 },
      legend: { labelFontSize: 12 },
    },
  };
}

/**
 * Renders a Vega-Lite spec to SVG text, headless and with no permissions.
 *
 * @param spec a Vega-Lite spec, e.g. from {@linkcode seedPlotSpec}
 * @returns the SVG document, starting with `<svg`
 *
 * @example
 * ```ts
 * import { renderSvg, seedPlotSpec } from "./seed_plot.ts";
 * const svg = await renderSvg(
 *   seedPlotSpec([{ engineId: 0, values: [0.1, 0.7, 0.4] }], 3),
 * );
 * await Deno.writeTextFile("seed_plot.svg", svg);
 * ```
 */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const { spec: vegaSpec } = vl.compile(spec as unknown as vl.TopLevelSpec);
  const view = new vega.View(vega.parse(vegaSpec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    // Releases the view's timers and listeners (test sanitizers notice).
    view.finalize();
  }
}
