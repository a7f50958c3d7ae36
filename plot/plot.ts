/**
 * Plots of what engines publish: one line per engine of its latest array
 * (the seed notebook's plot), and scalars over time.
 *
 * A plot is a Vega-Lite spec, plain JSON, so the same value can be written to
 * a file, streamed to the dashboard, or displayed in Jupyter
 * (`application/vnd.vegalite.v5+json`). {@linkcode renderSvg} turns it into
 * SVG headless, with no permissions; Vega is loaded on first use only.
 *
 * @module
 */

import { checkOptions, type OptionNames } from "../protocol/check_options.ts";

/**
 * A Vega-Lite spec as plain JSON. Kept loose on purpose: the precise
 * vega-lite types would leak into the public API and its slow-type checks.
 *
 * @example
 * ```ts
 * import type { VegaLiteSpec } from "@troupe/parallel";
 * const spec: VegaLiteSpec = { mark: "point", data: { values: [] } };
 * ```
 */
export type VegaLiteSpec = Record<string, unknown>;

/**
 * The latest array one engine published.
 *
 * @example
 * ```ts
 * import type { EngineSeries } from "@troupe/parallel";
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
 * One line of a line plot: an engine's values against x.
 *
 * @example
 * ```ts
 * import type { Line } from "@troupe/parallel";
 * const line: Line = { engineId: 0, points: [[0, 1.5], [1, 2.5]] };
 * ```
 */
export interface Line {
  /** The engine's id; the legend says "engine: K". */
  engineId: number;
  /** `[x, y]` pairs; a y that is not finite breaks the line there. */
  points: [number, number][];
}

/**
 * What a line plot shows besides its lines.
 *
 * @example
 * ```ts
 * import type { LinePlotLabels } from "@troupe/parallel";
 * const labels: LinePlotLabels = { title: "i over time", x: "seconds", y: "i" };
 * ```
 */
export interface LinePlotLabels {
  /** The plot's title. */
  title: string;
  /** The x axis title. */
  x: string;
  /** The y axis title. */
  y: string;
  /** Whether x takes whole numbers only (array indices). */
  integerX?: boolean;
}

const LABELS: OptionNames<LinePlotLabels> = {
  title: true,
  x: true,
  y: true,
  integerX: true,
};

/**
 * A Vega-Lite line plot with one line per engine, sorted by engine id, and a
 * legend. Every plot troupe draws is one of these.
 *
 * @example
 * ```ts
 * import { linePlotSpec } from "@troupe/parallel";
 * const spec = linePlotSpec(
 *   [{ engineId: 0, points: [[0, 1], [1, 3]] }],
 *   { title: "i over time", x: "seconds", y: "i" },
 * );
 * ```
 */
export function linePlotSpec(
  lines: Line[],
  labels: LinePlotLabels,
): VegaLiteSpec {
  checkOptions("linePlotSpec labels", labels, LABELS);
  const ordered = [...lines].sort((a, b) => a.engineId - b.engineId);
  const legend = [...new Set(ordered.map((l) => `engine: ${l.engineId}`))];
  const rows = ordered.flatMap((line) =>
    line.points.map(([x, y]) => ({
      engine: `engine: ${line.engineId}`,
      x,
      // JSON has no NaN; null also makes Vega-Lite 6 break the line there
      // rather than bridge the gap (Vega-Lite 5 bridges it).
      y: Number.isFinite(y) ? y : null,
    }))
  );
  const empty = rows.every((row) => row.y === null);
  return {
    // v5, not v6: Jupyter's renderer is Vega-Lite 5, and nothing here needs 6.
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    width: 640,
    height: 360,
    title: {
      text: labels.title,
      ...(empty ? { subtitle: "No data to plot yet" } : {}),
    },
    data: { values: rows },
    mark: { type: "line", point: { size: 24 }, strokeWidth: 2 },
    encoding: {
      x: {
        field: "x",
        type: "quantitative",
        title: labels.x,
        // Without data Vega would draw a collapsed [0, 0] axis.
        scale: empty ? { domain: [0, 1] } : { nice: false },
        ...(labels.integerX ? { axis: { tickMinStep: 1 } } : {}),
      },
      y: {
        field: "y",
        type: "quantitative",
        title: labels.y,
        ...(empty ? { scale: { domain: [0, 1] } } : {}),
      },
      color: {
        field: "engine",
        type: "nominal",
        // An explicit domain sorts engines by number ("engine: 10" after 9).
        scale: { domain: legend },
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
 * The seed notebook's plot: one line per engine of its latest array `a`
 * (x = index), titled with the time step.
 *
 * @param series one entry per engine, in any order
 * @param step the latest time step published, or `undefined` before any
 * @returns a Vega-Lite spec with its data inline
 *
 * @example
 * ```ts
 * import { seedPlotSpec } from "@troupe/parallel";
 * const spec = seedPlotSpec([{ engineId: 0, values: [0.1, 0.7, 0.4] }], 3);
 * console.log(spec.title); // { text: "Data published at time step: 3" }
 * ```
 */
export function seedPlotSpec(
  series: EngineSeries[],
  step: number | undefined,
): VegaLiteSpec {
  return linePlotSpec(
    series.map((s) => ({
      engineId: s.engineId,
      points: Array.from(s.values, (y, x) => [x, y] as [number, number]),
    })),
    {
      title: step === undefined
        ? "Data published"
        : `Data published at time step: ${step}`,
      x: "index in a",
      y: "value",
      integerX: true,
    },
  );
}

/**
 * Renders a Vega-Lite spec to SVG text, headless and with no permissions.
 *
 * @param spec a Vega-Lite spec, e.g. from {@linkcode seedPlotSpec}
 * @returns the SVG document, starting with `<svg`
 *
 * @example
 * ```ts
 * import { renderSvg, seedPlotSpec } from "@troupe/parallel";
 * const svg = await renderSvg(
 *   seedPlotSpec([{ engineId: 0, values: [0.1, 0.7, 0.4] }], 3),
 * );
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/seed_plot.svg`, svg);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  // Loaded here, not at the top: most programs never draw.
  const [vega, vl] = await Promise.all([import("vega"), import("vega-lite")]);
  const { spec: vegaSpec } = vl.compile(
    spec as unknown as Parameters<typeof vl.compile>[0],
  );
  const view = new vega.View(vega.parse(vegaSpec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    // Releases the view's timers and listeners (test sanitizers notice).
    view.finalize();
  }
}
