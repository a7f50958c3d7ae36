/**
 * What passing values by future costs (issue 16's dependencies): a chain
 * of CHAIN load-balanced tasks, each taking the last one's 1 MB
 * Float64Array and giving it on (one element changed), run three ways in
 * the same run, on 2 Worker engines and on 2 engine processes, embedded
 * (`Client.start`) and through a controller in a process of its own
 * (`Client.connect`, bench/controller_host.ts):
 *
 * - by future: every task is submitted at once, each with the last one's
 *   `AsyncResult` as its argument; the core (the client's, or the
 *   controller's) holds each until its dependency ends and puts the value
 *   in, so the value goes engine → hub → engine;
 * - by hand: `await` each task, then submit the next with its value: the
 *   value goes engine → client → engine, with a client round trip between;
 * - one task doing every step: the floor, no value crosses between steps.
 *
 *   deno run -A bench/dependency_figures.ts [--quick]
 *
 * Each figure is the median of 4 runs (1 with `--quick`), half of them
 * by future first, half by hand first. Nothing here
 * asserts a time: the table is for people to read.
 *
 * @module
 */

import { type AsyncResult, Client } from "../mod.ts";
import { quick } from "./config.ts";
import { withHostedController } from "./hosted_controller.ts";
import { type RatioRow, ratioTable } from "./process_figures.ts";
import { median } from "./stats.ts";

const RUNS = quick ? 1 : 4;
/** Tasks in the chain. */
const CHAIN = 100;
/** Elements of the value: 1 MiB of Float64Array. */
const LENGTH = 131_072;

/** One cluster's times, in ms. */
interface Times {
  future: number;
  hand: number;
  one: number;
}

const first = (n: number) => new Float64Array(n);
const step = (a: Float64Array): Float64Array => {
  a[0] += 1;
  return a;
};

/**
 * The three chains' times on `client`; by future first when `futureFirst`,
 * else by hand first. The runs alternate: whichever came first was charged
 * for what the warm-up left (a collection of its garbage, say): by future,
 * always first, measured 121 ms against by hand's 81 for Worker engines,
 * while alternated over 24 chains of one client their medians were 110
 * and 113 ms.
 */
async function chainTimes(
  client: Client,
  futureFirst: boolean,
): Promise<Times> {
  const lv = client.loadBalancedView();
  const time = async (run: () => Promise<Float64Array>) => {
    const start = performance.now();
    const last = await run();
    const ms = performance.now() - start;
    if (last[0] !== CHAIN - 1 || last.length !== LENGTH) {
      throw new Error(`the chain gave ${last[0]} of ${last.length}`);
    }
    return ms;
  };
  const byFuture = (steps: number) => {
    let ar: AsyncResult<Float64Array> = lv.applyAsync(first, LENGTH);
    for (let i = 1; i < steps; i++) ar = lv.applyAsync(step, ar);
    return ar.get();
  };
  const byHand = async (steps: number) => {
    let value: Float64Array = await lv.applyAsync(first, LENGTH);
    for (let i = 1; i < steps; i++) value = await lv.applyAsync(step, value);
    return value;
  };
  // Warm both ways: the first megabyte through a link costs more (its
  // buffers, the compiled paths), and would be charged to what runs first.
  await byFuture(CHAIN / 10);
  await byHand(CHAIN / 10);
  let future = 0;
  let hand = 0;
  if (futureFirst) {
    future = await time(() => byFuture(CHAIN));
    hand = await time(() => byHand(CHAIN));
  } else {
    hand = await time(() => byHand(CHAIN));
    future = await time(() => byFuture(CHAIN));
  }
  const one = await time(() =>
    lv.applyAsync(
      (n: number, steps: number) => {
        const a = new Float64Array(n);
        for (let i = 1; i < steps; i++) a[0] += 1;
        return a;
      },
      LENGTH,
      CHAIN,
    ).get()
  );
  return { future, hand, one };
}

async function embedded(
  processes: boolean,
  futureFirst: boolean,
): Promise<Times> {
  const client = await Client.start(
    processes ? { workers: 0, processes: 2 } : { workers: 2 },
  );
  try {
    return await chainTimes(client, futureFirst);
  } finally {
    await client.close();
  }
}

function connected(
  processes: boolean,
  futureFirst: boolean,
): Promise<Times> {
  return withHostedController(
    [":memory:", ...(processes ? ["processes"] : [])],
    async (client) => {
      await client.waitForEngines(2, { timeoutMs: 60_000 });
      return await chainTimes(client, futureFirst);
    },
  );
}

/**
 * Measures the chains on each cluster, one cluster at a time, and returns
 * the rows: by future against by hand, and against one task.
 *
 * @example
 * ```ts
 * import { dependencyFigures } from "./dependency_figures.ts";
 * import { ratioTable } from "./process_figures.ts";
 * // Takes a minute of both cores: only when asked.
 * if (Deno.args.includes("--bench")) {
 *   console.log(ratioTable(await dependencyFigures()).join("\n"));
 * }
 * ```
 */
export async function dependencyFigures(): Promise<RatioRow[]> {
  console.error("measuring chains of futures…");
  const sides = [
    ["2 Worker engines, embedded", (f: boolean) => embedded(false, f)],
    ["2 engine processes, embedded", (f: boolean) => embedded(true, f)],
    [
      "2 Worker engines, through a controller",
      (f: boolean) => connected(false, f),
    ],
    [
      "2 engine processes, through a controller",
      (f: boolean) => connected(true, f),
    ],
  ] as const;
  const runs: Times[][] = sides.map(() => []);
  for (let i = 0; i < RUNS; i++) {
    for (const [s, [, measure]] of sides.entries()) {
      runs[s].push(await measure(i % 2 === 0));
    }
  }
  return sides.flatMap(([name], s) => {
    const pick = (k: keyof Times) => median(runs[s].map((r) => r[k]));
    const figure = `chain of ${CHAIN} tasks passing 1 MiB by future, ${name}`;
    return [
      {
        figure,
        troupe: pick("future"),
        against: "the same chain by hand (await, then submit the value)",
        value: pick("hand"),
        goal: undefined,
        unit: "ms",
      },
      {
        figure,
        troupe: pick("future"),
        against: "one task doing every step",
        value: pick("one"),
        goal: undefined,
        unit: "ms",
      },
    ];
  });
}

if (import.meta.main) {
  console.log(ratioTable(await dependencyFigures()).join("\n"));
}
