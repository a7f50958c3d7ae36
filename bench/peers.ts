/**
 * The peers troupe is measured against (piscina, workerpool, ipyparallel),
 * each run by its own script in `bench/peers/`, when installed.
 *
 * @module
 */

import { fmt } from "./config.ts";
import { percentile } from "./stats.ts";

/** What a peer's script prints as its last line. */
export interface PeerResult {
  peer: string;
  version?: string;
  missing?: string;
  noop_p50_us?: number;
  noop_p99_us?: number;
  tiny_tasks_per_s?: number;
}

export async function runPeer(
  command: string,
  args: string[],
): Promise<PeerResult> {
  const name = args[0].replace(/.*\/|\.(mjs|py)$/g, "");
  try {
    const { stdout } = await new Deno.Command(command, {
      args,
      cwd: new URL("../", import.meta.url),
      stdout: "piped",
      stderr: "null",
      signal: AbortSignal.timeout(180_000),
    }).output();
    return JSON.parse(
      new TextDecoder().decode(stdout).trim().split("\n").at(-1)!,
    );
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? `${command} is not installed`
      : String(error);
    return { peer: name, missing: why };
  }
}

/**
 * Runs every installed peer and prints the peers' table, each beside
 * troupe's Worker-engine figures of the same run; returns the peers'
 * results, for the tables that set goals against them.
 */
export async function printPeers(
  troupeNoop: number[],
  troupeTinyPerSecond: number,
): Promise<PeerResult[]> {
  console.error("measuring peers…");
  const peers = [
    await runPeer("node", ["bench/peers/piscina.mjs"]),
    await runPeer("node", ["bench/peers/workerpool.mjs"]),
    await runPeer("/usr/bin/python3", ["bench/peers/ipyparallel_peer.py"]),
  ];
  const p50 = percentile(troupeNoop, 50);
  console.log(
    "\n| peer (2 workers) | no-op p50 / p99 | tiny tasks/s | troupe (Worker engines, default options) vs peer |",
  );
  console.log("| --- | --- | --- | --- |");
  for (const peer of peers) {
    if (peer.missing) {
      console.log(
        `| ${peer.peer} | not installed: ${peer.missing} | | |`,
      );
      continue;
    }
    const latency = p50 / peer.noop_p50_us!;
    const rate = troupeTinyPerSecond / peer.tiny_tasks_per_s!;
    console.log(
      `| ${peer.peer} ${peer.version ?? ""} | ${fmt(peer.noop_p50_us!)} / ${
        fmt(peer.noop_p99_us!)
      } µs | ${fmt(peer.tiny_tasks_per_s!)} | latency ×${
        latency.toFixed(2)
      }, throughput ×${rate.toFixed(2)} |`,
    );
  }
  console.log(
    "\nPeers: `npm install --prefix bench/peers` (piscina, workerpool), " +
      "`apt-get install python3-ipyparallel` (ipyparallel).",
  );
  return peers;
}
