/**
 * Whole-system benchmarks: troupe against the raw limit, measured in the
 * same run, printed as one table; then the peers that are installed.
 *
 *   deno task bench            # micro benchmarks, then this
 *   deno run -A bench/system.ts [--quick]
 *   deno run -A bench/system.ts --sealed   # only sealed vs plain frames
 *
 * Nothing here asserts a time: the numbers are for people to read.
 *
 * @module
 */

import { decode, encode } from "@msgpack/msgpack";
import { Worker } from "node:worker_threads";
import { Client, publishData } from "../mod.ts";
import { percentile, timeEach } from "./stats.ts";

const quick = Deno.args.includes("--quick");
const N_LATENCY = quick ? 500 : 3000;
const N_TINY = quick ? 5000 : 40_000;
const BIG = 10_000_000; // Float64s: 80 MB

interface Row {
  figure: string;
  troupe: string;
  raw: string;
}
const rows: Row[] = [];
let troupeNoop: number[] = [];
const troupeTiny: Record<string, number> = {};
const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits });
const pair = (samples: number[]) =>
  `${fmt(percentile(samples, 50))} / ${fmt(percentile(samples, 99))} µs`;

// ---- raw limits ------------------------------------------------------------

async function bareNodeWorker(): Promise<{
  roundTrip: (m: unknown) => Promise<unknown>;
  worker: Worker;
}> {
  const worker = new Worker(new URL("./raw_echo_worker.ts", import.meta.url));
  const roundTrip = (message: unknown) =>
    new Promise((resolve) => {
      worker.once("message", resolve);
      worker.postMessage(message);
    });
  await roundTrip(0);
  return { roundTrip, worker };
}

async function rawWorkerPingPong(): Promise<number[]> {
  const { roundTrip, worker } = await bareNodeWorker();
  const samples = await timeEach(N_LATENCY, 200, () => roundTrip({ t: 1 }));
  await worker.terminate();
  return samples;
}

async function rawWebWorkerPingPong(): Promise<number[]> {
  const worker = new globalThis.Worker(
    new URL("./raw_echo_web_worker.ts", import.meta.url),
    { type: "module" },
  );
  const roundTrip = () =>
    new Promise((resolve) => {
      worker.onmessage = resolve;
      worker.postMessage({ t: 1 });
    });
  const samples = await timeEach(N_LATENCY, 200, roundTrip);
  worker.terminate();
  return samples;
}

async function rawWorkerPipelined(n: number): Promise<number> {
  const { worker } = await bareNodeWorker();
  let left = n;
  const done = Promise.withResolvers<void>();
  worker.on("message", () => --left === 0 && done.resolve());
  const start = performance.now();
  for (let i = 0; i < n; i++) worker.postMessage({ i });
  await done.promise;
  const perSecond = n / ((performance.now() - start) / 1000);
  await worker.terminate();
  return perSecond;
}

/** A bare TCP echo of length-prefixed msgpack frames, no troupe code. */
async function rawTcp() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serverSide = (async () => {
    const conn = await listener.accept();
    conn.setNoDelay(true);
    for await (const chunk of conn.readable) {
      // An echo needs no framing: bytes in, same bytes out.
      let written = 0;
      while (written < chunk.byteLength) {
        written += await conn.write(chunk.subarray(written));
      }
    }
  })().catch(() => {});
  const conn = await Deno.connect({
    hostname: "127.0.0.1",
    port: listener.addr.port,
  });
  conn.setNoDelay(true);
  const reader = conn.readable.getReader();
  let pending = new Uint8Array(0);
  const readFrame = async (): Promise<unknown> => {
    while (true) {
      if (pending.byteLength >= 4) {
        const n = new DataView(pending.buffer, pending.byteOffset).getUint32(0);
        if (pending.byteLength >= 4 + n) {
          const body = pending.subarray(4, 4 + n);
          pending = pending.subarray(4 + n);
          return decode(body);
        }
      }
      const { value } = await reader.read();
      const joined = new Uint8Array(pending.byteLength + value!.byteLength);
      joined.set(pending);
      joined.set(value!, pending.byteLength);
      pending = joined;
    }
  };
  const frame = (value: unknown) => {
    const body = encode(value);
    const out = new Uint8Array(4 + body.byteLength);
    new DataView(out.buffer).setUint32(0, body.byteLength);
    out.set(body, 4);
    return out;
  };
  const writeAll = async (bytes: Uint8Array) => {
    let written = 0;
    while (written < bytes.byteLength) {
      written += await conn.write(bytes.subarray(written));
    }
  };
  return {
    async pingPong(): Promise<number[]> {
      return await timeEach(N_LATENCY, 200, async () => {
        await writeAll(frame({ t: "ping" }));
        await readFrame();
      });
    },
    async pipelined(n: number): Promise<number> {
      const start = performance.now();
      const bytes = frame({ t: "x", i: 1 });
      const all = new Uint8Array(bytes.byteLength * n);
      for (let i = 0; i < n; i++) all.set(bytes, i * bytes.byteLength);
      const writing = writeAll(all);
      for (let i = 0; i < n; i++) await readFrame();
      await writing;
      return n / ((performance.now() - start) / 1000);
    },
    async bulkMBps(bytes: number): Promise<number> {
      const body = new Uint8Array(bytes);
      const header = new Uint8Array(4);
      new DataView(header.buffer).setUint32(0, bytes);
      const start = performance.now();
      await writeAll(header);
      const writing = writeAll(body);
      let got = 0;
      while (got < bytes + 4) {
        if (pending.byteLength > 0) {
          got += pending.byteLength;
          pending = new Uint8Array(0);
          continue;
        }
        const { value } = await reader.read();
        got += value!.byteLength;
      }
      await writing;
      return bytes / 2 ** 20 / ((performance.now() - start) / 1000);
    },
    async close() {
      reader.releaseLock();
      conn.close();
      listener.close();
      await serverSide;
    },
  };
}

async function rawDenoStartMs(): Promise<number> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const code =
    `const c = await Deno.connect({ hostname: "127.0.0.1", port: ${listener.addr.port} }); await c.write(new Uint8Array([0, 0, 0, 0])); c.close();`;
  const start = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const conn = await listener.accept();
  const ms = performance.now() - start;
  conn.close();
  listener.close();
  await child.status;
  return ms;
}

async function rawNewWorkersMs(n: number): Promise<number> {
  const start = performance.now();
  const workers: Worker[] = [];
  for (let i = 0; i < n; i++) {
    workers.push(new Worker(new URL("./raw_echo_worker.ts", import.meta.url)));
  }
  await Promise.all(workers.map((w) =>
    new Promise((resolve) => {
      w.once("message", resolve);
      w.postMessage(0);
    })
  ));
  const ms = performance.now() - start;
  await Promise.all(workers.map((w) => w.terminate()));
  return ms;
}

// ---- troupe ----------------------------------------------------------------

/**
 * What sealing costs a process engine: the same figures with `encrypt` on
 * and off, one engine each, measured back to back.
 */
async function sealedFigures(): Promise<void> {
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
}

if (Deno.args.includes("--sealed")) {
  await sealedFigures();
  console.log("\n| figure | troupe | plain frames |");
  console.log("| --- | --- | --- |");
  for (const r of rows) {
    console.log(`| ${r.figure} | ${r.troupe} | ${r.raw} |`);
  }
  Deno.exit(0);
}

async function troupeFigures(kind: "worker" | "process"): Promise<void> {
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

    const tinyRate = async (highWaterMark: number) => {
      const lv = client.loadBalancedView({ highWaterMark });
      const start = performance.now();
      const all: Promise<number>[] = [];
      for (let i = 0; i < N_TINY; i++) {
        all.push(lv.applyAsync((x: number) => x + 1, i).get());
      }
      await Promise.all(all);
      return N_TINY / ((performance.now() - start) / 1000);
    };
    const tiny1 = await tinyRate(1);
    const tiny16 = await tinyRate(16);
    troupeTiny[kind] = tiny1;
    if (kind === "worker") troupeNoop = noop;
    rows.push({
      figure: `tiny tasks/s, load-balanced, 2 ${label}s`,
      troupe: `${fmt(tiny1)} (highWaterMark 1) / ${fmt(tiny16)} (16)`,
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
  } finally {
    await client.close();
  }
}

async function startEightWorkersMs(): Promise<number> {
  const start = performance.now();
  const client = await Client.start({ workers: 8 });
  const ms = performance.now() - start;
  await client.close();
  return ms;
}

async function memoryWithManyPublishers(): Promise<string> {
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

// ---- the run ---------------------------------------------------------------

console.error("measuring raw limits…");
const rawNode = await rawWorkerPingPong();
const rawWeb = await rawWebWorkerPingPong();
const rawPipe = await rawWorkerPipelined(N_TINY * 2);
const tcp = await rawTcp();
const rawTcpRt = await tcp.pingPong();
const rawTcpPipe = await tcp.pipelined(N_TINY * 2);
const rawTcpBulk = await tcp.bulkMBps(BIG * 8);
await tcp.close();
const memcpyMs = (await timeEach(3, 1, () => {
  new Float64Array(BIG).slice();
  return Promise.resolve();
})).map((us) => us / 1000);
const rawWorkersMs = await rawNewWorkersMs(8);
const rawDenoMs = [await rawDenoStartMs(), await rawDenoStartMs()];

console.error("measuring troupe…");
await troupeFigures("worker");
await troupeFigures("process");
await sealedFigures();
const eightMs = await startEightWorkersMs();
const memory = await memoryWithManyPublishers();

const mb = (BIG * 8) / 2 ** 20;
const raw: Record<string, string> = {
  "no-op round trip, Worker engine, p50 / p99": `${
    pair(rawNode)
  } (node:worker_threads); ${pair(rawWeb)} (web Worker)`,
  "no-op round trip, process engine, p50 / p99": `${
    pair(rawTcpRt)
  } (TCP msgpack ping-pong); ${
    fmt(percentile(rawTcpRt, 50) + percentile(rawNode, 50))
  } µs p50 with the engine's hop to its task thread`,
  "tiny tasks/s, load-balanced, 2 Worker engines": `${
    fmt(rawPipe)
  } messages/s (pipelined, 1 thread)`,
  "tiny tasks/s, load-balanced, 2 process engines": `${
    fmt(rawTcpPipe)
  } frames/s (pipelined TCP)`,
  "push / pull of an 80 MB Float64Array, Worker engine, MB/s": `${
    fmt(mb / (percentile(memcpyMs, 50) / 1000))
  } (memcpy)`,
  "push / pull of an 80 MB Float64Array, process engine, MB/s": `${
    fmt(rawTcpBulk)
  } (bare TCP bulk)`,
  "start 2 Worker engines, ms": `${fmt(rawWorkersMs)} ms for 8 bare Workers`,
  "start 2 process engines, ms": `${
    fmt(Math.max(...rawDenoMs))
  } ms for one bare deno to first TCP frame`,
};
for (const r of rows) r.raw ||= raw[r.figure] ?? "";
rows.push({
  figure: "start 8 Worker engines, ms",
  troupe: fmt(eightMs),
  raw: `${fmt(rawWorkersMs)} (8 bare Workers)`,
});
rows.push({
  figure: "client memory under publishing load",
  troupe: memory,
  raw: "",
});

console.log("\n| figure | troupe | raw limit in the same run |");
console.log("| --- | --- | --- |");
for (const r of rows) console.log(`| ${r.figure} | ${r.troupe} | ${r.raw} |`);

// ---- peers -----------------------------------------------------------------

interface PeerResult {
  peer: string;
  version?: string;
  missing?: string;
  noop_p50_us?: number;
  noop_p99_us?: number;
  tiny_tasks_per_s?: number;
}

async function runPeer(command: string, args: string[]): Promise<PeerResult> {
  const name = args[0].replace(/.*\/|\.(mjs|py)$/g, "");
  try {
    const { stdout } = await new Deno.Command(command, {
      args,
      cwd: new URL("../", import.meta.url),
      stdout: "piped",
      stderr: "null",
      signal: AbortSignal.timeout(180_000),
    }).output();
    return JSON.parse(
      new TextDecoder().decode(stdout).trim().split("\n").at(-1)!,
    );
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? `${command} is not installed`
      : String(error);
    return { peer: name, missing: why };
  }
}

if (!quick || Deno.args.includes("--peers")) {
  console.error("measuring peers…");
  const peers = [
    await runPeer("node", ["bench/peers/piscina.mjs"]),
    await runPeer("node", ["bench/peers/workerpool.mjs"]),
    await runPeer("/usr/bin/python3", ["bench/peers/ipyparallel_peer.py"]),
  ];
  const p50 = percentile(troupeNoop, 50);
  console.log(
    "\n| peer (2 workers) | no-op p50 / p99 | tiny tasks/s | troupe (Worker engines) vs peer |",
  );
  console.log("| --- | --- | --- | --- |");
  for (const peer of peers) {
    if (peer.missing) {
      console.log(
        `| ${peer.peer} | not installed: ${peer.missing} | | |`,
      );
      continue;
    }
    const latency = p50 / peer.noop_p50_us!;
    const rate = troupeTiny.worker / peer.tiny_tasks_per_s!;
    console.log(
      `| ${peer.peer} ${peer.version ?? ""} | ${fmt(peer.noop_p50_us!)} / ${
        fmt(peer.noop_p99_us!)
      } µs | ${fmt(peer.tiny_tasks_per_s!)} | latency ×${
        latency.toFixed(2)
      }, throughput ×${rate.toFixed(2)} |`,
    );
  }
  console.log(
    "\nPeers: `npm install --prefix bench/peers` (piscina, workerpool), " +
      "`apt-get install python3-ipyparallel` (ipyparallel).",
  );
}
