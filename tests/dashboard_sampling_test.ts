/**
 * The dashboard's live charts are sampled once a second from the core's
 * families, whether or not a page is open, one read at a time: a real
 * cluster core behind a real dashboard, its `metrics()` counted (and, for
 * the slow core, delayed) on the way.
 */

import assert from "node:assert/strict";
import {
  type DashboardSource,
  serveDashboard,
} from "../dashboard/dashboard.ts";
import { LocalCluster } from "../cluster/local_cluster.ts";
import type { MetricFamily } from "../observe/metrics.ts";
import { guard, sleep, until } from "./helpers.ts";

interface ChartSeen {
  key: string;
  svg: string;
}

/** `cluster` as a dashboard source that counts (and may delay) its reads. */
function counted(cluster: LocalCluster, delayMs = 0): {
  source: DashboardSource;
  reads: () => number;
  mostAtOnce: () => number;
  unanswered: () => number;
} {
  let reads = 0;
  let now = 0;
  let most = 0;
  const source: DashboardSource = {
    registry: cluster.registry,
    engines: () => cluster.engines(),
    onEngineEvent: (listener) => cluster.onEngineEvent(listener),
    metrics: async (): Promise<MetricFamily[]> => {
      reads++;
      most = Math.max(most, ++now);
      try {
        if (delayMs > 0) await sleep(delayMs);
        return await cluster.metrics();
      } finally {
        now--;
      }
    },
  };
  return {
    source,
    reads: () => reads,
    mostAtOnce: () => most,
    unanswered: () => now,
  };
}

/** The first `state` message of a page opened on `url` (bounded). */
async function firstState(url: string): Promise<Record<string, unknown>> {
  const response = await fetch(new URL("events", url), {
    signal: AbortSignal.timeout(10_000),
  });
  const reader = response.body!.pipeThrough(new TextDecoderStream())
    .getReader();
  let buffer = "";
  try {
    while (!buffer.includes("\n\n")) {
      const { value, done } = await reader.read();
      assert.ok(!done, "the stream ended");
      buffer += value;
    }
  } finally {
    await reader.cancel();
  }
  const data = buffer.split("\n").find((l) => l.startsWith("data: "))!;
  return JSON.parse(data.slice(6));
}

const pointsOf = (state: Record<string, unknown>, key: string): number =>
  Number(
    (state.metrics as ChartSeen[]).find((c) => c.key === key)!.svg
      .match(/data-points="(\d+)"/)![1],
  );

Deno.test("the charts are sampled once a second with no page open, so the first page opened shows the past; open pages add no reads", async () => {
  const cluster = new LocalCluster();
  const { source, reads } = counted(cluster);
  const dashboard = await serveDashboard(source, { updateMs: 50 });
  try {
    await until(() => reads() >= 4, "four samples with no page open", 15_000);
    const state = await firstState(dashboard.url);
    assert.ok(
      pointsOf(state, "queued") >= 3,
      `${pointsOf(state, "queued")} points of the time before the page`,
    );
    assert.ok(pointsOf(state, "tasks_per_second") >= 2);
    // Three pages updated every 50 ms for 2.5 s: still a read a second.
    const before = reads();
    const pages = await Promise.all([0, 1, 2].map(async () => {
      const response = await fetch(new URL("events", dashboard.url), {
        signal: AbortSignal.timeout(10_000),
      });
      return response.body!;
    }));
    try {
      await sleep(2_500);
    } finally {
      await Promise.all(pages.map((page) => page.cancel()));
    }
    const during = reads() - before;
    assert.ok(during <= 4, `${during} reads in 2.5 s with three pages`);
  } finally {
    await guard(dashboard.close(), "the dashboard to close");
    await cluster.close();
  }
});

Deno.test("a core slower than a second to answer is asked once at a time, never twice at once", async () => {
  const cluster = new LocalCluster();
  const { source, reads, mostAtOnce } = counted(cluster, 2_200);
  const dashboard = await serveDashboard(source, { updateMs: 50 });
  try {
    await until(() => reads() >= 2, "a second sample", 15_000);
    await sleep(1_000);
    assert.equal(mostAtOnce(), 1);
    const state = await firstState(dashboard.url);
    assert.ok(pointsOf(state, "queued") >= 1);
  } finally {
    await guard(dashboard.close(), "the dashboard to close");
    await cluster.close();
  }
});

Deno.test("a core slower than the 5 s bound is still asked once at a time: the next read waits for the last answer, the seconds between are a gap", async () => {
  const cluster = new LocalCluster();
  const { source, reads, mostAtOnce, unanswered } = counted(cluster, 6_500);
  const dashboard = await serveDashboard(source, { updateMs: 50 });
  try {
    await until(() => reads() >= 2, "a read after the slow one", 20_000);
    assert.equal(mostAtOnce(), 1, "never two reads at once");
  } finally {
    await guard(dashboard.close(), "the dashboard to close");
    // The read under way at close is the source's: it ends on its own.
    await until(() => unanswered() === 0, "the last read to end", 20_000);
    await cluster.close();
  }
});
