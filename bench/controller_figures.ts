/**
 * What a controller costs (issue 15): the same figures on a client that
 * `Client.connect`s to a controller, which runs in a process of its own
 * with 2 Worker engines (bench/controller_host.ts), and on an embedded
 * client of 2 Worker engines (`Client.start`), measured in one run; and
 * the controller's history in a file (what `troupe start` gives) against
 * one in memory (":memory:").
 *
 *   deno run -A bench/controller_figures.ts [--quick]
 *
 * - the no-op round trip p50 and p99 (N_LATENCY round trips after 200);
 * - load-balanced tiny tasks/s with default options (the median of 3 runs
 *   after a warm-up).
 *
 * Each figure is the median of 3 runs (1 with `--quick`), the three
 * clusters' runs taken in turn, one cluster at a time, so that no engine
 * of another competes for the cores. Nothing here asserts a time: the table is for people to read.
 *
 * @module
 */

import { Client } from "../mod.ts";
import { N_LATENCY, quick } from "./config.ts";
import { withHostedController } from "./hosted_controller.ts";
import { type RatioRow, ratioTable, tinyRate } from "./process_figures.ts";
import { rawProcessHopPingPong, rawTcp } from "./raw_limits.ts";
import { median, percentile, timeEach } from "./stats.ts";

const RUNS = quick ? 1 : 3;

/** One cluster's figures. */
interface Figures {
  p50: number;
  p99: number;
  tiny: number;
}

/** Each figure's median over runs. */
function medians(runs: Figures[]): Figures {
  return {
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    tiny: median(runs.map((r) => r.tiny)),
  };
}

async function measure(client: Client): Promise<Figures> {
  const one = client.view(client.ids[0]);
  const noop = await timeEach(N_LATENCY, 200, () => one.applyAsync(() => 0));
  return {
    p50: percentile(noop, 50),
    p99: percentile(noop, 99),
    tiny: await tinyRate(client),
  };
}

async function embedded(): Promise<Figures> {
  const client = await Client.start({ workers: 2 });
  try {
    return await measure(client);
  } finally {
    await client.close();
  }
}

/** The figures through a controller whose history is at `path`. */
function connected(path: string): Promise<Figures> {
  return withHostedController([path], measure);
}

/**
 * Measures the figures, one cluster after another, and returns the rows.
 *
 * @example
 * ```ts
 * import { controllerFigures } from "./controller_figures.ts";
 * import { ratioTable } from "./process_figures.ts";
 * // Takes a minute and a half of both cores: only when asked.
 * if (Deno.args.includes("--bench")) {
 *   console.log(ratioTable(await controllerFigures()).join("\n"));
 * }
 * ```
 */
export async function controllerFigures(): Promise<RatioRow[]> {
  console.error("measuring a controller against an embedded client…");
  const dir = await Deno.makeTempDir({ prefix: "troupe_bench_controller_" });
  const runs: Record<"local" | "file" | "memory", Figures[]> = {
    local: [],
    file: [],
    memory: [],
  };
  // The raw limit of the hop a controller adds: a bare TCP frame ping-pong.
  const tcpPings: number[] = [];
  // The raw limit of the whole path: the same processes and thread hops
  // as a controller's round trip, with no troupe code. The in-process
  // ping-pong above never wakes another process, which a controller's
  // round trip must (measured here: 178 to 246 µs, against its 35 µs).
  const processHops: number[] = [];
  try {
    // The sides in turn, so that a machine busy for a while (other tests,
    // two cores) weighs on each alike.
    for (let i = 0; i < RUNS; i++) {
      const tcp = await rawTcp();
      try {
        tcpPings.push(median(await tcp.pingPong()));
      } finally {
        await tcp.close();
      }
      processHops.push(median(await rawProcessHopPingPong()));
      runs.local.push(await embedded());
      runs.file.push(await connected(`${dir}/history-${i}.sqlite`));
      runs.memory.push(await connected(":memory:"));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const [local, file, memory] = [runs.local, runs.file, runs.memory].map(
    medians,
  );
  const noop = (figure: string, p: "p50" | "p99", a: Figures, b: Figures) => ({
    figure: `no-op round trip ${p}, Worker engine, ${figure}`,
    troupe: a[p],
    against: b === local ? "an embedded client" : "history in memory",
    value: b[p],
    goal: undefined,
    unit: "µs",
  });
  const tiny = (figure: string, a: Figures, b: Figures) => ({
    figure: `tiny tasks/s, LB, 2 Worker engines, default options, ${figure}`,
    troupe: a.tiny,
    against: b === local ? "an embedded client" : "history in memory",
    value: b.tiny,
    goal: undefined,
    unit: "/s",
  });
  const through = "through a controller";
  const tcpPing = median(tcpPings);
  return [
    noop(through, "p50", file, local),
    {
      figure: `no-op round trip p50, Worker engine, ${through}`,
      troupe: file.p50,
      against: `an embedded client + a bare TCP frame ping-pong ` +
        `(${Math.round(tcpPing)} µs), the hop it adds`,
      value: local.p50 + tcpPing,
      goal: undefined,
      unit: "µs",
    },
    {
      figure: `no-op round trip p50, Worker engine, ${through}`,
      troupe: file.p50,
      against: "a bare process hop: a frame over TCP to a deno process, " +
        "through its worker thread and back, no troupe code",
      value: median(processHops),
      goal: undefined,
      unit: "µs",
    },
    noop(through, "p99", file, local),
    tiny(through, file, local),
    noop(`${through}, history in a file`, "p50", file, memory),
    noop(`${through}, history in a file`, "p99", file, memory),
    tiny(`${through}, history in a file`, file, memory),
  ];
}

if (import.meta.main) {
  console.log(ratioTable(await controllerFigures()).join("\n"));
}
