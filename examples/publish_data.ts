/**
 * The IPython "publish_data" notebook as a troupe program.
 *
 *   deno task demo            # 10 steps, one a second, as in the notebook
 *   deno task demo --fast     # the same in well under a second
 *   deno task demo:remote     # the engines as processes, over TCP
 *
 * Options: `--workers N` (default 4), `--processes N` (engines as local
 * processes; 0, or 4 with `demo:remote`), `--steps N` (10), `--interval MS`
 * (1000), `--fast` (interval 20 ms), `--out FILE` (out/publish_data.svg),
 * `--dashboard` (serve the live dashboard and print its address; it stays
 * up after the run until Ctrl-C).
 *
 * @module
 */

import { Client, publishData } from "../mod.ts";
import { renderSvg, seedPlotSpec } from "./seed_plot.ts";

/** What the demo reads from its command line. */
export interface DemoOptions {
  /** Engines to start as Worker threads. */
  workers: number;
  /** Engines to start as processes that connect over TCP. */
  processes: number;
  /** Simulation steps per engine. */
  steps: number;
  /** Pause between steps, in ms. */
  intervalMs: number;
  /** Where the plot goes. */
  out: string;
  /** Serve the live dashboard, and keep it up after the run until Ctrl-C. */
  dashboard?: boolean;
}

/**
 * Reads `--workers`, `--steps`, `--interval`, `--fast` and `--out`.
 *
 * @example
 * ```ts
 * import { parseDemoArgs } from "./publish_data.ts";
 * console.log(parseDemoArgs(["--fast"]).intervalMs); // 20
 * ```
 */
export function parseDemoArgs(args: string[]): DemoOptions {
  const options: DemoOptions = {
    workers: 4,
    processes: 0,
    steps: 10,
    intervalMs: 1000,
    out: "out/publish_data.svg",
  };
  let workersGiven = false;
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const count = () => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 0) {
        throw new Error(`${flag} takes a whole number, got ${args[i]}`);
      }
      return n;
    };
    switch (flag) {
      case "--workers":
        options.workers = count();
        workersGiven = true;
        break;
      case "--processes":
        options.processes = count();
        break;
      case "--steps":
        options.steps = Math.max(1, count());
        break;
      case "--interval":
        options.intervalMs = count();
        break;
      case "--fast":
        options.intervalMs = 20;
        break;
      case "--out":
        options.out = value();
        break;
      case "--dashboard":
        options.dashboard = true;
        break;
      default:
        throw new Error(
          `unknown option ${flag}; the options are --workers N, ` +
            "--processes N, --steps N, --interval MS, --fast, --out FILE " +
            "and --dashboard",
        );
    }
  }
  if (options.processes > 0 && !workersGiven) options.workers = 0;
  if (options.workers + options.processes === 0) {
    throw new Error("the demo needs at least one engine");
  }
  return options;
}

// The two functions of the notebook. They run on the engines, shipped by
// their source: `publishData` is in scope there (the import is for the type
// checker), and their only inputs are their arguments.

function publishIt(): void {
  publishData({ a: "hi" });
}

async function simulationLoop(steps: number, intervalMs: number) {
  for (let i = 0; i < steps; i++) {
    publishData({ a: new Float64Array(20).map(() => Math.random()), i });
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Runs the notebook: `publishIt` on every engine, then the simulation loop
 * with a live line per step, then the plot. Returns the SVG's path.
 *
 * @example
 * ```ts
 * import { runDemo } from "./publish_data.ts";
 * await runDemo({
 *   workers: 2,
 *   processes: 0,
 *   steps: 3,
 *   intervalMs: 10,
 *   out: "out/demo.svg",
 * });
 * ```
 */
export async function runDemo(options: DemoOptions): Promise<string> {
  await using client = await Client.start({
    workers: options.workers,
    processes: options.processes,
  });
  const dv = client.view();
  const kinds = client.engines().map((e) => `${e.engineId} (${e.kind})`);
  console.log(`engines: ${kinds.join(", ")}`);
  if (options.dashboard) {
    const dashboard = await client.serveDashboard();
    console.log(`dashboard: ${dashboard.url}`);
  }

  const hello = dv.applyAsync(publishIt);
  await hello;
  console.log("ar.data after publishIt:", JSON.stringify(hello.data));

  const ar = dv.applyAsync(simulationLoop, options.steps, options.intervalMs);
  const live = new LiveLine(options.steps);
  for await (const _ of ar.publications()) live.show(ar.data);
  await ar;
  live.done();

  const data = ar.data;
  const series = data.map((d, engineId) => ({
    engineId,
    values: d.a as Float64Array,
  }));
  const svg = await renderSvg(seedPlotSpec(series, data[0].i as number));
  const dir = options.out.replace(/[^/]*$/, "");
  if (dir) await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(options.out, svg);
  console.log(`plot written to ${options.out}`);
  if (options.dashboard) {
    console.log("the dashboard stays up: Ctrl-C to stop");
    await new Promise<void>((resolve) =>
      Deno.addSignalListener("SIGINT", () => resolve())
    );
  }
  return options.out;
}

/**
 * A compact live view: a progress bar of all the engines' steps and each
 * engine's newest step. On a terminal it is redrawn in place at every change;
 * elsewhere (logs, pipes, tests) a plain line is printed each time the
 * slowest engine reaches a new step.
 */
class LiveLine {
  #tty = Deno.stdout.isTerminal();
  #slowest = -1;
  #steps: number;

  constructor(steps: number) {
    this.#steps = steps;
  }

  show(data: Record<string, unknown>[]): void {
    const steps = data.map((d) => typeof d.i === "number" ? d.i : -1);
    const text = steps.map((i, id) => `engine ${id}: ${i < 0 ? "-" : i}`)
      .join("  ");
    if (this.#tty) {
      const done = steps.reduce((n, i) => n + i + 1, 0) /
        (this.#steps * steps.length);
      const width = 20;
      const filled = Math.round(done * width);
      const bar = `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${
        Math.round(done * 100).toString().padStart(3)
      }%`;
      const columns = Deno.consoleSize().columns;
      const line = `${bar}  ${text}`.slice(0, Math.max(20, columns - 1));
      Deno.stdout.writeSync(new TextEncoder().encode(`\r\x1b[2K${line}`));
      return;
    }
    const slowest = Math.min(...steps);
    if (slowest > this.#slowest) {
      this.#slowest = slowest;
      console.log(`step  ${text}`);
    }
  }

  done(): void {
    if (this.#tty) console.log();
  }
}

if (import.meta.main) {
  try {
    await runDemo(parseDemoArgs(Deno.args));
  } catch (error) {
    console.error(`demo failed: ${(error as Error).message}`);
    Deno.exit(1);
  }
}
