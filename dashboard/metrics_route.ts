/**
 * `GET /metrics`: the core's metric families in the Prometheus text
 * format, read when the scrape comes. A core that cannot say (a connected
 * client's controller gone) answers 503 with the reason within a bound,
 * so that a scrape fails fast and says why rather than hanging.
 *
 * @module
 */

import { within } from "../actors/async.ts";
import type { MetricFamily } from "../observe/metrics.ts";
import { messageOf } from "../protocol/errors.ts";
import { ControllerLostError } from "../protocol/client_errors.ts";
import {
  PROMETHEUS_CONTENT_TYPE,
  prometheusText,
} from "../observe/prometheus_text.ts";

/**
 * How long a scrape waits for the core's figures, in ms: under
 * Prometheus' default scrape timeout (10 s), so that its target shows
 * this answer's reason, not its own timeout.
 *
 * @example
 * ```ts
 * import { METRICS_TIMEOUT_MS } from "./metrics_route.ts";
 * console.log(METRICS_TIMEOUT_MS); // 5000
 * ```
 */
export const METRICS_TIMEOUT_MS = 5_000;

/**
 * How long the scrape `request` may wait for the core's figures, in ms:
 * `max`, or less when the scraper says it gives up sooner (Prometheus
 * sends its `scrape_timeout` as `X-Prometheus-Scrape-Timeout-Seconds`):
 * a quarter of a second under it, so that the 503 and its reason reach
 * the target page before Prometheus' own "context deadline exceeded".
 *
 * @example
 * ```ts
 * import { scrapeTimeoutMs } from "./metrics_route.ts";
 * const scrape = new Request("http://127.0.0.1/metrics", {
 *   headers: { "x-prometheus-scrape-timeout-seconds": "1" },
 * });
 * console.log(scrapeTimeoutMs(scrape)); // 750
 * console.log(scrapeTimeoutMs(new Request("http://127.0.0.1/metrics"))); // 5000
 * ```
 */
export function scrapeTimeoutMs(
  request: Request,
  max: number = METRICS_TIMEOUT_MS,
): number {
  const header = request.headers.get("x-prometheus-scrape-timeout-seconds");
  const seconds = Number(header);
  if (header === null || !Number.isFinite(seconds) || seconds <= 0) return max;
  // Even a very short scrape timeout leaves the core a moment to answer.
  return Math.min(max, Math.max(50, Math.round(seconds * 1000 - 250)));
}

/**
 * The answer to a scrape: `read()`'s families as Prometheus text, or a
 * 503 that says why there are none. `headers` go on either answer.
 *
 * @example
 * ```ts
 * import { metricsResponse } from "./metrics_route.ts";
 * const answer = await metricsResponse(() => Promise.resolve([]));
 * console.log(answer.status); // 200
 * const failed = await metricsResponse(() => Promise.reject(new Error("gone")));
 * console.log(failed.status, await failed.text());
 * // 503 troupe dashboard: the cluster's metrics could not be read: gone
 * ```
 */
export async function metricsResponse(
  read: () => Promise<MetricFamily[]>,
  headers: Record<string, string> = {},
  timeoutMs: number = METRICS_TIMEOUT_MS,
): Promise<Response> {
  let why: string;
  try {
    const answer = await within(read(), timeoutMs);
    if (answer.done) {
      return new Response(prometheusText(answer.value), {
        headers: {
          ...headers,
          "content-type": PROMETHEUS_CONTENT_TYPE,
          "cache-control": "no-store",
        },
      });
    }
    why = `the cluster did not give its metrics within ${timeoutMs} ms`;
  } catch (error) {
    why = error instanceof ControllerLostError
      ? lostController(error)
      : `the cluster's metrics could not be read: ${messageOf(error)}`;
  }
  return new Response(`troupe dashboard: ${why}\n`, {
    status: 503,
    headers: {
      ...headers,
      "content-type": "text/plain; charset=utf-8",
      "cache-control": "no-store",
    },
  });
}

/**
 * A connected client that lost its controller has no figures to give:
 * the error's own advice is about its tasks, which a scrape has none of,
 * and whether the controller still runs this side cannot tell.
 */
function lostController(error: ControllerLostError): string {
  return `the controller ${error.controller} cannot be reached ` +
    `(${error.why}): this dashboard's client lost its connection, so it ` +
    "has no metrics to give; if the controller still runs, scrape its own " +
    "dashboard (troupe start --dashboard-port) or serve one from a new " +
    `Client.connect(${JSON.stringify(error.controller)})`;
}
