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
 * The metrics of `cluster`, then the client's own (`own`: its tracing's
 * counters); refused once the client is closed.
 *
 * @example
 * ```ts
 * import { Client } from "@troupe/parallel";
 * await using client = await Client.start({ workers: 1 });
 * const families = await client.metrics();
 * console.log(families.some((f) => f.name === "troupe_engines")); // true
 * ```
 */
export async function metricsOf(
  cluster: Cluster,
  closed: boolean,
  own?: { families(): MetricFamily[] },
): Promise<MetricFamily[]> {
  if (closed) throw new ClientClosedError({ what: "read the metrics" });
  const core = await cluster.metrics();
  return own ? [...core, ...own.families()] : core;
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
  own?: { families(): MetricFamily[] },
): Promise<string> {
  return prometheusText(await metricsOf(cluster, closed, own));
}
