/**
 * Plots of what engines publish, as Vega-Lite specs and SVG: the charts the
 * dashboard draws, for a notebook or a file.
 *
 * ```ts
 * import { linePlotSpec, renderSvg } from "@troupe/parallel/plot";
 *
 * const spec = linePlotSpec(
 *   [{ engineId: 0, points: [[0, 1], [1, 3]] }],
 *   { title: "i", x: "seconds", y: "i" },
 * );
 * console.log((await renderSvg(spec)).startsWith("<svg"));
 * ```
 *
 * @module
 */

export {
  type EngineSeries,
  type Line,
  type LinePlotLabels,
  linePlotSpec,
  renderSvg,
  seedPlotSpec,
  type VegaLiteSpec,
} from "./plot.ts";
