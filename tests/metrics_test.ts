/**
 * The core's metrics on real engines (Worker and process, embedded and
 * connected): a known set of tasks (some that succeed, fail with a
 * RemoteError, are aborted, time out in the queue, wait for a dependency
 * that fails, publish, kill their engine), then exact counters, plausible
 * histograms, gauges at 0, the engines' memory, and a text that promtool
 * accepts.
 */

import assert from "node:assert/strict";
import {
  type Client,
  EngineError,
  type MetricFamily,
  publishData,
  RemoteError,
  TaskAbortedError,
  TimeoutError,
} from "../mod.ts";
import {
  eachEngineKind,
  errorOf,
  guard,
  RESTART_AT_ONCE,
  until,
} from "./helpers.ts";
import { PROMTOOL, promtoolCheck } from "./prometheus_rig.ts";

/** The value of `name` under exactly `labels`, 0 when there is none. */
function valueOf(
  families: MetricFamily[],
  name: string,
  labels: Record<string, string> = {},
): number {
  const family = families.find((f) => f.name === name);
  assert.ok(family, `there is no metric ${name}`);
  assert.notEqual(family.type, "histogram");
  const key = JSON.stringify(Object.entries(labels).sort());
  const sample = family.samples.find((s) =>
    JSON.stringify(Object.entries(s.labels).sort()) === key
  );
  return sample && "value" in sample ? sample.value : 0;
}

/** The sum of `name`'s samples whose labels include `labels`. */
function sumOf(
  families: MetricFamily[],
  name: string,
  labels: Record<string, string> = {},
): number {
  const family = families.find((f) => f.name === name);
  assert.ok(family && family.type !== "histogram", `no counter ${name}`);
  return family.samples
    .filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);
}

/** A histogram's sample for `view`. */
function histogramOf(families: MetricFamily[], name: string, view: string) {
  const family = families.find((f) => f.name === name);
  assert.ok(family?.type === "histogram", `no histogram ${name}`);
  const sample = family.samples.find((s) => s.labels.view === view);
  assert.ok(sample, `${name} has no view ${view}`);
  return { ...sample, buckets: family.buckets };
}

/** Waits (polling, 20 s at most) for the file `path`: a latch any engine sees. */
async function waitForFile(path: string): Promise<string> {
  const end = Date.now() + 20_000;
  while (Date.now() < end) {
    try {
      Deno.statSync(path);
      return "released";
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
  return "the file never appeared";
}

async function metricsWhen(
  client: Client,
  ok: (families: MetricFamily[]) => boolean,
  what: string,
): Promise<MetricFamily[]> {
  let families: MetricFamily[] = [];
  await until(async () => ok(families = await client.metrics()), what, 20_000);
  return families;
}

eachEngineKind("metrics", 2, async ({ t, client, kind, side, dir }) => {
  const go = `${dir}/go`;

  await t.step(
    "before any task: engines by state, every count at 0",
    async () => {
      const f = await client.metrics();
      assert.equal(valueOf(f, "troupe_engines", { state: "idle", kind }), 2);
      assert.equal(valueOf(f, "troupe_engines", { state: "busy", kind }), 0);
      assert.equal(
        valueOf(f, "troupe_tasks_submitted_total", { view: "direct" }),
        0,
      );
      assert.equal(
        valueOf(f, "troupe_connections_dropped_total", {
          cause: "handshake_refused",
        }),
        0,
      );
    },
  );

  await t.step("a known set of tasks", async () => {
    // Three that succeed at once, on engine 0.
    assert.deepEqual(
      await Promise.all(
        [1, 2, 3].map((x) => client.view(0).applyAsync((y: number) => y, x)),
      ),
      [1, 2, 3],
    );
    // Engine 0 is held; behind it: one that fails, one to abort, one held
    // for the blocker and one for the one that fails (balanced).
    const blocker = client.view(0).applyAsync(waitForFile, go);
    const failLater = client.view(0).applyAsync(() => {
      throw new Error("on purpose");
    });
    const abortMe = client.view(0).applyAsync(() => "never");
    // Dependencies are the load balancer's: two held on engine 0.
    const lv0 = client.loadBalancedView([0]);
    const held = lv0.with({ after: [blocker] }).applyAsync(() => "held");
    const unmet = lv0.with({ after: [failLater] }).applyAsync(() => "unmet");
    const waiting = await metricsWhen(
      client,
      (f) => valueOf(f, "troupe_tasks_running", { view: "direct" }) === 1,
      "the blocker to run",
    );
    assert.equal(
      valueOf(waiting, "troupe_tasks_queued", { view: "direct" }),
      2,
    );
    assert.equal(
      valueOf(waiting, "troupe_tasks_queued", { view: "balanced" }),
      2,
      "tasks held for their dependencies are queued",
    );
    assert.equal(
      valueOf(waiting, "troupe_engines", { state: "busy", kind }),
      1,
    );
    await abortMe.abort();
    assert.ok((await errorOf(abortMe)) instanceof TaskAbortedError);
    // No room on engine 0 within 300 ms: a TimeoutError in the queue.
    const late = client.loadBalancedView([0], {
      timeoutMs: 300,
      highWaterMark: 1,
    })
      .applyAsync(() => "late");
    assert.ok((await errorOf(late)) instanceof TimeoutError);
    await Deno.writeTextFile(go, "");
    assert.equal(await guard(blocker, "the blocker"), "released");
    assert.equal(await guard(held, "the held task"), "held");
    assert.ok((await errorOf(failLater)) instanceof RemoteError);
    assert.equal((await errorOf(unmet)).name, "UnmetDependencyError");
    // Four balanced ones, three publications and a RemoteError on engine 1.
    const lv = client.loadBalancedView();
    assert.deepEqual(
      await Promise.all(
        [0, 1, 2, 3].map((x) => lv.applyAsync((y: number) => y * 2, x)),
      ),
      [0, 2, 4, 6],
    );
    const pub = client.view(1).applyAsync(() => {
      for (let step = 0; step < 3; step++) publishData({ step });
      return "published";
    });
    assert.equal(await guard(pub, "the publishing task"), "published");
    const thrown = client.view(1).applyAsync(() => {
      throw new Error("also on purpose");
    });
    assert.ok((await errorOf(thrown)) instanceof RemoteError);
    // A task that kills its engine: restarted under its id.
    const exit = client.view(1).applyAsync(() => Deno.exit(3));
    assert.ok((await errorOf(exit)) instanceof EngineError);
    await until(
      () =>
        client.engines()[1]?.restarts === 1 &&
        client.engines()[1].state === "idle",
      "engine 1 to come back",
      20_000,
    );
  });

  await t.step("exact counts by view and error class", async () => {
    const f = await client.metrics();
    const count = (name: string, labels: Record<string, string>) =>
      valueOf(f, name, labels);
    // Direct: 3 + the blocker + the publisher done; two RemoteErrors, the
    // aborted one, the one that killed its engine.
    assert.equal(count("troupe_tasks_submitted_total", { view: "direct" }), 9);
    assert.equal(count("troupe_tasks_done_total", { view: "direct" }), 5);
    // Balanced: the held one and 4 done; the unmet one, the late one.
    assert.equal(
      count("troupe_tasks_submitted_total", { view: "balanced" }),
      7,
    );
    assert.equal(count("troupe_tasks_done_total", { view: "balanced" }), 5);
    const errors = [
      "RemoteError",
      "TaskAbortedError",
      "EngineError",
      "UnmetDependencyError",
      "TimeoutError",
    ];
    const failed = (view: string) =>
      errors.map((error) =>
        count("troupe_tasks_failed_total", { view, error })
      );
    assert.deepEqual(failed("direct"), [2, 1, 1, 0, 0]);
    assert.deepEqual(failed("balanced"), [0, 0, 0, 1, 1]);
    assert.equal(sumOf(f, "troupe_tasks_failed_total"), 6, "no other error");
    for (const view of ["direct", "balanced"]) {
      assert.equal(
        count("troupe_tasks_running", { view }),
        0,
        `running ${view}`,
      );
      assert.equal(count("troupe_tasks_queued", { view }), 0, `queued ${view}`);
    }
  });

  await t.step(
    "histograms: one duration and one wait per task that started",
    async () => {
      const f = await client.metrics();
      for (const [view, started] of [["direct", 8], ["balanced", 5]] as const) {
        for (
          const name of [
            "troupe_task_duration_seconds",
            "troupe_task_queue_wait_seconds",
          ]
        ) {
          const h = histogramOf(f, name, view);
          assert.equal(h.count, started, `${name}{view="${view}"}'s count`);
          assert.ok(
            h.sum >= 0 && Number.isFinite(h.sum),
            `${name}'s sum ${h.sum}`,
          );
          assert.equal(h.counts.length, h.buckets.length);
          assert.ok(
            h.counts.every((c, i) => i === 0 || c >= h.counts[i - 1]),
            "cumulative",
          );
          assert.ok(h.counts.at(-1)! <= h.count);
        }
      }
      // The blocker ran while the test waited for a timeout: over 0.25 s.
      const direct = histogramOf(f, "troupe_task_duration_seconds", "direct");
      assert.ok(direct.sum > 0.25, `direct durations sum to ${direct.sum} s`);
    },
  );

  await t.step("a death by kind and reason, and its restart", async () => {
    const f = await client.metrics();
    assert.equal(sumOf(f, "troupe_engine_deaths_total", { kind }), 1);
    const reasons = f.find((x) => x.name === "troupe_engine_deaths_total")!
      .samples
      .filter((s) => "value" in s && s.value > 0).map((s) => s.labels.reason);
    // A Worker's thread exits; a process's task thread exits, and the
    // process says so (fatal, with its cause) before it is ended.
    assert.deepEqual(reasons, ["exited"]);
    assert.equal(valueOf(f, "troupe_engine_restarts_total", { kind }), 1);
    assert.equal(valueOf(f, "troupe_engines", { state: "idle", kind }), 2);
    assert.equal(sumOf(f, "troupe_engines", { kind }), 2);
  });

  await t.step("publications and their bytes, per engine", async () => {
    const f = await client.metrics();
    assert.equal(valueOf(f, "troupe_publications_total", { engine: "1" }), 3);
    assert.equal(valueOf(f, "troupe_publications_total", { engine: "0" }), 0);
    const bytes = valueOf(f, "troupe_publication_bytes_total", { engine: "1" });
    if (kind === "worker") {
      assert.equal(bytes, 3 * ("step".length + 8), "the estimate of { step }");
    } else {
      // Exact frames: each carries its header, task id, seq and time too.
      assert.ok(bytes > 3 * 20, `${bytes} bytes for three frames`);
    }
  });

  await t.step("frames and bytes on the wire", async () => {
    const f = await client.metrics();
    const frames = (direction: string) =>
      valueOf(f, "troupe_wire_frames_total", { direction });
    const bytes = (direction: string) =>
      valueOf(f, "troupe_wire_bytes_total", { direction });
    if (kind === "worker" && side === "embedded") {
      // No TCP at all: Workers post.
      assert.deepEqual([frames("in"), frames("out")], [0, 0]);
    } else {
      // At least a frame a task each way, and more bytes than frames.
      assert.ok(
        frames("in") >= 20 && frames("out") >= 20,
        `${frames("in")} ${frames("out")}`,
      );
      assert.ok(
        bytes("in") > frames("in") * 4 && bytes("out") > frames("out") * 4,
      );
    }
  });

  await t.step("each engine's memory, as its heartbeat says", async () => {
    const f = await metricsWhen(
      client,
      (f) =>
        [0, 1].every((id) =>
          valueOf(f, "troupe_engine_heap_bytes", { engine: String(id) }) > 0
        ),
      "both engines to say their heap",
    );
    const rss = valueOf(f, "troupe_engine_rss_bytes", { engine: "0" });
    if (kind === "worker") assert.equal(rss, 0, "a Worker says no rss");
    else {assert.ok(
        rss > valueOf(f, "troupe_engine_heap_bytes", { engine: "0" }),
      );}
    if (side === "embedded") {
      const [e0] = client.engines();
      assert.ok(e0.heapBytes! > 0, "engines() shows it too");
      assert.equal(e0.rssBytes === undefined, kind === "worker");
    }
  });

  await t.step({
    name: "metricsText passes promtool check metrics",
    ignore: PROMTOOL === undefined,
    fn: async () => {
      const text = await client.metricsText();
      assert.match(text, /^troupe_tasks_done_total\{view="balanced"\} 5$/m);
      const { code, said } = await promtoolCheck(text);
      assert.equal(code, 0, `promtool refused the text:\n${said}`);
      assert.equal(said, "", "promtool's lint");
    },
  });
}, { restart: RESTART_AT_ONCE, heartbeatMs: 100 });
