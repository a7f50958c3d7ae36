/**
 * What tracing costs (issue 17): tiny load-balanced tasks per second on 2
 * Worker engines with tracing off, with tracing on (every task's spans
 * exported to a receiver on 127.0.0.1 that reads each POST and answers
 * 200), and the raw limit the other tiny-task figures use (pipelined
 * messages to one bare node:worker_threads Worker), side by side in one
 * table, all measured in the same run.
 *
 *   deno run -A bench/tracing_figures.ts [--quick]
 *
 * Each troupe figure is the median of RUNS rounds, off and on alternating
 * which goes first; each round is TASKS tasks submitted at once, timed
 * until the last result (for tracing on, not until its spans are sent:
 * that happens in batches behind the results, and close() sends the
 * rest; its queue is unbounded here, so no span is dropped and the cost of
 * every one is counted). Nothing here asserts a time: the table is for
 * people to read.
 *
 * @module
 */

import { Client, type TracingStats } from "../mod.ts";
import { fmt, quick, tinyTasksPerSecond } from "./config.ts";
import { rawWorkerPipelined } from "./raw_limits.ts";
import { median } from "./stats.ts";

const RUNS = quick ? 5 : 21;
/** Tiny tasks per round. */
const TASKS = 2000;

/** Tasks per second of one round of TASKS tiny tasks on `client`. */
function round(client: Client): Promise<number> {
  return tinyTasksPerSecond(client, {}, TASKS);
}

/**
 * The figures' table: tasks/s with tracing off, on, and the raw limit, and
 * what the exporter did (spans exported and dropped, failed POSTs).
 *
 * @example
 * ```ts ignore
 * import { tracingFigures } from "./tracing_figures.ts";
 * console.log((await tracingFigures()).join("\n"));
 * ```
 */
export async function tracingFigures(): Promise<string[]> {
  let posts = 0;
  const receiver = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      posts++;
      await request.arrayBuffer();
      return new Response("{}");
    },
  );
  const endpoint = `http://127.0.0.1:${receiver.addr.port}/v1/traces`;
  const off = await Client.start({ workers: 2 });
  // A queue that never fills: every span is encoded and sent, so its whole
  // cost is in the figure (with the default 8192, bursts drop spans).
  const on = await Client.start({
    workers: 2,
    tracing: { endpoint, maxQueue: 1_000_000 },
  });
  const perSecond = { off: [] as number[], on: [] as number[] };
  let stats: TracingStats | undefined;
  try {
    await round(off); // warm-up: both clients' engines and functions
    await round(on);
    for (let i = 0; i < RUNS; i++) {
      const order = i % 2 === 0
        ? ["off", "on"] as const
        : ["on", "off"] as const;
      for (const side of order) {
        perSecond[side].push(await round(side === "off" ? off : on));
      }
    }
  } finally {
    await off.close();
    await on.close(); // sends what waits
    stats = on.tracingStats();
    await receiver.shutdown();
  }
  const raw = await rawWorkerPipelined(TASKS * 20);
  const tasksOff = median(perSecond.off);
  const tasksOn = median(perSecond.on);
  return [
    "| figure | tracing off | tracing on (local receiver) | raw limit, same run |",
    "| --- | --- | --- | --- |",
    `| tiny tasks/s, load-balanced, 2 Worker engines, ${TASKS} a round | ${
      fmt(tasksOff)
    } | ${fmt(tasksOn)} (${(tasksOn / tasksOff).toFixed(2)}× off) | ${
      fmt(raw)
    } messages/s (pipelined, 1 thread) |`,
    `| spans exported / dropped, failed POSTs (POSTs received) | — | ${
      fmt(stats?.exported ?? 0)
    } / ${fmt(stats?.dropped ?? 0)}, ${fmt(stats?.failedPosts ?? 0)} (${
      fmt(posts)
    }) | — |`,
  ];
}

if (import.meta.main) {
  console.log((await tracingFigures()).join("\n"));
}
