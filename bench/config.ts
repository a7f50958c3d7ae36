/**
 * What every benchmark shares: the sizes of a run (`--quick` for a short
 * one), the row of the results table, and how numbers are written.
 *
 * @module
 */

import type { Client, LoadBalancedOptions } from "../mod.ts";
import { percentile } from "./stats.ts";

/** `--quick`: fewer samples, for a look rather than a figure. */
export const quick: boolean = Deno.args.includes("--quick");
/** Round trips timed per latency figure. */
export const N_LATENCY: number = quick ? 500 : 3000;
/** Tiny tasks per throughput figure. */
export const N_TINY: number = quick ? 5000 : 40_000;
/** Float64s in the bulk figures: 80 MB. */
export const BIG = 10_000_000;

/** One row of the results table. */
export interface Row {
  figure: string;
  troupe: string;
  raw: string;
}

/** A number with thousands separators. */
export const fmt = (n: number, digits = 0): string =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits });

/** The p50 / p99 of samples in µs. */
export const pair = (samples: number[]): string =>
  `${fmt(percentile(samples, 50))} / ${fmt(percentile(samples, 99))} µs`;

/**
 * Load-balanced tiny tasks (`x + 1`) per second on `client`: `tasks`
 * (`N_TINY` unless told) submitted at once, timed until the last result.
 * The one workload every tiny-task figure and its peers use.
 */
export async function tinyTasksPerSecond(
  client: Client,
  options: LoadBalancedOptions = {},
  tasks: number = N_TINY,
): Promise<number> {
  const lv = client.loadBalancedView(options);
  const start = performance.now();
  const all: Promise<number>[] = [];
  for (let i = 0; i < tasks; i++) {
    all.push(lv.applyAsync((x: number) => x + 1, i).get());
  }
  await Promise.all(all);
  return tasks / ((performance.now() - start) / 1000);
}
