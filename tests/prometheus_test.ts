/**
 * A real Prometheus (Debian's `prometheus`) scrapes a test cluster's
 * dashboard (Worker and process engines, its token as `?token=` through
 * `params`) and a controller's own dashboard (its token as a bearer
 * header), and the values it scraped are read back through its HTTP API;
 * both `/metrics` bodies pass `promtool check metrics` with no lint.
 * Without `prometheus` the test skips itself, unless `CI` is set: there it
 * fails, so that CI cannot silently lose it.
 */

import assert from "node:assert/strict";
import { Client, publishData, RemoteError } from "../mod.ts";
import {
  guard,
  range,
  runTestsApart,
  skipUnless,
  until,
  withClient,
  withController,
  withTempDir,
} from "./helpers.ts";
import {
  PROMETHEUS,
  PROMTOOL,
  promtoolCheck,
  untilValue,
  withPrometheus,
} from "./prometheus_rig.ts";

const missing = PROMETHEUS === undefined
  ? "no prometheus on PATH"
  : PROMTOOL === undefined
  ? "no promtool on PATH"
  : undefined;
// In CI a missing Prometheus is a failure, not a skip.
const skip = skipUnless(
  "prometheus_test.ts",
  Deno.env.get("CI") ? undefined : missing,
  "apt-get install prometheus installs both (.ci/run does)",
);

const TOKEN = "prometheus-test-token-0123456789";
const CONTROLLER_TOKEN = "controller-test-token-0123456789";

/** `/metrics` of a dashboard at `url`, its token sent as `headers` say. */
async function metricsOf(url: string, init: RequestInit = {}): Promise<string> {
  const answer = await fetch(url, {
    ...init,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await answer.text();
  assert.equal(answer.status, 200, text);
  return text;
}

function scrapeConfig(dashboard: URL, controller: URL): string {
  return `global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: dashboard
    metrics_path: /metrics
    params:
      token: ["${TOKEN}"]
    static_configs:
      - targets: ["${dashboard.host}"]
  - job_name: controller
    metrics_path: /metrics
    authorization:
      credentials: "${CONTROLLER_TOKEN}"
    static_configs:
      - targets: ["${controller.host}"]
`;
}

const DONE = 6;
const FAILED = 2;

Deno.test({
  name: "a real Prometheus scrapes a client's dashboard and a controller's, " +
    "and reads back the tasks, engines, a histogram and publications" +
    skip.because,
  ignore: skip.ignore,
  async fn() {
    if (missing !== undefined) {
      assert.fail(
        `${missing}, and CI is set: apt-get install prometheus (.ci/run does)`,
      );
    }
    // The controller's engine is a process: the client's Worker engines
    // are gone when the client closes, which withClient checks.
    await withTempDir((dir) =>
      withController({
        id: "prometheus",
        engines: { workers: 0, processes: 1 },
        dashboard: { token: CONTROLLER_TOKEN },
      }, (controller) =>
        withClient({ workers: 1, processes: 1 }, async (client) => {
          const dashboard = await client.serveDashboard({ token: TOKEN });
          const config = scrapeConfig(
            new URL(dashboard.url),
            new URL(controller.dashboardUrl!),
          );
          await withPrometheus(dir, config, async (prometheus) => {
            await until(
              async () => {
                const answer = await fetch(
                  `${prometheus.base}/api/v1/targets`,
                  {
                    signal: AbortSignal.timeout(5_000),
                  },
                );
                const { data } = await answer.json();
                const targets = data.activeTargets as {
                  health: string;
                  labels: { job: string };
                }[];
                return targets.length === 2 &&
                  targets.every((t) =>
                    t.health === "up"
                  );
              },
              "both targets to be up in prometheus",
              30_000,
            );

            // The embedded client: DONE successes and FAILED failures,
            // load-balanced, and one publication on each engine.
            const lv = client.loadBalancedView();
            const results = await guard(
              Promise.allSettled(
                range(DONE + FAILED).map((i) =>
                  lv.applyAsync(
                    (i: number, done: number) => {
                      if (i >= done) throw new Error(`task ${i} fails`);
                      return i;
                    },
                    i,
                    DONE,
                  )
                ),
              ),
              "the load-balanced tasks",
              30_000,
            );
            assert.equal(
              results.filter((r) => r.status === "fulfilled").length,
              DONE,
            );
            for (const r of results.filter((r) => r.status === "rejected")) {
              assert.ok(
                (r as PromiseRejectedResult).reason instanceof RemoteError,
              );
            }
            await guard(
              client.view().applyAsync(() => {
                publishData({ step: 1, payload: "x".repeat(100) });
                return 1;
              }),
              "the publishing tasks",
              30_000,
            );
            // The controller: tasks of a connected client.
            const connected = await guard(
              Client.connect(controller.clientInfo, { log: () => {} }),
              "Client.connect",
            );
            try {
              await guard(
                connected.loadBalancedView().mapAsync((x: number) => x + 1, [
                  1,
                  2,
                  3,
                ]),
                "the connected client's tasks",
                30_000,
              );
            } finally {
              await connected.close();
            }

            await untilValue(
              prometheus,
              `troupe_tasks_done_total{job="dashboard",view="balanced"}`,
              DONE,
            );
            await untilValue(
              prometheus,
              `troupe_tasks_done_total{job="dashboard",view="direct"}`,
              2,
            );
            await untilValue(
              prometheus,
              `troupe_tasks_failed_total{job="dashboard",view="balanced",error="RemoteError"}`,
              FAILED,
            );
            await untilValue(
              prometheus,
              `troupe_task_duration_seconds_count{job="dashboard",view="balanced"}`,
              DONE + FAILED,
            );
            await untilValue(
              prometheus,
              `troupe_engines{job="dashboard",state="idle",kind="worker"}`,
              1,
            );
            await untilValue(
              prometheus,
              `troupe_engines{job="dashboard",state="idle",kind="process"}`,
              1,
            );
            await untilValue(
              prometheus,
              `sum(troupe_publications_total{job="dashboard"})`,
              2,
            );
            for (const engine of ["0", "1"]) {
              await untilValue(
                prometheus,
                `troupe_publications_total{job="dashboard",engine="${engine}"}`,
                1,
              );
            }
            await untilValue(
              prometheus,
              `sum(troupe_tasks_submitted_total{job="controller"})`,
              3,
            );
            await untilValue(
              prometheus,
              `sum(troupe_tasks_done_total{job="controller"})`,
              3,
            );
            await untilValue(
              prometheus,
              `troupe_engines{job="controller",state="idle",kind="process"}`,
              1,
            );

            for (
              const [what, text] of [
                [
                  "the client's dashboard",
                  await metricsOf(
                    `${new URL("metrics", dashboard.url)}?token=${TOKEN}`,
                  ),
                ],
                [
                  "the controller's dashboard",
                  await metricsOf(
                    new URL("metrics", controller.dashboardUrl!).href,
                    {
                      headers: { authorization: `Bearer ${CONTROLLER_TOKEN}` },
                    },
                  ),
                ],
              ]
            ) {
              const checked = await promtoolCheck(text);
              assert.equal(checked.code, 0, `${what}: ${checked.said}`);
              assert.equal(checked.said, "", `${what}: promtool's lint`);
            }
          });
        }))
    );
  },
});

Deno.test("without prometheus the test skips itself and says how to install it, unless CI is set: then it fails", async () => {
  // No folder of PATH has prometheus.
  const run = (ci: string) =>
    runTestsApart("prometheus_test.ts", "a real Prometheus", {
      PATH: "/nonexistent",
      CI: ci,
    });
  const skipped = await run("");
  assert.equal(skipped.code, 0, skipped.all);
  assert.ok(
    skipped.all.includes(
      "prometheus_test.ts: skipped, no prometheus on PATH; apt-get install " +
        "prometheus installs both",
    ),
    skipped.all,
  );
  assert.match(skipped.out, /0 passed \| 0 failed \| 1 ignored/);
  const failed = await run("true");
  assert.equal(failed.code, 1, failed.all);
  assert.match(
    failed.all,
    /no prometheus on PATH, and CI is set: apt-get install prometheus/,
  );
});
