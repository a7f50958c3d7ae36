/**
 * Engine processes at wire speed (issue 13): each figure beside its raw limit
 * or peer measured in the same run, with the ratio and the goal.
 *
 *   deno run -A bench/process_figures.ts [--quick] [--bulk]
 *
 * `--bulk` measures only the bulk rows (push and pull against bare TCP and
 * ipyparallel).
 *
 * Throughputs are the median of 3 runs; latencies the p50 of N_LATENCY round
 * trips. Nothing here asserts a time: the table is for people to read.
 *
 * @module
 */

import { Client } from "../mod.ts";
import { BIG, fmt, N_LATENCY, tinyTasksPerSecond } from "./config.ts";
import { runPeer } from "./peers.ts";
import {
  rawProcessHopPingPong,
  rawTcp,
  rawWorkerPingPong,
} from "./raw_limits.ts";
import { median, timeEach } from "./stats.ts";

/** One row: a figure, troupe's value, what it is compared with, the goal. */
export interface RatioRow {
  figure: string;
  troupe: number;
  /** The peer or raw limit, named, e.g. "bare TCP 8 MiB frames". */
  against: string;
  value: number;
  /** "≥" when more is better, "≤" when less is. */
  goal: { op: "≥" | "≤"; ratio: number } | undefined;
  unit: string;
}

const MIB = (BIG * 8) / 2 ** 20;

/** MiB/s of push and pull of one 80 MB Float64Array to one engine. */
async function bulkRates(
  client: Client,
): Promise<{ push: number; pull: number }> {
  const one = client.view(client.ids[0]);
  const big = new Float64Array(BIG);
  const rate = async (f: () => Promise<unknown>) =>
    MIB / (median(await timeEach(3, 1, f)) / 1e6);
  const push = await rate(() => one.push({ big }));
  const pull = await rate(() => one.pull("big"));
  return { push, pull };
}

/**
 * Load-balanced tiny tasks per second, default options, median of 3 after
 * a warm-up.
 *
 * @example
 * ```ts ignore
 * import { tinyRate } from "./process_figures.ts";
 * console.log(await tinyRate(client));
 * ```
 */
export async function tinyRate(client: Client): Promise<number> {
  await tinyTasksPerSecond(client); // warm-up
  return median([
    await tinyTasksPerSecond(client),
    await tinyTasksPerSecond(client),
    await tinyTasksPerSecond(client),
  ]);
}

/** ipyparallel's push and pull figures, or why it did not run. */
interface PeerBulk {
  push_mb_per_s?: number;
  pull_mb_per_s?: number;
  missing?: string;
}

async function ipyparallelBulk(): Promise<PeerBulk> {
  return await runPeer("/usr/bin/python3", [
    "bench/peers/ipyparallel_peer.py",
    "--bulk",
  ]) as PeerBulk;
}

/** The bulk rows: push and pull against bare TCP and ipyparallel. */
function bulkRows(
  plain: { push: number; pull: number },
  tcpBulk: number,
  ipp: PeerBulk,
): RatioRow[] {
  const rows: RatioRow[] = [];
  for (const way of ["push", "pull"] as const) {
    rows.push({
      figure: `${way} 80 MB Float64Array, process engine, MiB/s`,
      troupe: plain[way],
      against: "bare TCP, 8 MiB frames",
      value: tcpBulk,
      goal: { op: "≥", ratio: 0.8 },
      unit: "MiB/s",
    });
    const peer = ipp[`${way}_mb_per_s`];
    rows.push({
      figure: `${way} 80 MB Float64Array, process engine, MiB/s`,
      troupe: plain[way],
      against: peer === undefined
        ? `ipyparallel (not run: ${ipp.missing ?? "no figure"})`
        : "ipyparallel 7.1.0",
      value: peer ?? NaN,
      goal: { op: "≥", ratio: 2 },
      unit: "MiB/s",
    });
  }
  return rows;
}

/**
 * Only the bulk rows (`--bulk`): push and pull of 80 MB to one process
 * engine, the bare TCP rate right before them, then ipyparallel's.
 *
 * @example
 * ```ts
 * import { bulkFigures, ratioTable } from "./process_figures.ts";
 * // Takes a minute of both cores: only when asked.
 * if (Deno.args.includes("--bench")) {
 *   console.log(ratioTable(await bulkFigures()).join("\n"));
 * }
 * ```
 */
export async function bulkFigures(): Promise<RatioRow[]> {
  const tcp = await rawTcp();
  const processes = await Client.start({ workers: 0, processes: 1 });
  const bulk: number[] = [];
  let plain: { push: number; pull: number };
  try {
    for (let i = 0; i < 3; i++) bulk.push(await tcp.bulkMBps(BIG * 8));
    plain = await bulkRates(processes);
  } finally {
    await processes.close();
    await tcp.close();
  }
  return bulkRows(plain, median(bulk), await ipyparallelBulk());
}

/**
 * Measures the process-engine figures and their limits in one run and
 * returns the rows.
 *
 * @example
 * ```ts
 * import { processFigures, ratioTable } from "./process_figures.ts";
 * // Takes a minute of both cores: only when asked.
 * if (Deno.args.includes("--bench")) {
 *   console.log(ratioTable(await processFigures()).join("\n"));
 * }
 * ```
 */
export async function processFigures(): Promise<RatioRow[]> {
  console.error("measuring process engines against their limits…");
  const workerEcho = median(await rawWorkerPingPong());
  const tcp = await rawTcp();
  const tcpPing = median(await tcp.pingPong());
  const processHop = median(await rawProcessHopPingPong());

  const workers = await Client.start({ workers: 2 });
  let workerTiny: number;
  try {
    workerTiny = await tinyRate(workers);
  } finally {
    await workers.close();
  }

  const processes = await Client.start({ workers: 0, processes: 2 });
  const bulk: number[] = [];
  let noop: number;
  let tiny: number;
  let plain: { push: number; pull: number };
  try {
    const one = processes.view(processes.ids[0]);
    noop = median(
      await timeEach(N_LATENCY, 200, () => one.applyAsync(() => 0)),
    );
    tiny = await tinyRate(processes);
    // The bare rate right before troupe's, on a machine in the same state.
    for (let i = 0; i < 3; i++) bulk.push(await tcp.bulkMBps(BIG * 8));
    plain = await bulkRates(processes);
  } finally {
    await processes.close();
    await tcp.close();
  }
  const tcpBulk = median(bulk);

  const sealedClient = await Client.start({
    workers: 0,
    processes: 1,
    encrypt: true,
  });
  let sealedNoop: number;
  let sealed: { push: number; pull: number };
  try {
    const one = sealedClient.view(sealedClient.ids[0]);
    sealedNoop = median(
      await timeEach(N_LATENCY, 200, () => one.applyAsync(() => 0)),
    );
    sealed = await bulkRates(sealedClient);
  } finally {
    await sealedClient.close();
  }

  const ipp = await ipyparallelBulk();

  const rows: RatioRow[] = [
    {
      figure: "no-op round trip p50, process engine",
      troupe: noop,
      against: `bare TCP frame ping-pong ${fmt(tcpPing)} + bare Worker echo ${
        fmt(workerEcho)
      }`,
      value: tcpPing + workerEcho,
      goal: { op: "≤", ratio: 1.3 },
      unit: "µs",
    },
    {
      // The goal's path without troupe: how far below it troupe could go.
      figure: "no-op round trip p50, process engine",
      troupe: noop,
      against:
        "a bare deno process: TCP echo through a node:worker_threads thread",
      value: processHop,
      goal: undefined,
      unit: "µs",
    },
    {
      figure: "tiny tasks/s, LB, 2 process engines, default options",
      troupe: tiny,
      against: "2 Worker engines",
      value: workerTiny,
      goal: { op: "≥", ratio: 0.5 },
      unit: "/s",
    },
  ];
  rows.push(...bulkRows(plain, tcpBulk, ipp));
  rows.push({
    figure: "no-op round trip p50, process engine, sealed",
    troupe: sealedNoop,
    against: "plain frames",
    value: noop,
    goal: undefined,
    unit: "µs",
  });
  for (const way of ["push", "pull"] as const) {
    rows.push({
      figure: `${way} 80 MB Float64Array, process engine, sealed, MiB/s`,
      troupe: sealed[way],
      against: "plain frames",
      value: plain[way],
      goal: undefined,
      unit: "MiB/s",
    });
  }
  return rows;
}

/**
 * The rows as a markdown table: figure, troupe, the limit or peer, the
 * ratio, the goal and whether it is met.
 *
 * @example
 * ```ts
 * import { ratioTable } from "./process_figures.ts";
 * console.log(ratioTable([{
 *   figure: "x", troupe: 2, against: "y", value: 1, unit: "/s",
 *   goal: { op: "≥", ratio: 2 },
 * }]).join("\n"));
 * ```
 */
export function ratioTable(rows: RatioRow[]): string[] {
  const lines = [
    "| figure | troupe | limit or peer, same run | ratio | goal |",
    "| --- | --- | --- | --- | --- |",
  ];
  for (const r of rows) {
    const ratio = r.troupe / r.value;
    const met = r.goal === undefined || !Number.isFinite(ratio)
      ? ""
      : (r.goal.op === "≥" ? ratio >= r.goal.ratio : ratio <= r.goal.ratio)
      ? " (met)"
      : " (missed)";
    lines.push(
      `| ${r.figure} | ${fmt(r.troupe)} ${r.unit} | ${r.against}: ${
        Number.isFinite(r.value) ? fmt(r.value) : "—"
      } ${r.unit} | ${Number.isFinite(ratio) ? ratio.toFixed(2) : "—"}× | ${
        r.goal ? `${r.goal.op} ${r.goal.ratio}×${met}` : "—"
      } |`,
    );
  }
  return lines;
}

if (import.meta.main) {
  const rows = Deno.args.includes("--bulk")
    ? await bulkFigures()
    : await processFigures();
  console.log(ratioTable(rows).join("\n"));
}
