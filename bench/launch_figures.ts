/**
 * Registration at scale (issue 14): 256 engines started through the `local`
 * launcher (sealed frames) on this machine, timed until 64, 128 and all of
 * them have registered, with the deaths and give-ups counted (none is the
 * goal), the client's CPU and heap while they register, and one tiny task
 * on every engine; beside it, in the same run, the raw limit: as many bare
 * `deno` processes that each open one TCP connection to a listener.
 * `--quick` scales down to 32.
 *
 *   deno run -A bench/launch_figures.ts [--quick]
 *
 * Nothing here asserts a time: the table is for people to read.
 *
 * @module
 */

import { cpuUsage } from "node:process";
import { Client, type EngineEvent, local } from "../mod.ts";
import { fmt, quick, type Row } from "./config.ts";

/** Engines started: 256, or 32 under `--quick`. */
export const N_LAUNCHED: number = quick ? 32 : 256;

/** What `Client.start` allows here: a figure, not a failure, if it is late. */
const START_BOUND_MS = 300_000;
/** `startTimeoutMs`'s default: whether registration fits in it is the goal. */
const DEFAULT_START_MS = 60_000;

/**
 * ms until `n` bare `deno` processes, started at once, have each opened a
 * TCP connection to one listener: how fast this machine starts processes
 * that connect, whatever runs in them.
 *
 * @example
 * ```ts ignore
 * import { rawConnectsMs } from "./launch_figures.ts";
 * console.log(await rawConnectsMs(8));
 * ```
 */
export async function rawConnectsMs(n: number): Promise<number> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const code =
    `const c = await Deno.connect({ hostname: "127.0.0.1", port: ${listener.addr.port} }); await c.read(new Uint8Array(1)); c.close();`;
  const start = performance.now();
  const children = Array.from(
    { length: n },
    () =>
      new Deno.Command(Deno.execPath(), {
        args: ["eval", code],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn(),
  );
  const conns: Deno.Conn[] = [];
  let ms = NaN;
  try {
    while (conns.length < n) conns.push(await listener.accept());
    ms = performance.now() - start;
  } finally {
    // Closing each connection ends its process.
    for (const conn of conns) conn.close();
    listener.close();
    for (const child of children) {
      try {
        child.kill("SIGKILL");
      } catch { /* exited already */ }
    }
    await Promise.all(children.map((child) => child.status));
  }
  return ms;
}

/** The client's CPU seconds so far, user and system. */
function cpuSeconds(): number {
  const { user, system } = cpuUsage();
  return (user + system) / 1e6;
}

/**
 * Starts `N_LAUNCHED` local engines and returns the rows of the table.
 *
 * @example
 * ```ts ignore
 * import { launchFigures } from "./launch_figures.ts";
 * for (const r of await launchFigures()) console.log(r.figure, r.troupe);
 * ```
 */
export async function launchFigures(): Promise<Row[]> {
  const n = N_LAUNCHED;
  console.error(`measuring the registration of ${n} local engines…`);
  const raw = await rawConnectsMs(n);

  const events = new Map<EngineEvent["type"], number>();
  const registeredAt: number[] = [];
  const reasons = new Map<string, number>();
  let heapPeak = 0;
  let rssPeak = 0;
  const sample = () => {
    const { heapUsed, rss } = Deno.memoryUsage();
    heapPeak = Math.max(heapPeak, heapUsed);
    rssPeak = Math.max(rssPeak, rss);
  };
  const sampler = setInterval(sample, 100);
  const cpuBefore = cpuSeconds();
  const start = performance.now();
  let client: Client;
  try {
    client = await Client.start({
      workers: 0,
      launch: local({ engines: n }),
      encrypt: true,
      startTimeoutMs: START_BOUND_MS,
      onEngineEvent: (event) => {
        events.set(event.type, (events.get(event.type) ?? 0) + 1);
        if (event.type === "registered") {
          registeredAt.push(performance.now() - start);
        }
        if (event.type === "died" || event.type === "gaveUp") {
          // Numbers (ports, pids, ms) vary; the kind of death does not.
          const kind = event.reason.replace(/\d+/g, "#");
          reasons.set(kind, (reasons.get(kind) ?? 0) + 1);
        }
      },
    });
  } finally {
    clearInterval(sampler);
  }
  const allMs = performance.now() - start;
  sample();
  const cpu = cpuSeconds() - cpuBefore;
  let ones: number[];
  let taskMs: number;
  try {
    const t = performance.now();
    ones = await client.view().applySync(() => 1);
    taskMs = performance.now() - t;
  } finally {
    await client.close();
  }
  const at = (k: number) => fmt(registeredAt[k - 1]);
  const died = events.get("died") ?? 0;
  const gaveUp = events.get("gaveUp") ?? 0;
  const mib = (bytes: number) => fmt(bytes / 2 ** 20);
  return [
    {
      figure: `start ${n} local engines (sealed) until all registered, ms`,
      troupe: `${fmt(allMs)} (${n / 4}: ${at(n / 4)}, ${n / 2}: ${
        at(n / 2)
      }); ${
        allMs <= DEFAULT_START_MS ? "within" : "past"
      } the default startTimeoutMs`,
      raw: `${fmt(raw)} ms for ${n} bare deno processes to connect`,
    },
    {
      figure: `engines that died or were given up while ${n} started`,
      troupe: `${died} died, ${gaveUp} given up${
        [...reasons].map(([why, k]) => `; ${k}× ${why}`).join("")
      }`,
      raw: "",
    },
    {
      figure: `client while ${n} engines register`,
      troupe: `${fmt(cpu, 1)} s CPU (${
        fmt(100 * cpu / (allMs / 1000))
      }% of a core); heap peak ${mib(heapPeak)} MiB, RSS peak ${
        mib(rssPeak)
      } MiB`,
      raw: "",
    },
    {
      figure: `one tiny task on each of ${n} engines (applySync)`,
      troupe: `${ones.filter((x) => x === 1).length} ones of ${n} in ${
        fmt(taskMs)
      } ms`,
      raw: "",
    },
  ];
}

if (import.meta.main) {
  const rows = await launchFigures();
  console.log("\n| figure | troupe | raw limit in the same run |");
  console.log("| --- | --- | --- |");
  for (const r of rows) console.log(`| ${r.figure} | ${r.troupe} | ${r.raw} |`);
}
