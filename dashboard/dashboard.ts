/**
 * The live dashboard: an HTTP server on 127.0.0.1 that shows every engine's
 * state and plots what the engines publish, as it arrives. Who may read it
 * is dashboard_access.ts's business.
 *
 * @module
 */

import type { Cluster, EngineEvent } from "../cluster/cluster.ts";
import { checkToken, dashboardAccess } from "./dashboard_access.ts";
import { DASHBOARD_PAGE } from "./dashboard_page.ts";
import { DashboardState } from "./dashboard_state.ts";
import { MetricCharts, SAMPLE_MS } from "./metric_charts.ts";
import {
  METRICS_TIMEOUT_MS,
  metricsResponse,
  scrapeTimeoutMs,
} from "./metrics_route.ts";
import { checkOptions, type OptionNames } from "../protocol/check_options.ts";
import { within } from "../actors/async.ts";

/**
 * Where and how often the dashboard serves.
 *
 * @example
 * ```ts
 * import { Client, type DashboardOptions } from "@troupe/parallel";
 * const options: DashboardOptions = { port: 0, updateMs: 500 }; // 0: any free port
 * await using client = await Client.start({ workers: 1 });
 * const dashboard = await client.serveDashboard(options);
 * await dashboard.close();
 * ```
 */
export interface DashboardOptions {
  /**
   * Interface to bind; `127.0.0.1` unless told otherwise. Bound anywhere
   * but loopback, the dashboard needs a token (see `token`).
   */
  hostname?: string;
  /** Port; 0 (the default) picks a free one. */
  port?: number;
  /**
   * The secret a request must carry (`?token=` in the URL, then a cookie
   * the page keeps): at least 16 characters of A-Z, a-z, 0-9, - and _.
   * Given, it is required on loopback too; left out, a dashboard bound
   * anywhere but loopback makes a random one. `url` includes it.
   */
  token?: string;
  /**
   * How often the page is updated, in ms (default 250). Only the page is
   * throttled: engines publish at their own pace and nothing is lost, since
   * each update carries the newest state.
   */
  updateMs?: number;
}

const DASHBOARD_OPTIONS: OptionNames<DashboardOptions> = {
  hostname: true,
  port: true,
  token: true,
  updateMs: true,
};

/**
 * A running dashboard.
 *
 * @example
 * ```ts
 * import { Client } from "@troupe/parallel";
 * await using client = await Client.start({ workers: 2 });
 * const dashboard = await client.serveDashboard();
 * console.log(`open ${dashboard.url}`);
 * await dashboard.close();
 * ```
 */
export interface Dashboard {
  /**
   * The page's address, e.g. `http://127.0.0.1:8765/`, with its token when
   * it needs one (`http://0.0.0.0:8765/?token=…`).
   */
  readonly url: string;
  /** Stops the server and ends every page's stream. */
  close(): Promise<void>;
}

/**
 * What the dashboard reads of the cluster: its publications, each engine's
 * status, its engine events, and its metrics (`/metrics` and the live
 * charts).
 */
export type DashboardSource = Pick<
  Cluster,
  "registry" | "engines" | "onEngineEvent" | "metrics"
>;

/**
 * Starts the dashboard for `source`. Publications are taken in as they
 * come; every `updateMs` each open page gets the newest state (engines, the
 * plots as SVG, values that are not numbers, recent events) over
 * Server-Sent Events.
 *
 * @example
 * ```ts
 * import { serveDashboard } from "./dashboard.ts";
 * import type { DashboardSource } from "./dashboard.ts";
 * import { LocalCluster } from "../cluster/local_cluster.ts";
 * const cluster = new LocalCluster(); // a cluster core, with no engine yet
 * const source: DashboardSource = cluster; // a core is one
 * const dashboard = await serveDashboard(source, { port: 0 });
 * const scrape = await fetch(new URL("metrics", dashboard.url));
 * console.log(scrape.headers.get("content-type"));
 * // text/plain; version=0.0.4; charset=utf-8
 * await scrape.body?.cancel();
 * await dashboard.close();
 * await cluster.close();
 * ```
 */
export async function serveDashboard(
  source: DashboardSource,
  options: DashboardOptions = {},
): Promise<Dashboard> {
  checkDashboardOptions("serveDashboard options", options);
  const state = new DashboardState();
  const pages = new Set<ReadableStreamDefaultController<Uint8Array>>();
  const stop = new AbortController();
  const unsubscribe = source.onEngineEvent((event) => {
    state.event(describeEvent(event));
  });
  const feeding = (async () => {
    const updates = source.registry.updates({ signal: stop.signal });
    for await (const publication of updates) state.publish(publication);
  })();

  // Each chart's SVG goes to a page once per change: `sent` remembers what
  // the open pages have; a page that opens gets everything.
  const sent = new Map<string, string>();
  const message = async (full: boolean): Promise<Uint8Array> => {
    const charts = (await state.charts()).map((chart) => {
      const changed = sent.get(chart.key) !== chart.svg;
      sent.set(chart.key, chart.svg);
      return {
        key: chart.key,
        kind: chart.kind,
        svg: full || changed ? chart.svg : undefined,
      };
    });
    const json = JSON.stringify({
      engines: source.engines(),
      charts,
      texts: state.texts(),
      events: state.events,
      metrics: metricCharts.charts(),
    });
    return new TextEncoder().encode(`event: state\ndata: ${json}\n\n`);
  };
  const send = (
    to: Iterable<ReadableStreamDefaultController<Uint8Array>>,
    bytes: Uint8Array,
  ) => {
    for (const page of to) {
      try {
        page.enqueue(bytes);
      } catch {
        pages.delete(page); // The page went away.
      }
    }
  };
  // The charts' history is read once a second whether or not a page is
  // open (a page opened late shows the last two minutes), whatever the
  // number of pages: for a connected client one controller call a second,
  // never two at once, even past the bound: a call the bound gave up on
  // still waits for its answer (a RemoteCluster's own timeout), and no
  // other starts before it settles. A core that does not answer (a
  // controller gone or hung) leaves a gap, each second skipped, which the
  // charts draw as one.
  const metricCharts = new MetricCharts();
  let sampling: Promise<void> | undefined;
  let asking = false;
  const sample = () => {
    if (asking) return;
    asking = true;
    const call = source.metrics();
    call.catch(() => {}).then(() => asking = false);
    sampling = (async () => {
      try {
        const read = await within(call, METRICS_TIMEOUT_MS);
        if (read.done) metricCharts.take(read.value);
      } catch {
        // The page shows the engines' states, which say why.
      }
    })();
  };
  sample();
  const sampler = setInterval(sample, SAMPLE_MS);
  let sending: Promise<void> | undefined;
  const timer = setInterval(() => {
    // Engine states change without publications, so every tick sends; a
    // slow render skips ticks rather than piling them up.
    if (sending || pages.size === 0) return;
    sending = (async () => {
      try {
        send(pages, await message(false));
      } finally {
        sending = undefined;
      }
    })();
  }, options.updateMs ?? 250);

  const requested = options.hostname ?? "127.0.0.1";
  const stopFeeding = async () => {
    clearInterval(timer);
    clearInterval(sampler);
    unsubscribe();
    stop.abort();
    // The sample under way is given up within METRICS_TIMEOUT_MS (its call
    // is the source's to end: a closed RemoteCluster ends its own).
    await Promise.all([feeding, sending, sampling]);
  };
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: requested,
      port: options.port ?? 0,
      onListen: () => {},
    }, handle);
  } catch (error) {
    // A port taken: nothing of this dashboard is left running.
    await stopFeeding();
    if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    throw new Deno.errors.AddrInUse(
      `the dashboard cannot bind ${requested}:${options.port}: something ` +
        "else listens there; give it another port, or 0 for a free one",
      { cause: error },
    );
  }
  // Bound before any request can come: the handler runs from the next turn.
  const access = dashboardAccess(requested, server.addr, options.token);

  function handle(request: Request): Response | Promise<Response> {
    const refused = access.check(request);
    if (refused) return refused;
    const { pathname } = new URL(request.url);
    if (pathname === "/") {
      return new Response(DASHBOARD_PAGE, {
        headers: {
          "content-type": "text/html; charset=utf-8",
          ...access.headers(request),
        },
      });
    }
    if (pathname === "/metrics") {
      return metricsResponse(
        () => source.metrics(),
        access.headers(request),
        scrapeTimeoutMs(request),
      );
    }
    if (pathname !== "/events") {
      return new Response("not found", { status: 404 });
    }
    let page: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start: async (controller) => {
        page = controller;
        send([controller], await message(true));
        pages.add(controller);
      },
      cancel: () => {
        pages.delete(page);
      },
    });
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream",
        "cache-control": "no-store",
        ...access.headers(request),
      },
    });
  }

  let closing: Promise<void> | undefined;
  return {
    url: access.url,
    close() {
      closing ??= (async () => {
        const feedingStopped = stopFeeding();
        for (const page of pages) {
          try {
            page.close();
          } catch {
            // Closed by the page already.
          }
        }
        pages.clear();
        await Promise.all([server.shutdown(), feedingStopped]);
      })();
      return closing;
    },
  };
}

/**
 * Throws a `TypeError` that says what to change unless `options` are
 * dashboard options (`what` names them in the message): for those who
 * take them to serve later, such as a controller, so that a mistake fails
 * before anything starts.
 *
 * @example
 * ```ts
 * import { checkDashboardOptions } from "./dashboard.ts";
 * checkDashboardOptions("startController's dashboard", { port: 0 }); // passes
 * ```
 */
export function checkDashboardOptions(
  what: string,
  options: DashboardOptions,
): void {
  checkOptions(what, options, DASHBOARD_OPTIONS);
  if (options.token !== undefined) checkToken(options.token);
}

function describeEvent(event: EngineEvent): string {
  switch (event.type) {
    case "registered":
      return `engine ${event.engineId} registered`;
    case "died":
      return `engine ${event.engineId} died: ${event.reason}`;
    case "restarted":
      return `engine ${event.engineId} restarted (${event.restarts} restarts)`;
    case "gaveUp":
      return `engine ${event.engineId} given up: ${event.reason}`;
    case "draining":
      return `engine ${event.engineId} draining: ${event.reason}`;
    case "retired":
      return `engine ${event.engineId} retired: ${event.reason}`;
  }
}
