/**
 * Whole-system benchmarks: troupe against the raw limit, measured in the
 * same run, printed as one table; then the peers that are installed.
 *
 *   deno task bench            # micro benchmarks, then this
 *   deno run -A bench/system.ts [--quick]
 *   deno run -A bench/system.ts --sealed   # only sealed vs plain frames
 *
 * Nothing here asserts a time: the numbers are for people to read.
 *
 * @module
 */

import { BIG, fmt, N_TINY, pair, quick, type Row } from "./config.ts";
import { printPeers } from "./peers.ts";
import { processFigures, ratioTable } from "./process_figures.ts";
import {
  rawDenoStartMs,
  rawNewWorkersMs,
  rawTcp,
  rawWebWorkerPingPong,
  rawWorkerPingPong,
  rawWorkerPipelined,
} from "./raw_limits.ts";
import { controllerFigures } from "./controller_figures.ts";
import { dependencyFigures } from "./dependency_figures.ts";
import { launchFigures } from "./launch_figures.ts";
import { scaleFigures } from "./scale_figures.ts";
import { schedulingFigures } from "./scheduling_figures.ts";
import { tracingFigures } from "./tracing_figures.ts";
import { percentile, timeEach } from "./stats.ts";
import {
  memoryWithManyPublishers,
  sealedFigures,
  startEightWorkersMs,
  troupeFigures,
} from "./troupe_figures.ts";

if (Deno.args.includes("--sealed")) {
  const rows = await sealedFigures();
  console.log("\n| figure | troupe | plain frames |");
  console.log("| --- | --- | --- |");
  for (const r of rows) {
    console.log(`| ${r.figure} | ${r.troupe} | ${r.raw} |`);
  }
  Deno.exit(0);
}

// ---- the run ---------------------------------------------------------------

console.error("measuring raw limits…");
const rawNode = await rawWorkerPingPong();
const rawWeb = await rawWebWorkerPingPong();
const rawPipe = await rawWorkerPipelined(N_TINY * 2);
const tcp = await rawTcp();
const rawTcpRt = await tcp.pingPong();
const rawTcpPipe = await tcp.pipelined(N_TINY * 2);
const rawTcpBulk = await tcp.bulkMBps(BIG * 8);
await tcp.close();
const memcpyMs = (await timeEach(3, 1, () => {
  new Float64Array(BIG).slice();
  return Promise.resolve();
})).map((us) => us / 1000);
const rawWorkersMs = await rawNewWorkersMs(8);
const rawDenoMs = [await rawDenoStartMs(), await rawDenoStartMs()];

console.error("measuring troupe…");
const workers = await troupeFigures("worker");
const processes = await troupeFigures("process");
const rows: Row[] = [
  ...workers.rows,
  ...processes.rows,
  ...await sealedFigures(),
];
const eightMs = await startEightWorkersMs();
const memory = await memoryWithManyPublishers();

const mb = (BIG * 8) / 2 ** 20;
const raw: Record<string, string> = {
  "no-op round trip, Worker engine, p50 / p99": `${
    pair(rawNode)
  } (node:worker_threads); ${pair(rawWeb)} (web Worker)`,
  "no-op round trip, process engine, p50 / p99": `${
    pair(rawTcpRt)
  } (TCP msgpack ping-pong); ${
    fmt(percentile(rawTcpRt, 50) + percentile(rawNode, 50))
  } µs p50 with the engine's hop to its task thread`,
  "tiny tasks/s, load-balanced, 2 Worker engines": `${
    fmt(rawPipe)
  } messages/s (pipelined, 1 thread)`,
  "tiny tasks/s, load-balanced, 2 process engines": `${
    fmt(rawTcpPipe)
  } frames/s (pipelined TCP)`,
  "push / pull of an 80 MB Float64Array, Worker engine, MB/s": `${
    fmt(mb / (percentile(memcpyMs, 50) / 1000))
  } (memcpy)`,
  "push / pull of an 80 MB Float64Array, process engine, MB/s": `${
    fmt(rawTcpBulk)
  } (bare TCP bulk)`,
  "start 2 Worker engines, ms": `${fmt(rawWorkersMs)} ms for 8 bare Workers`,
  "start 2 process engines, ms": `${
    fmt(Math.max(...rawDenoMs))
  } ms for one bare deno to first TCP frame`,
};
for (const r of rows) r.raw ||= raw[r.figure] ?? "";
rows.push({
  figure: "start 8 Worker engines, ms",
  troupe: fmt(eightMs),
  raw: `${fmt(rawWorkersMs)} (8 bare Workers)`,
});
rows.push({
  figure: "client memory under publishing load",
  troupe: memory,
  raw: "",
});

console.log("\n| figure | troupe | raw limit in the same run |");
console.log("| --- | --- | --- |");
for (const r of rows) console.log(`| ${r.figure} | ${r.troupe} | ${r.raw} |`);

// Engine processes against their limits (issue 13), with ratios and goals.
console.log(`\n${ratioTable(await processFigures()).join("\n")}`);

// Cost that grows as it should (issue 13): publishData, 10k to 1M tasks.
console.log(`\n${(await scaleFigures()).join("\n")}`);

// Registration at scale (issue 14): 256 engines through the local launcher.
console.log(
  "\n| figure | troupe | raw limit in the same run |\n| --- | --- | --- |",
);
for (const r of await launchFigures()) {
  console.log(`| ${r.figure} | ${r.troupe} | ${r.raw} |`);
}

// A controller's cost (issue 15): through Client.connect against an
// embedded client, and its history in a file against one in memory.
console.log(`\n${ratioTable(await controllerFigures()).join("\n")}`);

// Values by future (issue 16): a chain of 100 tasks passing 1 MiB, against
// the same chain by hand and one task, embedded and through a controller.
console.log(`\n${ratioTable(await dependencyFigures()).join("\n")}`);

// Tasks as traces (issue 17): tiny tasks with tracing off, on (to a local
// receiver), and the raw limit.
console.log(`\n${(await tracingFigures()).join("\n")}`);

const peers = !quick || Deno.args.includes("--peers")
  ? await printPeers(workers.noop, workers.tinyPerSecond)
  : [];

// Tiny tasks on Worker engines against piscina (the run above), the no-op
// round trip against a bare echo, the adaptive depth's makespan (issue 13).
console.log(`\n${ratioTable(await schedulingFigures(peers)).join("\n")}`);
