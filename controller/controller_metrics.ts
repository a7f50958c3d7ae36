/**
 * The controller's own figures, beside its core's: the frames and bytes
 * of its client connections and the clients it dropped, under the same
 * names as the core's engine connections (`troupe_wire_*_total`,
 * `troupe_connections_dropped_total`), summed into the core's families in
 * the `metrics` answer and on the controller's dashboard; and the clients
 * attached now (`troupe_clients`), which only a controller has.
 *
 * @module
 */

import {
  mergeFamilies,
  type MetricFamily,
  MetricsRegistry,
} from "../observe/metrics.ts";
import {
  type DropCause,
  WireFigures,
  WireTotals,
} from "../transport/wire_counts.ts";

/**
 * A controller's client-side figures.
 *
 * @example
 * ```ts
 * import { ControllerMetrics } from "./controller_metrics.ts";
 * const metrics = new ControllerMetrics(() => 2);
 * metrics.dropped("heartbeat");
 * const merged = metrics.joinedTo([]);
 * console.log(merged.map((f) => f.name));
 * // [ "troupe_wire_frames_total", "troupe_wire_bytes_total", "troupe_connections_dropped_total", "troupe_clients" ]
 * ```
 */
export class ControllerMetrics {
  /** The client connections' frames and bytes, live and ended. */
  readonly wire: WireTotals = new WireTotals();
  #registry = new MetricsRegistry();
  #wire = new WireFigures(this.#registry, this.wire);

  /** `clients` counts the clients attached now, read at each scrape. */
  constructor(clients: () => number) {
    const attached = this.#registry.gauge(
      "troupe_clients",
      "Clients attached to this controller now.",
      [],
    );
    this.#registry.collect(() => {
      attached.set({}, clients());
    });
  }

  /** A client connection was dropped. */
  dropped(cause: DropCause): void {
    this.#wire.dropped(cause);
  }

  /** `core`'s families with these figures added to them. */
  joinedTo(core: MetricFamily[]): MetricFamily[] {
    return mergeFamilies(core, this.#registry.families());
  }
}
