/**
 * Small statistics for the benchmarks.
 *
 * @module
 */

/**
 * The `p`th percentile (0–100) of `samples`, nearest rank.
 *
 * @example
 * ```ts
 * import { percentile } from "./stats.ts";
 * console.log(percentile([3, 1, 2], 50)); // 2
 * ```
 */
export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

/**
 * The median of `samples` (the 50th percentile, nearest rank).
 *
 * @example
 * ```ts
 * import { median } from "./stats.ts";
 * console.log(median([3, 1, 2])); // 2
 * ```
 */
export function median(samples: number[]): number {
  return percentile(samples, 50);
}

/**
 * Times `n` sequential runs of `fn` after `warmup` unmeasured ones; returns
 * the samples in microseconds.
 *
 * @example
 * ```ts
 * import { timeEach } from "./stats.ts";
 * const us = await timeEach(100, 10, async () => {});
 * ```
 */
export async function timeEach(
  n: number,
  warmup: number,
  fn: () => PromiseLike<unknown>,
): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await fn();
    samples.push((performance.now() - start) * 1000);
  }
  return samples;
}
