/**
 * The demo's command line (`deno task demo --help`): its flags, what they
 * mean, how they are read, which engines they ask for (Worker threads,
 * engine processes, or a launcher's), and the check that the run's
 * permissions allow what they ask before any engine starts.
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import { type Launcher, local, mpi, slurm, ssh } from "../mod.ts";
import { wrap } from "../cli/text_layout.ts";

/** The demo's flags and what each means: the usage is made from them. */
const FLAGS: [flag: string, meaning: string][] = [
  ["--workers N", "engines as Worker threads in this process (default 4)"],
  [
    "--processes N",
    "engines as local deno processes over TCP (default 0; 4 with " +
    "demo:remote); without --workers, no Worker engines then",
  ],
  [
    "--launch KIND",
    "engines started by a launcher: slurm (Slurm jobs, sbatch), ssh (on " +
    "--host), mpi (one mpiexec) or local, as many as --engines; without " +
    "--workers, no Worker engines then",
  ],
  ["--engines N", "how many engines --launch starts (default 4)"],
  [
    "--host USER@HOST:PORT",
    "where --launch ssh starts them (default localhost; user and port " +
    "optional; ssh must log in there without a prompt)",
  ],
  [
    "--listen HOST",
    "the interface launched engines dial in on (default 127.0.0.1: this " +
    "machine only; 0.0.0.0 for engines on other nodes, which dial this " +
    "host's name)",
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
 * import { demoUsage } from "./demo_options.ts";
 * console.log(demoUsage());
 * ```
 */
export function demoUsage(): string {
  const width = Math.max(...FLAGS.map(([flag]) => flag.length)) + 2;
  return [
    "usage: deno task demo [options]   (engine processes: deno task demo:remote;",
    "                                   Slurm jobs: deno task demo:slurm)",
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

/**
 * A command line the demo cannot run with: a bad flag, or one the run's
 * permissions do not allow. Nothing has started when it is thrown.
 *
 * @example
 * ```ts
 * import { DemoUsageError, parseDemoArgs } from "./demo_options.ts";
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

/**
 * The launchers `--launch` names.
 *
 * @example
 * ```ts
 * import { LAUNCH_KINDS } from "./demo_options.ts";
 * console.log(LAUNCH_KINDS.join(", ")); // slurm, ssh, mpi, local
 * ```
 */
export const LAUNCH_KINDS: readonly ["slurm", "ssh", "mpi", "local"] = [
  "slurm",
  "ssh",
  "mpi",
  "local",
];

/**
 * One of `LAUNCH_KINDS`.
 *
 * @example
 * ```ts
 * import type { LaunchKind } from "./demo_options.ts";
 * const kind: LaunchKind = "slurm";
 * ```
 */
export type LaunchKind = typeof LAUNCH_KINDS[number];

/** What the demo reads from its command line. */
export interface DemoOptions {
  /** Engines to start as Worker threads. */
  workers: number;
  /** Engines to start as processes that connect over TCP. */
  processes: number;
  /** The launcher that starts `engines` more, if any. */
  launch?: LaunchKind;
  /** How many engines `launch` starts (4). */
  engines?: number;
  /** Where `launch: "ssh"` starts them: `user@host:port`. */
  host?: string;
  /** The interface the client listens on for launched engines. */
  listen?: string;
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
 * import { parseDemoArgs } from "./demo_options.ts";
 * console.log(parseDemoArgs(["--fast"]).intervalMs); // 20
 * ```
 */
export function parseDemoArgs(args: string[]): DemoOptions {
  const options: DemoOptions = {
    workers: 4,
    processes: 0,
    engines: 4,
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
      case "--launch": {
        const kind = value();
        if (!(LAUNCH_KINDS as readonly string[]).includes(kind)) {
          throw new DemoUsageError(
            `--launch takes ${LAUNCH_KINDS.join(", ")}, got ${kind}`,
          );
        }
        options.launch = kind as LaunchKind;
        break;
      }
      case "--engines":
        options.engines = count();
        break;
      case "--host":
        options.host = value();
        break;
      case "--listen":
        options.listen = value();
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
  const launched = options.launch ? options.engines ?? 4 : 0;
  if (options.processes + launched > 0 && !workersGiven) options.workers = 0;
  if (options.workers + options.processes + launched === 0 && !options.help) {
    throw new DemoUsageError(
      "the demo needs at least one engine: --workers N, --processes N or " +
        "--launch KIND --engines N",
    );
  }
  for (const flag of ["host", "listen"] as const) {
    if (options[flag] !== undefined && !options.launch) {
      throw new DemoUsageError(
        `--${flag} is for launched engines: add --launch KIND`,
      );
    }
  }
  if (options.host !== undefined && options.launch !== "ssh") {
    throw new DemoUsageError("--host is where --launch ssh starts engines");
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
 * import { checkDemoPermissions, parseDemoArgs } from "./demo_options.ts";
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

/**
 * The launcher the options ask for, with troupe's defaults for the rest
 * (Slurm's default partition, `deno` on the ssh host's PATH, `mpiexec`
 * on this one's), or undefined without `--launch`.
 *
 * @example
 * ```ts
 * import { demoLauncher, parseDemoArgs } from "./demo_options.ts";
 * const launcher = demoLauncher(parseDemoArgs(["--launch", "slurm"]));
 * console.log(launcher?.name, launcher?.engines); // slurm 4
 * ```
 */
export function demoLauncher(options: DemoOptions): Launcher | undefined {
  const engines = options.engines ?? 4;
  switch (options.launch) {
    case undefined:
      return undefined;
    case "slurm":
      // Jobs of a few seconds: look at them every second, not every five.
      return slurm({ engines, pollMs: 1000 });
    case "ssh":
      return ssh({ hosts: { [options.host ?? "localhost"]: engines } });
    case "mpi":
      return mpi({ engines });
    case "local":
      return local({ engines });
  }
}
