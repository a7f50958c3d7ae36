// The measurement both thread-pool peers share, so that they are measured
// the same way: sequential no-op round trips, then a burst of tiny tasks.

export const WORKERS = 2;
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

/**
 * Measures a pool through `noop()` and `inc(x)` (each returns a promise)
 * and prints the JSON line that bench/system.ts reads.
 */
export async function measure(peer, version, { noop, inc }) {
  for (let i = 0; i < LAT_WARMUP; i++) await noop();
  const samples = new Array(LAT_SAMPLES);
  for (let i = 0; i < LAT_SAMPLES; i++) {
    const t0 = performance.now();
    await noop();
    samples[i] = (performance.now() - t0) * 1000;
  }

  // Throughput: all tiny tasks submitted at once, then awaited.
  const burst = async (n) => {
    const ps = new Array(n);
    for (let i = 0; i < n; i++) ps[i] = inc(i);
    const out = await Promise.all(ps);
    if (out[n - 1] !== n) throw new Error(`bad result ${out[n - 1]}`);
  };
  await burst(TP_WARMUP);
  const t0 = performance.now();
  await burst(TP_TASKS);
  const secs = (performance.now() - t0) / 1000;

  console.log(JSON.stringify({
    peer,
    version,
    workers: WORKERS,
    noop_p50_us: +percentile(samples, 50).toFixed(1),
    noop_p99_us: +percentile(samples, 99).toFixed(1),
    noop_samples: LAT_SAMPLES,
    tiny_tasks: TP_TASKS,
    tiny_tasks_per_s: Math.round(TP_TASKS / secs),
  }));
}

/** Prints that `peer` is not installed and how to install it. */
export function missing(peer) {
  console.log(
    JSON.stringify({ peer, missing: "npm install --prefix bench/peers" }),
  );
}
