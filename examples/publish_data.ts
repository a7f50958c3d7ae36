/**
 * The IPython "publish_data" notebook as a troupe program.
 *
 *   deno task demo            # 10 steps, one a second, as in the notebook
 *   deno task demo --fast     # the same in well under a second
 *   deno task demo:remote     # the engines as processes, over TCP
 *   deno task demo:slurm      # the engines as Slurm jobs
 *
 * `deno task demo --help` lists the options (demo_options.ts).
 *
 * @module
 */

import { Client, publishData } from "../mod.ts";
import {
  checkDemoPermissions,
  demoLauncher,
  type DemoOptions,
  demoUsage,
  DemoUsageError,
  parseDemoArgs,
} from "./demo_options.ts";
import { renderSvg, seedPlotSpec } from "./seed_plot.ts";

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
 * const dir = await Deno.makeTempDir();
 * await runDemo({
 *   workers: 2,
 *   processes: 0,
 *   steps: 3,
 *   intervalMs: 10,
 *   out: `${dir}/demo.svg`,
 * });
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function runDemo(options: DemoOptions): Promise<string> {
  checkDemoPermissions(options);
  const launcher = demoLauncher(options);
  await using client = await Client.start({
    workers: options.workers,
    processes: options.processes,
    ...(launcher ? { launch: launcher } : {}),
    ...(options.listen ? { listen: { hostname: options.listen } } : {}),
  });
  const dv = client.view();
  const kinds = client.engines().map((e) => {
    // A launcher's engines say which and where; `processes` are "local".
    const launched = e.launcher && e.launcher !== "local"
      ? [
        e.launcher,
        e.jobId && `job ${e.jobId}`,
        e.rank !== undefined && `rank ${e.rank}`,
        e.launcher === "ssh" && e.host && `on ${e.host}`,
      ].filter(Boolean).join(" ")
      : "";
    return `${e.engineId} (${[e.kind, launched].filter(Boolean).join(", ")})`;
  });
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
    const options = parseDemoArgs(Deno.args);
    if (options.help) console.log(demoUsage());
    else await runDemo(options);
  } catch (error) {
    if (error instanceof DemoUsageError) {
      // Exit 2, as command-line tools do for a usage error: nothing ran.
      console.error(
        `demo: ${error.message}\n(deno task demo --help lists the options)`,
      );
      Deno.exit(2);
    }
    console.error(`demo failed: ${(error as Error).message}`);
    Deno.exit(1);
  }
}
