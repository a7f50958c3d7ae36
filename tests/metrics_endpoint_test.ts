/**
 * `/metrics` and the live charts as a scraper and a page read them, over
 * real sockets: a client's dashboard, a connected client's whose
 * controller went away (503, said why, at once), and the dashboard a
 * controller serves itself (`startController({ dashboard })`, and `troupe
 * start --dashboard-port` with its address in the state file and in
 * `troupe list`).
 */

import assert from "node:assert/strict";
import { Client } from "../mod.ts";
import { startController } from "../controller/controller.ts";
import { liveWorkerCount } from "../transport/worker_link.ts";
import {
  readState,
  troupe,
  withCluster,
  withTroupeHome,
} from "./controller_rig.ts";
import { isLive } from "./cluster_services.ts";
import {
  errorOf,
  guard,
  until,
  withClient,
  withController,
} from "./helpers.ts";

const quiet = { log: () => {} };

/** GETs `url` to its end (bounded); the status, content type and body. */
async function scrape(
  url: string | URL,
  init: RequestInit = {},
): Promise<{ status: number; type: string | null; body: string }> {
  const answer = await fetch(url, {
    ...init,
    signal: AbortSignal.timeout(15_000),
  });
  return {
    status: answer.status,
    type: answer.headers.get("content-type"),
    body: await answer.text(),
  };
}

/** The first `state` message of `/events` that `good` accepts (10 s). */
async function stateWhere(
  url: string,
  good: (state: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const reader = response.body!.pipeThrough(new TextDecoderStream())
    .getReader();
  let buffer = "";
  try {
    while (true) {
      const { value, done } = await reader.read();
      assert.ok(!done, "the stream ended");
      buffer += value;
      const events = buffer.split("\n\n");
      buffer = events.pop()!;
      for (const event of events) {
        const data = event.split("\n").find((l) => l.startsWith("data: "));
        const state = data && JSON.parse(data.slice(6));
        if (state && good(state)) return state;
      }
    }
  } finally {
    await reader.cancel();
  }
}

interface MetricChartSeen {
  key: string;
  title: string;
  latest: string;
  svg: string;
}

Deno.test("a client's dashboard serves /metrics as Prometheus text, and its page's state carries the three live charts", async () => {
  await withClient({ workers: 2 }, async (client) => {
    const dashboard = await client.serveDashboard({ updateMs: 50 });
    try {
      const metrics = await scrape(new URL("metrics", dashboard.url));
      assert.equal(metrics.status, 200, metrics.body);
      assert.equal(metrics.type, "text/plain; version=0.0.4; charset=utf-8");
      assert.match(metrics.body, /^# HELP troupe_engines /m);
      assert.match(metrics.body, /^# TYPE troupe_engines gauge$/m);
      assert.match(
        metrics.body,
        /^troupe_engines\{state="idle",kind="worker"\} 2$/m,
      );
      assert.match(
        metrics.body,
        /^troupe_engines\{state="busy",kind="worker"\} 0$/m,
      );

      const state = await stateWhere(
        new URL("events", dashboard.url).href,
        (s) =>
          ((s.metrics as MetricChartSeen[])[0]?.svg ?? "").includes("<path"),
      );
      const charts = state.metrics as MetricChartSeen[];
      assert.deepEqual(charts.map((c) => c.key), [
        "tasks_per_second",
        "queued",
        "engine_heap",
      ]);
      for (const chart of charts) assert.match(chart.svg, /^<svg /);
      assert.match(charts[0].latest, /^\d+\.\d\/s$/);
      assert.equal(charts[1].latest, "0");
    } finally {
      await dashboard.close();
    }
  });
});

Deno.test("a connected client's dashboard answers a scrape 503 saying the controller cannot be reached once it is gone", async () => {
  let url: URL | undefined;
  let client: Client | undefined;
  try {
    await withController(
      { id: "metrics-gone", engines: { workers: 1 } },
      async (controller) => {
        client = await guard(
          Client.connect(controller.clientInfo, quiet),
          "Client.connect",
        );
        const dashboard = await client.serveDashboard();
        url = new URL("metrics", dashboard.url);
        const up = await scrape(url);
        assert.equal(up.status, 200, up.body);
        assert.match(
          up.body,
          /^troupe_engines\{state="idle",kind="worker"\} 1$/m,
        );
      },
    );
    const gone = await scrape(url!);
    assert.equal(gone.status, 503);
    assert.match(
      gone.body,
      /^troupe dashboard: the controller metrics-gone cannot be reached \(.+\): this dashboard's client lost its connection, so it has no metrics to give; .+\n$/,
    );
    // Its tasks' advice is not a scrape's.
    assert.doesNotMatch(gone.body, /run on there/);
    assert.equal(gone.type, "text/plain; charset=utf-8");
  } finally {
    await client?.close();
  }
});

Deno.test("startController({ dashboard }) serves the core's dashboard: page, events and /metrics of every client with its client links' frames and troupe_clients; stop() closes it", async () => {
  let url: string | undefined;
  await withController({
    id: "controller-dashboard",
    engines: { workers: 2 },
    dashboard: { updateMs: 50 },
  }, async (controller) => {
    url = controller.dashboardUrl;
    assert.match(url!, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await scrape(url!);
    assert.equal(page.status, 200);
    assert.match(page.body, /<title>troupe dashboard<\/title>/);
    const client = await guard(
      Client.connect(controller.clientInfo, quiet),
      "Client.connect",
    );
    try {
      assert.deepEqual(await client.view().applyAsync(() => 1), [1, 1]);
      // One task a frame each way (a map would batch them).
      const lv = client.loadBalancedView();
      for (let i = 0; i < 20; i++) await lv.applyAsync((x: number) => x, i);
      // The client link is the controller's busiest: its frames count.
      const attached = await scrape(new URL("metrics", url));
      assert.match(attached.body, /^troupe_clients 1$/m);
      const frames = (direction: string) =>
        Number(
          attached.body.match(
            new RegExp(
              `^troupe_wire_frames_total\\{direction="${direction}"\\} (\\d+)$`,
              "m",
            ),
          )?.[1],
        );
      assert.ok(frames("in") >= 20, `${frames("in")} frames in`);
      assert.ok(frames("out") >= 20, `${frames("out")} frames out`);
    } finally {
      await client.close();
    }
    await until(
      async () =>
        /^troupe_clients 0$/m.test(
          (await scrape(new URL("metrics", url))).body,
        ),
      "the detached client to leave troupe_clients",
      10_000,
    );
    const state = await stateWhere(new URL("events", url).href, () => true);
    assert.deepEqual(
      (state.engines as { engineId: number }[]).map((e) => e.engineId),
      [0, 1],
    );
    const metrics = await scrape(new URL("metrics", url));
    assert.equal(metrics.status, 200);
    assert.match(
      metrics.body,
      /^troupe_engines\{state="idle",kind="worker"\} 2$/m,
    );
  });
  await assert.rejects(fetch(url!), TypeError, "the dashboard stopped with it");
});

Deno.test("a controller's dashboard option is checked before anything starts, and a taken port is said so with nothing left running", async () => {
  const misspelt = await errorOf(
    startController({
      id: "d1",
      engines: { workers: 0 },
      dashboard: { prot: 0 } as never,
      log: () => {},
    }),
  );
  assert.ok(misspelt instanceof TypeError);
  assert.match(
    misspelt.message,
    /^unknown option "prot" in startController's dashboard \(did you mean "port"\?\)/,
  );
  const odd = await errorOf(
    startController({
      id: "d2",
      engines: { workers: 0 },
      dashboard: 8080 as never,
      log: () => {},
    }),
  );
  assert.ok(odd instanceof TypeError);
  assert.match(odd.message, /dashboard is true or the dashboard's options/);

  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const error = await errorOf(startController({
    id: "d3",
    engines: { workers: 1 },
    dashboard: { port: taken.addr.port },
    log: () => {},
  }));
  assert.ok(error instanceof Deno.errors.AddrInUse, String(error));
  assert.equal(liveWorkerCount(), 0, "no engine was left running");
  assert.match(
    error.message,
    new RegExp(
      `the dashboard cannot bind 127\\.0\\.0\\.1:${taken.addr.port}: something else listens there`,
    ),
  );
});

Deno.test("troupe start --dashboard-port 0: the dashboard's address is in what start prints, the state file and troupe list, and troupe stop closes it", async () => {
  await withTroupeHome(async (home) => {
    let url: string | undefined;
    await withCluster(
      home,
      "dash",
      ["--workers", "1", "--dashboard-port", "0"],
      async ({ state, said }) => {
        url = state.dashboard;
        assert.match(url!, /^http:\/\/127\.0\.0\.1:\d+\/$/);
        assert.ok(said.includes(`; dashboard ${url};`), said);
        assert.equal(state.config["dashboard-port"], 0);
        const metrics = await scrape(new URL("metrics", url));
        assert.equal(metrics.status, 200, metrics.body);
        assert.match(
          metrics.body,
          /^troupe_engines\{state="idle",kind="worker"\} 1$/m,
        );
        const listed = await troupe(home, ["list", "--json"]);
        assert.equal(listed.code, 0, listed.stderr);
        assert.equal(JSON.parse(listed.stdout)[0].dashboard, url);
        const table = await troupe(home, ["list"]);
        assert.match(table.stdout, /DASHBOARD/);
        assert.ok(table.stdout.includes(url!), table.stdout);
        assert.equal((await readState(home, "dash")).dashboard, url);
      },
    );
    await assert.rejects(fetch(url!), TypeError, "troupe stop closed it");
  });
});

Deno.test("troupe start --dashboard-host 0.0.0.0: the state file's address carries the token, which /metrics takes as a bearer header; after a kill -9 the same address and token work again", async () => {
  await withTroupeHome(async (home) => {
    await withCluster(home, "dash-off", [
      "--workers",
      "0",
      "--dashboard-host",
      "0.0.0.0",
    ], async (cluster) => {
      const { state } = cluster;
      const url = new URL(state.dashboard!);
      const token = url.searchParams.get("token");
      assert.match(token ?? "", /^[0-9a-f]{64}$/, state.dashboard);
      assert.notEqual(
        url.hostname,
        "0.0.0.0",
        "an address to dial, not the wildcard",
      );
      const at = `http://127.0.0.1:${url.port}/metrics`;
      const refused = await scrape(at);
      assert.equal(refused.status, 403);
      const scraped = await scrape(at, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(scraped.status, 200, scraped.body);
      assert.match(scraped.body, /# TYPE troupe_engines gauge/);
      // The address as it was given, by this host's name, the way a
      // Prometheus target names it.
      const page = await fetch(url);
      const cookie = page.headers.get("set-cookie")?.split(";")[0];
      assert.equal(page.status, 200, await page.text());
      const byName = `http://${url.host}/metrics`;
      assert.equal(url.hostname, Deno.hostname().toLowerCase());
      for (
        const headers of [
          { authorization: `Bearer ${token}` },
          { cookie: cookie! },
        ] as Record<string, string>[]
      ) {
        const named = await scrape(byName, { headers });
        assert.equal(named.status, 200, named.body);
      }
      assert.equal((await scrape(byName)).status, 403);

      Deno.kill(state.pid, "SIGKILL");
      await until(
        async () => !(await isLive(state.pid)),
        "the controller to die",
        30_000,
      );
      const after = await cluster.restart();
      cluster.alsoKill(after.pid);
      assert.equal(after.dashboard, state.dashboard, "same port and token");
      const again = await scrape(at, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(again.status, 200, again.body);
    });
  });
});
