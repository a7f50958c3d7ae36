/**
 * Makes examples/dashboard.png, the README's picture of the dashboard:
 * four Worker engines run a stream of load-balanced tasks that publish
 * (bursts of 6 to 10 at a time, so the queue moves) for 100 s, so that the
 * live charts have history, then headless Chromium (playwright-core and
 * Debian's chromium, as tests/dashboard_test.ts uses them) takes the page.
 *
 *   deno run -A tests/dashboard_screenshot.ts [out.png]
 *
 * Not a test: it takes two minutes and writes a file.
 *
 * @module
 */

import { Client, publishData } from "../mod.ts";

const CHROMIUM = Deno.env.get("TROUPE_CHROMIUM") ?? "/usr/bin/chromium";
const OUT = Deno.args[0] ??
  new URL("../examples/dashboard.png", import.meta.url).pathname;
const RUN_MS = 100_000;

// Runs on the engines, shipped by its source: publishData is in scope
// there; the import is for the type checker.
async function step(n: number): Promise<number> {
  for (let k = 0; k < 3; k++) {
    publishData({
      a: new Float64Array(20).map(() => Math.random()),
      i: n + k / 3,
    });
    await new Promise((resolve) =>
      setTimeout(resolve, 60 + 60 * Math.random())
    );
  }
  return n;
}

await using client = await Client.start({ workers: 4, log: () => {} });
const dashboard = await client.serveDashboard({ port: 0 });
try {
  const lv = client.loadBalancedView();
  const end = Date.now() + RUN_MS;
  let round = 0;
  for (; Date.now() < end; round++) {
    const burst = 6 + Math.round(4 * Math.sin(round / 4));
    await lv.mapAsync(step, Array.from({ length: burst }, () => round));
  }
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
  });
  try {
    const page = await browser.newPage({
      viewport: { width: 1400, height: 1000 },
    });
    // The last bursts keep running while the page comes up.
    const tail = (async () => {
      for (const last = round + 12; round < last; round++) {
        await lv.mapAsync(step, Array.from({ length: 8 }, () => round));
      }
    })();
    await page.goto(dashboard.url, { timeout: 15_000 });
    await page.waitForTimeout(3_000);
    await page.screenshot({ path: OUT });
    await tail;
  } finally {
    await browser.close();
  }
} finally {
  await dashboard.close();
}
console.log(`wrote ${OUT}`);
