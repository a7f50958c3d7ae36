/**
 * `client.metrics()` and `client.metricsText()`: the cluster core's
 * metrics (a connected client's are its controller's, of every client),
 * as plain data or as a Prometheus text snapshot.
 *
 * @module
 */

import type { Cluster, MetricFamily } from "../cluster/cluster.ts";
import { prometheusText } from "../observe/prometheus_text.ts";
import { ClientClosedError } from "../protocol/errors.ts";

/**
 * The metrics of `cluster`; refused once the client is closed.
 *
 * @example
 * ```ts
 * import { Client } from "@troupe/parallel";
 * await using client = await Client.start({ workers: 1 });
 * const families = await client.metrics();
 * console.log(families.some((f) => f.name === "troupe_engines")); // true
 * ```
 */
export function metricsOf(
  cluster: Cluster,
  closed: boolean,
): Promise<MetricFamily[]> {
  if (closed) {
    return Promise.reject(new ClientClosedError({ what: "read the metrics" }));
  }
  return cluster.metrics();
}

/**
 * The metrics of `cluster` in the Prometheus text format.
 *
 * @example
 * ```ts
 * import { Client } from "@troupe/parallel";
 * await using client = await Client.start({ workers: 1 });
 * await client.view(0).applyAsync(() => 1);
 * const text = await client.metricsText();
 * console.log(text.includes('troupe_tasks_done_total{view="direct"} 1')); // true
 * ```
 */
export async function metricsTextOf(
  cluster: Cluster,
  closed: boolean,
): Promise<string> {
  return prometheusText(await metricsOf(cluster, closed));
}
