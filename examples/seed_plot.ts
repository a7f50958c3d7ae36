/**
 * The seed notebook's plot, for the examples: see `plot/plot.ts`, which
 * the dashboard shares.
 *
 * @module
 */

export {
  type EngineSeries,
  renderSvg,
  seedPlotSpec,
  type VegaLiteSpec,
} from "../plot/mod.ts";
