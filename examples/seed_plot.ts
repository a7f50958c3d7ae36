/**
 * The seed notebook's plot, for the examples: see `client/plot.ts`, which
 * the dashboard shares.
 *
 * @module
 */

export {
  type EngineSeries,
  renderSvg,
  seedPlotSpec,
  type VegaLiteSpec,
} from "../client/plot.ts";
