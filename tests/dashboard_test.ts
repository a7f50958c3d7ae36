import assert from "node:assert/strict";
import {
  type Client,
  type Dashboard,
  type DashboardOptions,
  engineId,
  publishData,
} from "../mod.ts";
import { guard, runTestsApart, skipUnless, withClient } from "./helpers.ts";

// Debian's Chromium, unless TROUPE_CHROMIUM names another.
const CHROMIUM = Deno.env.get("TROUPE_CHROMIUM") ?? "/usr/bin/chromium";
const browser = skipUnless(
  "dashboard_test.ts",
  (() => {
    try {
      if (Deno.statSync(CHROMIUM).isFile) return undefined;
    } catch {
      // missing: said below
    }
    return `no Chromium at ${CHROMIUM}`;
  })(),
  "apt-get install chromium installs it (.ci/run does), or set " +
    "TROUPE_CHROMIUM to one",
);

/** Publishes `a` (an array), `i` (a number) and `note` (text) `steps` times. */
async function simulate(steps: number, everyMs: number) {
  for (let i = 0; i < steps; i++) {
    publishData({
      a: new Float64Array(20).map(Math.random),
      i,
      note: `step ${i}`,
    });
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return engineId;
}

/**
 * Headless Chromium, quiet: no network of its own, nothing but the test.
 * `evil.example` resolves to 127.0.0.1, as a rebinding attacker's name would.
 */
async function launchChromium() {
  const { chromium } = await import("playwright-core");
  return await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--host-resolver-rules=MAP evil.example 127.0.0.1",
    ],
  });
}

/** A page as large as the dashboard's screenshot (examples/dashboard.png). */
const VIEWPORT = { viewport: { width: 1400, height: 1000 } };

/**
 * Serves `client`'s dashboard with `options` and launches Chromium for
 * `body`; both are closed after it, whatever happens.
 */
async function withDashboardInChromium(
  client: Client,
  options: DashboardOptions,
  body: (
    dashboard: Dashboard,
    browser: Awaited<ReturnType<typeof launchChromium>>,
  ) => Promise<void>,
): Promise<void> {
  const dashboard = await client.serveDashboard(options);
  try {
    const browser = await launchChromium();
    try {
      await body(dashboard, browser);
    } finally {
      await browser.close();
    }
  } finally {
    await dashboard.close();
  }
}

/**
 * A two-engine client's dashboard (updates every 100 ms) open in a
 * Chromium page of `VIEWPORT`, for `body`.
 */
async function withDashboardPage(
  body: (
    page: Awaited<
      ReturnType<Awaited<ReturnType<typeof launchChromium>>["newPage"]>
    >,
    client: Client,
  ) => Promise<void>,
): Promise<void> {
  await withClient({ workers: 2 }, async (client) => {
    await withDashboardInChromium(
      client,
      { updateMs: 100 },
      async (dashboard, browser) => {
        const page = await browser.newPage(VIEWPORT);
        await page.goto(dashboard.url);
        await body(page, client);
      },
    );
  });
}

/** Reads Server-Sent Events until `done` says enough, or 10 s pass. */
async function readEvents(
  url: string,
  done: (states: Record<string, unknown>[]) => boolean,
): Promise<Record<string, unknown>[]> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  assert.equal(response.headers.get("content-type"), "text/event-stream");
  const reader = response.body!.pipeThrough(new TextDecoderStream())
    .getReader();
  const states: Record<string, unknown>[] = [];
  let buffer = "";
  try {
    while (!done(states)) {
      const { value, done: ended } = await reader.read();
      if (ended) break;
      buffer += value;
      const events = buffer.split("\n\n");
      buffer = events.pop()!;
      for (const event of events) {
        const data = event.split("\n").find((l) => l.startsWith("data: "));
        if (data) states.push(JSON.parse(data.slice(6)));
      }
    }
  } finally {
    await reader.cancel();
  }
  return states;
}

Deno.test("the dashboard serves its page and streams the engines' state", async (t) => {
  await withClient({ workers: 2 }, async (client) => {
    const dashboard = await client.serveDashboard({ updateMs: 50 });
    await t.step("binds 127.0.0.1 and serves the page", async () => {
      assert.match(dashboard.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      const page = await fetch(dashboard.url);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<title>troupe dashboard<\/title>/);
      const missing = await fetch(new URL("nope", dashboard.url));
      assert.equal(missing.status, 404);
      await missing.body?.cancel();
    });

    await t.step("streams plots as SVG, numbers over time, text", async () => {
      const ar = client.view().applyAsync(simulate, 15, 30);
      const states = await readEvents(
        new URL("events", dashboard.url).href,
        (states) =>
          states.filter((s) => (s.charts as unknown[]).length >= 2).length >= 3,
      );
      await ar;
      const last = states.at(-1)!;
      const engines = last.engines as { engineId: number; kind: string }[];
      assert.deepEqual(engines.map((e) => [e.engineId, e.kind]), [
        [0, "worker"],
        [1, "worker"],
      ]);
      const charts = states.flatMap((s) =>
        s.charts as { key: string; kind: string; svg?: string }[]
      );
      const a = charts.filter((c) => c.key === "a" && c.svg);
      assert.ok(a.length >= 2, "the array plot is sent as it changes");
      assert.equal(a[0].kind, "array");
      assert.notEqual(a[0].svg, a.at(-1)!.svg, "its data changed");
      assert.match(a.at(-1)!.svg!, /^<svg/);
      assert.match(a.at(-1)!.svg!, /engine: 1/);
      assert.ok(charts.some((c) => c.key === "i" && c.kind === "series"));
      const texts = last.texts as { key: string; text: string }[];
      assert.ok(
        texts.some((x) => x.key === "note" && /^step \d+$/.test(x.text)),
      );
    });

    await t.step("close() ends the server", async () => {
      await dashboard.close();
      await assert.rejects(fetch(dashboard.url));
    });
  });
});

Deno.test({
  name:
    "in a real browser, the plot changes and a killed engine dies and restarts" +
    browser.because,
  ignore: browser.ignore,
  async fn() {
    await withDashboardPage(async (page, client) => {
      const ar = client.view().applyAsync(simulate, 40, 50);
      const plot = page.locator('.chart[data-key="a"] svg');
      await plot.waitFor({ timeout: 10_000 });
      const first = await plot.innerHTML();
      // The page's code is given as text: it runs in the browser.
      await page.waitForFunction(
        `document.querySelector('.chart[data-key="a"] svg')?.innerHTML !== ${
          JSON.stringify(first)
        }`,
        undefined,
        { timeout: 10_000 },
      );
      await page.locator('.chart[data-key="i"] svg').waitFor();
      if (Deno.env.get("TROUPE_SCREENSHOT")) {
        await page.screenshot({ path: Deno.env.get("TROUPE_SCREENSHOT")! });
      }
      await ar;

      const crash = client.view(1).applyAsync(() => Deno.exit(3));
      await crash.then(() => {}, () => {});
      const events = page.locator("#events");
      await page.waitForFunction(
        `(() => {
            const log = document.getElementById("events")?.textContent ?? "";
            return /engine 1 died/.test(log) && /engine 1 restarted/.test(log);
          })()`,
        undefined,
        { timeout: 10_000 },
      );
      const log = await events.textContent() ?? "";
      assert.ok(
        log.indexOf("engine 1 died") < log.indexOf("engine 1 restarted"),
        log,
      );
      const state = page.locator('#engines tr[data-engine="1"] .state');
      await page.waitForFunction(
        `document.querySelector('#engines tr[data-engine="1"] .state')
            ?.textContent === "idle"`,
        undefined,
        { timeout: 10_000 },
      );
      assert.equal(await state.textContent(), "idle");
    });
  },
});

Deno.test({
  name: "Chromium shows the cluster's live charts (tasks/s, queued, engine " +
    "heap), and they move as tasks run" + browser.because,
  ignore: browser.ignore,
  async fn() {
    await withDashboardPage(async (page, client) => {
      const chart = (key: string) => `#metrics .metric[data-key="${key}"]`;
      for (const key of ["tasks_per_second", "queued", "engine_heap"]) {
        await page.locator(`${chart(key)} svg`).waitFor({
          timeout: 10_000,
        });
      }
      const before = await page.locator(`${chart("queued")} svg`)
        .innerHTML();
      // More tasks than engines, each a while: some wait, all finish.
      const lv = client.loadBalancedView({ highWaterMark: 1 });
      const tasks = Promise.all(
        Array.from(
          { length: 24 },
          () => lv.applyAsync(() => new Promise((r) => setTimeout(r, 150))),
        ),
      );
      const latest = (key: string) =>
        `document.querySelector('${chart(key)} .latest')?.textContent`;
      // The page's code is given as text: it runs in the browser.
      await page.waitForFunction(
        `Number(${latest("queued")}) > 0`,
        undefined,
        { timeout: 10_000 },
      );
      await page.waitForFunction(
        `Number.parseFloat(${latest("tasks_per_second")}) > 0`,
        undefined,
        { timeout: 10_000 },
      );
      await guard(tasks, "the load-balanced tasks", 30_000);
      await page.waitForFunction(
        `${latest("queued")} === "0"`,
        undefined,
        { timeout: 10_000 },
      );
      assert.notEqual(
        await page.locator(`${chart("queued")} svg`).innerHTML(),
        before,
        "the queue's line moved",
      );
      await page.waitForFunction(
        `/^0: [\\d.]+ MiB, 1: [\\d.]+ MiB$/.test(${latest("engine_heap")})`,
        undefined,
        { timeout: 10_000 },
      );
      // A line per engine, once each has two heartbeats' points.
      await page.waitForFunction(
        `document.querySelectorAll('${chart("engine_heap")} svg path')` +
          ".length === 2",
        undefined,
        { timeout: 10_000 },
      );
      if (Deno.env.get("TROUPE_SCREENSHOT")) {
        await page.screenshot({ path: Deno.env.get("TROUPE_SCREENSHOT")! });
      }
    });
  },
});

Deno.test({
  name: "Chromium opens a dashboard bound off loopback at the address it " +
    "printed, and is refused without its token, whatever the name" +
    browser.because,
  ignore: browser.ignore,
  async fn() {
    await withClient({ workers: 2 }, async (client) => {
      await withDashboardInChromium(client, {
        hostname: "0.0.0.0",
        updateMs: 100,
      }, async (dashboard, browser) => {
        // The printed address, reached on 127.0.0.1 (this test sends
        // nothing off this host).
        const printed = new URL(dashboard.url);
        assert.ok(printed.searchParams.has("token"), dashboard.url);
        printed.hostname = "127.0.0.1";
        const context = await browser.newContext();
        const page = await context.newPage();
        const refused = await page.goto(`http://127.0.0.1:${printed.port}/`);
        assert.equal(refused?.status(), 403);
        assert.match(await page.textContent("body") ?? "", /needs its token/);

        const opened = await page.goto(printed.href);
        assert.equal(opened?.status(), 200);
        // The page's own /events request carries the token as a cookie.
        await page.waitForFunction(
          `document.getElementById("status")?.textContent === "live" &&
            document.querySelectorAll("#engines tr[data-engine]").length === 2`,
          undefined,
          { timeout: 10_000 },
        );
        await guard(client.view().applyAsync(simulate, 3, 10), "simulate");
        await page.locator('.chart[data-key="a"] svg').waitFor({
          timeout: 10_000,
        });
        // A second page of the same browser context, without the token
        // in its URL, is let in by the cookie alone.
        const again = await context.newPage();
        try {
          const second = await again.goto(`http://127.0.0.1:${printed.port}/`);
          assert.equal(second?.status(), 200);
          // A name that resolves here but is not the dashboard's, as a
          // rebinding page would use: the cookie is kept for the name it
          // was set under, so without the token in its URL it is refused.
          printed.hostname = "evil.example";
          const bare = new URL(printed.href);
          bare.search = "";
          const rebound = await again.goto(bare.href);
          assert.equal(rebound?.status(), 403);
          assert.match(
            await again.textContent("body") ?? "",
            /needs its token/,
          );
          // The token itself is answered under any name (Prometheus, a
          // proxy, a port forward): a rebinding page cannot know it.
          const named = await again.goto(printed.href);
          assert.equal(named?.status(), 200);
        } finally {
          await again.close();
        }
      });
    });
  },
});

Deno.test("without Chromium the browser test is skipped and says why and how to install it", async () => {
  const missing = "/nonexistent/chromium";
  const { code, out, all } = await runTestsApart(
    "dashboard_test.ts",
    "in a real browser",
    { TROUPE_CHROMIUM: missing },
  );
  assert.equal(code, 0, all);
  // console.warn's line: deno test shows it as the file's pre-test output.
  assert.ok(
    all.includes(
      `dashboard_test.ts: skipped, no Chromium at ${missing}; ` +
        "apt-get install chromium installs it",
    ),
    all,
  );
  assert.ok(
    out.includes(`restarts (skipped: no Chromium at ${missing}) ... ignored`),
    out,
  );
  assert.match(out, /0 passed \| 0 failed \| 1 ignored/);
});
