/**
 * What `client.put` saves (issue 16): TASKS load-balanced tasks, each
 * reading one 64 MB Float64Array, the array passed as an argument of every
 * task against put once and passed as its `ValueRef`, on 2 Worker engines
 * and on 2 engine processes; and the put itself (one copy into shared
 * memory) against its raw limit, a bare `structuredClone` of the same
 * array (what a `postMessage` of it costs), measured in the same run.
 *
 *   deno run -A bench/put_figures.ts [--quick]
 *
 * Each figure is the median of 3 runs (1 with `--quick`, which also runs
 * 20 tasks instead of 100). The tasks go one per engine at a time
 * (`highWaterMark: 1`), both ways, so that no engine queues gigabytes of
 * copies. Nothing here asserts a time: the table is for people to read.
 *
 * @module
 */

import { Client, type ValueRef } from "../mod.ts";
import { quick } from "./config.ts";
import { type RatioRow, ratioTable } from "./process_figures.ts";
import { median } from "./stats.ts";

const RUNS = quick ? 1 : 3;
const TASKS = quick ? 20 : 100;
/** 64 MB of float64s. */
const LENGTH = 8 * 2 ** 20;

type Kind = "worker" | "process";

/** ms for TASKS tasks that each read `big`, passed as an argument or put. */
async function taskFigures(
  kind: Kind,
  big: Float64Array,
): Promise<{ argument: number; put: number }> {
  const client = await Client.start(
    kind === "worker" ? { workers: 2 } : { workers: 0, processes: 2 },
  );
  try {
    const lv = client.loadBalancedView({ highWaterMark: 1 });
    const read = (a: Float64Array, i: number) => a[i % a.length];
    const time = async (arg: Float64Array | ValueRef<Float64Array>) => {
      const start = performance.now();
      const tasks = [];
      for (let i = 0; i < TASKS; i++) tasks.push(lv.applyAsync(read, arg, i));
      await Promise.all(tasks);
      return performance.now() - start;
    };
    // A warm-up of each way: engines compile the task, processes connect.
    await lv.applyAsync(read, big, 0);
    const argument = await time(big);
    // The put counts: it is what the ref's tasks cost on top of theirs.
    const start = performance.now();
    const ref = client.put(big);
    const putMs = performance.now() - start;
    const put = putMs + await time(ref);
    ref.release();
    return { argument, put };
  } finally {
    await client.close();
  }
}

/** ms of `client.put(big)` on an embedded client, and of a bare clone. */
async function putFigures(
  big: Float64Array,
): Promise<{ put: number; clone: number }> {
  const client = await Client.start({ workers: 1 });
  try {
    const start = performance.now();
    const ref = client.put(big);
    const put = performance.now() - start;
    ref.release();
    const cloned = performance.now();
    structuredClone(big);
    return { put, clone: performance.now() - cloned };
  } finally {
    await client.close();
  }
}

/** The table's rows, each the median of RUNS runs. */
export async function putRows(): Promise<RatioRow[]> {
  const big = new Float64Array(LENGTH).map((_, i) => i);
  const runs = {
    worker: [] as { argument: number; put: number }[],
    process: [] as { argument: number; put: number }[],
    put: [] as { put: number; clone: number }[],
  };
  for (let i = 0; i < RUNS; i++) {
    runs.worker.push(await taskFigures("worker", big));
    runs.process.push(await taskFigures("process", big));
    runs.put.push(await putFigures(big));
  }
  const tasks = (kind: Kind, name: string): RatioRow => ({
    figure: `${TASKS} LB tasks reading a 64 MB Float64Array, 2 ${name}, ` +
      "put once",
    troupe: median(runs[kind].map((r) => r.put)),
    against: "the array as every task's argument",
    value: median(runs[kind].map((r) => r.argument)),
    goal: undefined,
    unit: "ms",
  });
  return [
    tasks("worker", "Worker engines"),
    tasks("process", "engine processes"),
    {
      figure: "client.put of a 64 MB Float64Array (a copy into shared memory)",
      troupe: median(runs.put.map((r) => r.put)),
      against: "a bare structuredClone of it (a postMessage's copy)",
      value: median(runs.put.map((r) => r.clone)),
      goal: undefined,
      unit: "ms",
    },
  ];
}

if (import.meta.main) {
  console.log(ratioTable(await putRows()).join("\n"));
}
