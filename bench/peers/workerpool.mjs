// Peer benchmark: workerpool (worker-thread pool), 2 threads.
// Run: node bench/peers/workerpool.mjs   (after: npm install --prefix bench/peers)
// Prints one JSON object on stdout:
//   {"peer":"workerpool","version":...,"workers":2,"noop_p50_us":...,"noop_p99_us":...,"tiny_tasks_per_s":...}
// This file is also the worker script: in a worker thread it registers the tasks.
import { isMainThread } from "node:worker_threads";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { measure, missing, WORKERS } from "./harness.mjs";

async function main() {
  let workerpool;
  let version;
  try {
    workerpool = (await import("workerpool")).default;
    version = createRequire(import.meta.url)("workerpool/package.json").version;
  } catch {
    missing("workerpool");
    return;
  }
  const pool = workerpool.pool(fileURLToPath(import.meta.url), {
    workerType: "thread",
    minWorkers: WORKERS,
    maxWorkers: WORKERS,
  });
  try {
    await measure("workerpool", version, {
      noop: () => pool.exec("noop", []),
      inc: (x) => pool.exec("inc", [x]),
    });
  } finally {
    await pool.terminate();
  }
}

if (isMainThread) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  const workerpool = (await import("workerpool")).default;
  workerpool.worker({
    noop() {},
    inc(x) {
      return x + 1;
    },
  });
}
