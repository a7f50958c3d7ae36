/**
 * The IPython "publish_data" notebook as a troupe program.
 *
 *   deno task demo            # 10 steps, one a second, as in the notebook
 *   deno task demo --fast     # the same in well under a second
 *   deno task demo:remote     # the engines as processes, over TCP
 *
 * `deno task demo --help` lists the options (`FLAGS` below).
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import { Client, publishData } from "../mod.ts";
import { renderSvg, seedPlotSpec } from "./seed_plot.ts";

/** The demo's flags and what each means: the usage is made from them. */
const FLAGS: [flag: string, meaning: string][] = [
  ["--workers N", "engines as Worker threads in this process (default 4)"],
  [
    "--processes N",
    "engines as local deno processes over TCP (default 0; 4 with " +
    "demo:remote); without --workers, no Worker engines then",
  ],
  ["--steps N", "simulation steps per engine (default 10)"],
  ["--interval MS", "pause between steps, in ms (default 1000)"],
  ["--fast", "steps 20 ms apart: the whole run in well under a second"],
  [
    "--out FILE",
    "where the plot goes, as SVG (default out/publish_data.svg; " +
    "deno task demo may write only inside the checkout)",
  ],
  [
    "--dashboard",
    "serve the live dashboard and print its address; it stays up after " +
    "the run until Ctrl-C",
  ],
  ["--help, -h", "print this and exit"],
];

/**
 * What `--help` prints: what the demo does and every flag with its meaning.
 *
 * @example
 * ```ts
 * import { demoUsage } from "./publish_data.ts";
 * console.log(demoUsage());
 * ```
 */
export function demoUsage(): string {
  const width = Math.max(...FLAGS.map(([flag]) => flag.length)) + 2;
  return [
    "usage: deno task demo [options]   (engine processes: deno task demo:remote)",
    "",
    "Runs the IPython publish_data notebook on troupe engines: publishIt on",
    "every engine (prints ar.data), then the simulation loop, shown live, then",
    "the plot of every engine's last array.",
    "",
    "options:",
    ...FLAGS.map(([flag, meaning]) =>
      `  ${flag.padEnd(width)}${wrap(meaning, 78 - 2 - width, 2 + width)}`
    ),
  ].join("\n");
}

/** `text` in lines of at most `columns`, the later ones indented. */
function wrap(text: string, columns: number, indent: number): string {
  const lines = [""];
  for (const word of text.split(" ")) {
    const line = lines[lines.length - 1];
    if (line && line.length + 1 + word.length > columns) lines.push(word);
    else lines[lines.length - 1] = line ? `${line} ${word}` : word;
  }
  return lines.join(`\n${" ".repeat(indent)}`);
}

/**
 * A command line the demo cannot run with: a bad flag, or one the run's
 * permissions do not allow. Nothing has started when it is thrown.
 *
 * @example
 * ```ts
 * import { DemoUsageError, parseDemoArgs } from "./publish_data.ts";
 * try {
 *   parseDemoArgs(["--bogus"]);
 * } catch (error) {
 *   console.log(error instanceof DemoUsageError); // true
 * }
 * ```
 */
export class DemoUsageError extends Error {
  /** `message` says what is wrong and what to type instead. */
  constructor(message: string) {
    super(message);
    this.name = "DemoUsageError";
  }
}

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
  /** Print the usage instead of running. */
  help?: boolean;
}

/**
 * Reads the flags of `demoUsage()`; throws a `DemoUsageError` for a bad one.
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
      if (v === undefined) throw new DemoUsageError(`${flag} needs a value`);
      return v;
    };
    const count = () => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 0) {
        throw new DemoUsageError(
          `${flag} takes a whole number, got ${args[i]}`,
        );
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
      case "--help":
      case "-h":
        options.help = true;
        break;
      default:
        throw new DemoUsageError(
          `unknown option ${flag}; the options are ${
            FLAGS.map(([f]) => f).join(", ")
          }`,
        );
    }
  }
  if (options.processes > 0 && !workersGiven) options.workers = 0;
  if (options.workers + options.processes === 0 && !options.help) {
    throw new DemoUsageError(
      "the demo needs at least one engine: --workers N or --processes N",
    );
  }
  return options;
}

/**
 * Throws a `DemoUsageError` if the run's permissions do not allow what the
 * options ask for: writing `--out`, serving `--dashboard`. Asks without
 * prompting, before any engine starts, so that a run never fails at its end.
 *
 * @example
 * ```ts
 * import { checkDemoPermissions, parseDemoArgs } from "./publish_data.ts";
 * checkDemoPermissions(parseDemoArgs(["--out", "out/plot.svg"]));
 * ```
 */
export function checkDemoPermissions(options: DemoOptions): void {
  const folder = dirname(resolve(options.out));
  const granted = (descriptor: Deno.PermissionDescriptor) =>
    Deno.permissions.querySync(descriptor).state === "granted";
  if (!granted({ name: "write", path: folder })) {
    const checkout = dirname(resolve(new URL(import.meta.url).pathname, ".."));
    throw new DemoUsageError(
      `--out ${options.out}: this run may not write to ${folder}. ` +
        (granted({ name: "write", path: checkout })
          ? `\`deno task demo\` may write only inside the checkout, ` +
            `${checkout} (it runs with --allow-write=.): give an --out ` +
            "there, e.g. --out out/my_plot.svg"
          : `Give an --out in a folder it may write to, or add ` +
            `--allow-write=${folder} to its deno run flags`),
    );
  }
  if (options.dashboard && !granted({ name: "net", host: "127.0.0.1" })) {
    throw new DemoUsageError(
      "--dashboard: this run may not serve on 127.0.0.1; add " +
        "--allow-net=127.0.0.1 to its deno run flags",
    );
  }
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
