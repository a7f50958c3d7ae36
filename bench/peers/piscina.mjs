// Peer benchmark: piscina (Node worker-thread pool), 2 threads.
// Run: node bench/peers/piscina.mjs   (after: npm install --prefix bench/peers)
// Prints one JSON object on stdout:
//   {"peer":"piscina","version":...,"workers":2,"noop_p50_us":...,"noop_p99_us":...,"tiny_tasks_per_s":...}
// This file is also the worker module: in a worker thread it only exports the tasks.
import { isMainThread } from "node:worker_threads";
import { measure, missing, WORKERS } from "./harness.mjs";

/** The no-op task. */
export function noop() {}

/** The tiny task. */
export function inc(x) {
  return x + 1;
}

async function main() {
  let mod;
  try {
    mod = await import("piscina");
  } catch {
    missing("piscina");
    return;
  }
  const { Piscina, version } = mod;
  const pool = new Piscina({
    filename: import.meta.url,
    minThreads: WORKERS,
    maxThreads: WORKERS,
  });
  try {
    await measure("piscina", version, {
      noop: () => pool.run(null, { name: "noop" }),
      inc: (x) => pool.run(x, { name: "inc" }),
    });
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
