/**
 * The cluster core's metrics (`Cluster.metrics()`, `/metrics`): one
 * registry per core, its families made once, each counted where the core
 * already hears the event, and the figures a snapshot holds (engines by
 * state) set from `engines()` at scrape.
 *
 * @module
 */

import { type MetricFamily, MetricsRegistry } from "../observe/metrics.ts";
import type { EngineStatus } from "./cluster.ts";
import type { EngineState } from "./engine_types.ts";
import type { EngineKind } from "./supervisor.ts";

/** Every state an engine can be in: each is a sample, 0 when none. */
const STATES: readonly EngineState[] = [
  "starting",
  "idle",
  "busy",
  "draining",
  "restarting",
  "stopped",
];

/**
 * One core's metrics.
 *
 * @example
 * ```ts
 * import { CoreMetrics } from "./core_metrics.ts";
 * const metrics = new CoreMetrics(() => []);
 * const engines = metrics.families().find((f) => f.name === "troupe_engines");
 * console.log(engines?.samples.length); // 0
 * ```
 */
export class CoreMetrics {
  readonly registry: MetricsRegistry = new MetricsRegistry();

  constructor(engines: () => EngineStatus[]) {
    const byState = this.registry.gauge(
      "troupe_engines",
      "Engines by state and kind (every state of each kind present).",
      ["state", "kind"],
    );
    this.registry.collect(() => {
      byState.reset();
      const all = engines();
      const kinds = new Set<EngineKind>(all.map((e) => e.kind));
      for (const kind of kinds) {
        for (const state of STATES) byState.set({ state, kind }, 0);
      }
      for (const engine of all) {
        byState.inc({ state: engine.state, kind: engine.kind });
      }
    });
  }

  /** Every family as plain data, the collected ones as of now. */
  families(): MetricFamily[] {
    return this.registry.families();
  }
}
