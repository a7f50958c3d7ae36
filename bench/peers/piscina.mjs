// Peer benchmark: piscina (Node worker-thread pool), 2 threads.
// Run: node bench/peers/piscina.mjs   (after: npm install --prefix bench/peers)
// Prints one JSON object on stdout:
//   {"peer":"piscina","version":...,"workers":2,"noop_p50_us":...,"noop_p99_us":...,"tiny_tasks_per_s":...}
// This file is also the worker module: in a worker thread it only exports the tasks.
import { isMainThread } from "node:worker_threads";

/** The no-op task. */
export function noop() {}

/** The tiny task. */
export function inc(x) {
  return x + 1;
}

const WORKERS = 2;
const LAT_WARMUP = 500;
const LAT_SAMPLES = 5000;
const TP_WARMUP = 10000;
const TP_TASKS = 100000;

/** Nearest-rank percentile, as bench/stats.ts. */
function percentile(samples, p) {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

async function main() {
  let mod;
  try {
    mod = await import("piscina");
  } catch {
    console.log(
      JSON.stringify({
        peer: "piscina",
        missing: "npm install --prefix bench/peers",
      }),
    );
    return;
  }
  const { Piscina, version } = mod;
  const pool = new Piscina({
    filename: import.meta.url,
    minThreads: WORKERS,
    maxThreads: WORKERS,
  });
  try {
    // Latency: sequential no-op round trips.
    for (let i = 0; i < LAT_WARMUP; i++) await pool.run(null, { name: "noop" });
    const samples = new Array(LAT_SAMPLES);
    for (let i = 0; i < LAT_SAMPLES; i++) {
      const t0 = performance.now();
      await pool.run(null, { name: "noop" });
      samples[i] = (performance.now() - t0) * 1000;
    }

    // Throughput: all tiny tasks submitted at once, then awaited.
    const burst = async (n) => {
      const ps = new Array(n);
      for (let i = 0; i < n; i++) ps[i] = pool.run(i, { name: "inc" });
      const out = await Promise.all(ps);
      if (out[n - 1] !== n) throw new Error(`bad result ${out[n - 1]}`);
    };
    await burst(TP_WARMUP);
    const t0 = performance.now();
    await burst(TP_TASKS);
    const secs = (performance.now() - t0) / 1000;

    console.log(JSON.stringify({
      peer: "piscina",
      version,
      workers: WORKERS,
      noop_p50_us: +percentile(samples, 50).toFixed(1),
      noop_p99_us: +percentile(samples, 99).toFixed(1),
      noop_samples: LAT_SAMPLES,
      tiny_tasks: TP_TASKS,
      tiny_tasks_per_s: Math.round(TP_TASKS / secs),
    }));
  } finally {
    await pool.destroy();
  }
}

if (isMainThread) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
