/**
 * The dashboards a client serves, which close with it.
 *
 * @module
 */

import type { Cluster, MetricFamily } from "../cluster/cluster.ts";
import {
  type Dashboard,
  type DashboardOptions,
  type DashboardSource,
  serveDashboard,
} from "../dashboard/dashboard.ts";
import { metricsOf } from "./client_metrics.ts";
import { requireListenPermission } from "./permissions.ts";

/**
 * Serves dashboards of one cluster and keeps those still open, so that
 * the client's `close()` closes them.
 *
 * @example
 * ```ts
 * import { Client } from "@troupe/parallel";
 * await using client = await Client.start({ workers: 0 });
 * const dashboard = await client.serveDashboard({ port: 0 });
 * console.log(dashboard.url.startsWith("http://127.0.0.1:")); // true
 * await dashboard.close();
 * ```
 */
export class ClientDashboards {
  #open = new Set<Dashboard>();

  /**
   * Serves a dashboard of `cluster`, whose metrics have the client's own
   * (`client`: its tracing's counters) after the core's; its `close`
   * forgets it here.
   */
  async serve(
    cluster: Cluster,
    options: DashboardOptions,
    client?: { families(): MetricFamily[] },
  ): Promise<Dashboard> {
    requireListenPermission(options.hostname ?? "127.0.0.1", "the dashboard");
    const source: DashboardSource = client
      ? {
        get registry() {
          return cluster.registry;
        },
        engines: () => cluster.engines(),
        onEngineEvent: (listener) => cluster.onEngineEvent(listener),
        metrics: () => metricsOf(cluster, false, client),
      }
      : cluster;
    const dashboard = await serveDashboard(source, options);
    this.#open.add(dashboard);
    return {
      url: dashboard.url,
      close: () => {
        this.#open.delete(dashboard);
        return dashboard.close();
      },
    };
  }

  /** Closes every dashboard still open. */
  async close(): Promise<void> {
    await Promise.all([...this.#open].map((dashboard) => dashboard.close()));
  }
}
