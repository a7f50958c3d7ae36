/**
 * Tiny tasks on Worker engines and load balancing (issue 13): each figure
 * beside its peer or raw limit measured in the same run, with the ratio and
 * the goal.
 *
 *   deno run -A bench/scheduling_figures.ts [--quick]
 *
 * - load-balanced tiny tasks/s on 2 Worker engines with default options
 *   (and `highWaterMark` 1 and 16) against piscina with 2 threads;
 * - the no-op round trip p50 of a Worker engine against a bare
 *   `node:worker_threads` echo;
 * - the makespan of a skewed workload (mostly 1 ms tasks, 1% of 200 ms, in
 *   a random order with a fixed seed) with the default, adaptive depth
 *   against `highWaterMark: 1`.
 *
 * Each figure is the median of 3 runs (1 with `--quick`), the runs of the
 * two sides taken in turn. Nothing here asserts a time.
 *
 * @module
 */

import { Client, type LoadBalancedOptions } from "../mod.ts";
import { N_LATENCY, quick, tinyTasksPerSecond } from "./config.ts";
import { type PeerResult, runPeer } from "./peers.ts";
import { type RatioRow, ratioTable } from "./process_figures.ts";
import { rawWorkerPingPong } from "./raw_limits.ts";
import { median, timeEach } from "./stats.ts";

const RUNS = quick ? 1 : 3;

/** The skewed workload: this many tasks, this share of them long. */
const SKEWED_TASKS = 2000;
const LONG_SHARE = 0.01;
const SHORT_MS = 1;
const LONG_MS = 200;

/**
 * The skewed workload's task lengths, in a random order that is the same
 * on every run (a seeded mulberry32).
 *
 * @example
 * ```ts
 * import { skewedDurations } from "./scheduling_figures.ts";
 * const ms = skewedDurations(2000);
 * console.log(ms.filter((d) => d === 200).length); // 20, the same places each run
 * ```
 */
export function skewedDurations(
  n: number = SKEWED_TASKS,
  seed = 13,
): number[] {
  const long = Math.round(n * LONG_SHARE);
  const out: number[] = Array.from(
    { length: n },
    (_, i) => i < long ? LONG_MS : SHORT_MS,
  );
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Milliseconds from submitting the skewed workload to its last result. */
async function makespanMs(
  client: Client,
  options: LoadBalancedOptions,
  durations: number[],
): Promise<number> {
  const lv = client.loadBalancedView(options);
  const start = performance.now();
  await Promise.all(durations.map((ms) =>
    lv.applyAsync((ms: number) => {
      // Work, not a timer: a task that holds its engine's thread.
      const end = performance.now() + ms;
      while (performance.now() < end);
      return ms;
    }, ms).get()
  ));
  return performance.now() - start;
}

/**
 * Measures the figures on 2 Worker engines and returns the rows. `peers`
 * are the peers' results of the same run (`printPeers`); without piscina
 * among them (`--quick`), piscina is run here.
 *
 * @example
 * ```ts
 * import { schedulingFigures } from "./scheduling_figures.ts";
 * import { ratioTable } from "./process_figures.ts";
 * // Takes a minute of both cores: only when asked.
 * if (Deno.args.includes("--bench")) {
 *   console.log(ratioTable(await schedulingFigures([])).join("\n"));
 * }
 * ```
 */
export async function schedulingFigures(
  peers: PeerResult[],
): Promise<RatioRow[]> {
  const client = await Client.start({ workers: 2 });
  const rows: RatioRow[] = [];
  try {
    // The round trip, against a bare echo, in turn.
    const noop: number[] = [];
    const bare: number[] = [];
    const one = client.view(client.ids[0]);
    for (let i = 0; i < RUNS; i++) {
      noop.push(
        median(
          await timeEach(N_LATENCY, 200, () => one.applyAsync(() => 0)),
        ),
      );
      bare.push(median(await rawWorkerPingPong()));
    }

    const rates = new Map<string, number[]>();
    const settings: [string, LoadBalancedOptions][] = [
      ["default options", {}],
      ["highWaterMark 1", { highWaterMark: 1 }],
      ["highWaterMark 16", { highWaterMark: 16 }],
    ];
    for (const [, options] of settings) {
      await tinyTasksPerSecond(client, options);
    }
    for (let i = 0; i < RUNS; i++) {
      for (const [name, options] of settings) {
        const list = rates.get(name) ?? [];
        list.push(await tinyTasksPerSecond(client, options));
        rates.set(name, list);
      }
    }

    const durations = skewedDurations();
    const adaptive: number[] = [];
    const one1: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      one1.push(await makespanMs(client, { highWaterMark: 1 }, durations));
      adaptive.push(await makespanMs(client, {}, durations));
    }

    const piscina = peers.find((p) => p.peer === "piscina") ??
      await runPeer("node", ["bench/peers/piscina.mjs"]);
    const piscinaRate = piscina.tiny_tasks_per_s ?? NaN;
    const against = piscina.missing
      ? `piscina (${piscina.missing})`
      : `piscina ${piscina.version ?? ""}, 2 threads`;
    for (const [name] of settings) {
      rows.push({
        figure: `tiny tasks/s, load-balanced, 2 Worker engines, ${name}`,
        troupe: median(rates.get(name)!),
        against,
        value: piscinaRate,
        goal: name === "default options" ? { op: "≥", ratio: 2 } : undefined,
        unit: "/s",
      });
    }
    rows.push({
      figure: "no-op round trip p50, Worker engine",
      troupe: median(noop),
      against: "bare node:worker_threads echo",
      value: median(bare),
      goal: { op: "≤", ratio: 1.2 },
      unit: "µs",
    });
    rows.push({
      figure:
        `makespan of ${SKEWED_TASKS} tasks (${SHORT_MS} ms, ${
          LONG_SHARE * 100
        }% of ${LONG_MS} ms, shuffled), 2 Worker engines, default ` +
        "(adaptive depth)",
      troupe: median(adaptive),
      against: "highWaterMark 1",
      value: median(one1),
      goal: { op: "≤", ratio: 1.1 },
      unit: "ms",
    });
    return rows;
  } finally {
    await client.close();
  }
}

if (import.meta.main) {
  console.log(ratioTable(await schedulingFigures([])).join("\n"));
}
