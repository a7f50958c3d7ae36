/**
 * troupe's own figures, on Worker engines and on process engines.
 *
 * @module
 */

import { Client, publishData } from "../mod.ts";
import {
  BIG,
  fmt,
  N_LATENCY,
  pair,
  quick,
  type Row,
  tinyTasksPerSecond,
} from "./config.ts";
import { percentile, timeEach } from "./stats.ts";

/**
 * What sealing costs a process engine: the same figures with `encrypt` on
 * and off, one engine each, measured back to back.
 */
export async function sealedFigures(): Promise<Row[]> {
  const rows: Row[] = [];
  const measure = async (encrypt: boolean) => {
    const client = await Client.start({ workers: 0, processes: 1, encrypt });
    try {
      const one = client.view(client.ids[0]);
      const noop = await timeEach(
        N_LATENCY,
        200,
        () => one.applyAsync(() => 0),
      );
      const big = new Float64Array(BIG);
      const ms = async (f: () => Promise<unknown>) =>
        percentile(await timeEach(3, 1, f), 50) / 1000;
      const mb = (BIG * 8) / 2 ** 20;
      const push = mb / ((await ms(() => one.push({ big }))) / 1000);
      const pull = mb / ((await ms(() => one.pull("big"))) / 1000);
      return { noop, push, pull };
    } finally {
      await client.close();
    }
  };
  const plain = await measure(false);
  const sealed = await measure(true);
  rows.push({
    figure: "no-op round trip, process engine, sealed frames, p50 / p99",
    troupe: pair(sealed.noop),
    raw: `${pair(plain.noop)} plain, same run`,
  });
  rows.push({
    figure:
      "push / pull of an 80 MB Float64Array, process engine, sealed, MB/s",
    troupe: `${fmt(sealed.push)} / ${fmt(sealed.pull)}`,
    raw: `${fmt(plain.push)} / ${fmt(plain.pull)} plain, same run`,
  });
  return rows;
}

/** What one engine kind's figures are, with the samples the peers' table needs. */
export interface KindFigures {
  rows: Row[];
  /** No-op round trips, µs. */
  noop: number[];
  /** Load-balanced tiny tasks per second with default options. */
  tinyPerSecond: number;
}

/** troupe's figures on 2 engines of one kind. */
export async function troupeFigures(
  kind: "worker" | "process",
): Promise<KindFigures> {
  const rows: Row[] = [];
  const label = kind === "worker" ? "Worker engine" : "process engine";
  const start = performance.now();
  const client = await Client.start(
    kind === "worker" ? { workers: 2 } : { workers: 0, processes: 2 },
  );
  const startMs = performance.now() - start;
  try {
    const one = client.view(client.ids[0]);
    const noop = await timeEach(N_LATENCY, 200, () => one.applyAsync(() => 0));
    rows.push({
      figure: `no-op round trip, ${label}, p50 / p99`,
      troupe: pair(noop),
      raw: "",
    });

    const tinyDefault = await tinyTasksPerSecond(client);
    const tiny1 = await tinyTasksPerSecond(client, { highWaterMark: 1 });
    const tiny16 = await tinyTasksPerSecond(client, { highWaterMark: 16 });
    rows.push({
      figure: `tiny tasks/s, load-balanced, 2 ${label}s`,
      troupe: `${fmt(tinyDefault)} (default options) / ${
        fmt(tiny1)
      } (highWaterMark 1) / ${fmt(tiny16)} (16)`,
      raw: "",
    });
    const lv = client.loadBalancedView();

    const items = Array.from({ length: 100_000 }, (_, i) => i);
    const mapStart = performance.now();
    await client.view().mapSync((x: number) => x + 1, items);
    const directMap = 100_000 / ((performance.now() - mapStart) / 1000);
    const lbStart = performance.now();
    await lv.mapSync((x: number) => x + 1, items);
    const lbMap = 100_000 / ((performance.now() - lbStart) / 1000);
    rows.push({
      figure:
        `mapSync items/s, 100,000 items, 2 ${label}s (direct / load-balanced)`,
      troupe: `${fmt(directMap)} / ${fmt(lbMap)}`,
      raw: "",
    });

    const big = new Float64Array(BIG);
    const pushMs = (await timeEach(3, 1, () => one.push({ big })))
      .map((us) => us / 1000);
    const pullMs = (await timeEach(3, 1, () => one.pull("big")))
      .map((us) => us / 1000);
    const mb = (BIG * 8) / 2 ** 20;
    rows.push({
      figure: `push / pull of an 80 MB Float64Array, ${label}, MB/s`,
      troupe: `${fmt(mb / (percentile(pushMs, 50) / 1000))} / ${
        fmt(mb / (percentile(pullMs, 50) / 1000))
      }`,
      raw: "",
    });

    // Publishing: a loop that never yields, as fast as it can, for 1 s.
    const ar = one.applyAsync(() => {
      const end = Date.now() + 1000;
      let i = 0;
      while (Date.now() < end) {
        publishData({ i: i++ });
      }
      return i;
    });
    let received = 0;
    const t0 = performance.now();
    for await (const _ of ar.publications()) {
      received++;
    }
    const calls = await ar;
    const seconds = (performance.now() - t0) / 1000;
    rows.push({
      figure: `publishData calls/s in a busy loop; client updates/s (${label})`,
      troupe: `${fmt(calls)} / ${fmt(received / seconds)}`,
      raw: "",
    });

    // Latency from publishData on the engine to the client.
    const lat = one.applyAsync(async (n: number) => {
      for (let i = 0; i < n; i++) {
        publishData({ t: performance.timeOrigin + performance.now() });
        await new Promise((r) => setTimeout(r, 1));
      }
    }, quick ? 200 : 1000);
    const delays: number[] = [];
    for await (const p of lat.publications()) {
      delays.push(
        (performance.timeOrigin + performance.now() - (p.data.t as number)) *
          1000,
      );
    }
    await lat;
    rows.push({
      figure: `publishData → client latency, ${label}, p50 / p99`,
      troupe: pair(delays),
      raw: "",
    });
    rows.push({
      figure: `start 2 ${label}s, ms`,
      troupe: fmt(startMs),
      raw: "",
    });
    return { rows, noop, tinyPerSecond: tinyDefault };
  } finally {
    await client.close();
  }
}

/** How long 8 Worker engines take to start. */
export async function startEightWorkersMs(): Promise<number> {
  const start = performance.now();
  const client = await Client.start({ workers: 8 });
  const ms = performance.now() - start;
  await client.close();
  return ms;
}

/** The client's memory while many engines publish. */
export async function memoryWithManyPublishers(): Promise<string> {
  const engines = quick ? 16 : 64;
  const seconds = quick ? 3 : 10;
  const client = await Client.start({ workers: engines });
  try {
    const before = Deno.memoryUsage();
    let peakHeap = before.heapUsed;
    let peakRss = before.rss;
    const sampler = setInterval(() => {
      const m = Deno.memoryUsage();
      peakHeap = Math.max(peakHeap, m.heapUsed);
      peakRss = Math.max(peakRss, m.rss);
    }, 100);
    await client.view().applyAsync(async (s: number) => {
      const end = Date.now() + s * 1000;
      for (let i = 0; Date.now() < end; i++) {
        publishData({ a: new Float64Array(20).map(Math.random), i });
        await new Promise((r) => setTimeout(r, 10));
      }
    }, seconds);
    clearInterval(sampler);
    const mib = (b: number) => fmt(b / 2 ** 20);
    return `${engines} engines × 100 Hz × ${seconds} s: client heap ${
      mib(before.heapUsed)
    } → peak ${mib(peakHeap)} MiB; process RSS peak ${mib(peakRss)} MiB`;
  } finally {
    await client.close();
  }
}
