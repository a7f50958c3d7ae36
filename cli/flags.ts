/**
 * The troupe CLI's verbs and flags, what each means, and what is made from
 * that one table: the usage, and a config as flags again.
 *
 * @module
 */

import type { ControllerConfig } from "../remote/cluster_state.ts";
import { wrap } from "./text_layout.ts";
import { PERMISSION_NAMES } from "../protocol/engine_permissions.ts";

/**
 * The verbs, as ipcluster has them.
 *
 * @example
 * ```ts
 * import { VERBS } from "./flags.ts";
 * console.log(VERBS.join(" ")); // start stop list engines controller help
 * ```
 */
export const VERBS: readonly [
  "start",
  "stop",
  "list",
  "engines",
  "controller",
  "help",
] = ["start", "stop", "list", "engines", "controller", "help"];

/**
 * One of `VERBS`.
 *
 * @example
 * ```ts
 * import type { Verb } from "./flags.ts";
 * const verb: Verb = "start";
 * ```
 */
export type Verb = typeof VERBS[number];

/**
 * How a flag's value is read; a `grant` is Deno's `--allow-*` shape: bare
 * for all, `=a,b` for those.
 */
export type Kind = "count" | "text" | "list" | "switch" | "grant";

/** One flag of a verb. */
export interface Flag {
  name: string;
  kind: Kind;
  /** The value's placeholder in the usage. */
  value?: string;
  meaning: string;
}

/** What starts the engines, and where: saved as the cluster's config. */
export const ENGINE_FLAGS: readonly Flag[] = [
  {
    name: "workers",
    kind: "count",
    value: "N",
    meaning:
      "engines as Worker threads in the controller (default: one per core, unless other engines are asked for)",
  },
  {
    name: "processes",
    kind: "count",
    value: "N",
    meaning: "engines as local deno processes",
  },
  {
    name: "engines",
    kind: "count",
    value: "N",
    meaning: "how many engines --launcher starts",
  },
  {
    name: "launcher",
    kind: "text",
    value: "KIND",
    meaning: "local, ssh, slurm or mpi: what starts --engines",
  },
  {
    name: "hosts",
    kind: "text",
    value: "LIST",
    meaning:
      "ssh: where, as user@host:port=n,... (user, port and =n optional; n defaults to --engines split evenly)",
  },
  {
    name: "ssh-arg",
    kind: "list",
    value: "ARG",
    meaning:
      "ssh: one more ssh argument (repeatable), as --ssh-arg=-i --ssh-arg=KEYFILE",
  },
  {
    name: "partition",
    kind: "text",
    value: "NAME",
    meaning: "slurm: the partition",
  },
  {
    name: "account",
    kind: "text",
    value: "NAME",
    meaning: "slurm: the account",
  },
  {
    name: "time",
    kind: "text",
    value: "LIMIT",
    meaning: "slurm: each job's time limit (sbatch --time)",
  },
  {
    name: "qos",
    kind: "text",
    value: "NAME",
    meaning: "slurm: the quality of service",
  },
  {
    name: "sbatch-arg",
    kind: "list",
    value: "ARG",
    meaning: "slurm: one more sbatch argument (repeatable)",
  },
  {
    name: "mpiexec",
    kind: "text",
    value: "PATH",
    meaning: "mpi: the mpiexec to run",
  },
  {
    name: "mpi-arg",
    kind: "list",
    value: "ARG",
    meaning: "mpi: one more mpiexec argument (repeatable)",
  },
  {
    name: "sandbox",
    kind: "switch",
    meaning:
      "start the engine processes sandboxed: with no Deno permissions but those the --engine-allow-* flags give, instead of -A (any --engine-allow-* implies it; Worker engines cannot be sandboxed)",
  },
  ...PERMISSION_NAMES
    .map(
      (name): Flag => ({
        name: `engine-allow-${name}`,
        kind: "grant",
        value: "[=LIST]",
        meaning:
          `a sandboxed engine's --allow-${name}, as deno takes it (bare: all)`,
      }),
    ),
  {
    name: "idle-timeout-ms",
    kind: "count",
    value: "MS",
    meaning:
      "use the engines as a pool: none start until the first load-balanced task (or waitForEngines), and all stop after MS ms with no task queued or running, until the next",
  },
  {
    name: "listen",
    kind: "text",
    value: "HOST",
    meaning:
      "the interface both listeners bind (default 127.0.0.1; 0.0.0.0 for other nodes: then every connection is sealed)",
  },
  {
    name: "advertise",
    kind: "text",
    value: "HOST",
    meaning:
      "the address engines and clients on other hosts dial, written in the state file (default: --listen, or this host's name when that is 0.0.0.0)",
  },
  {
    name: "port",
    kind: "count",
    value: "N",
    meaning: "the client port (default: a free one, kept across restarts)",
  },
  {
    name: "engine-port",
    kind: "count",
    value: "N",
    meaning: "the engine port (default: a free one, kept across restarts)",
  },
  {
    name: "dashboard-port",
    kind: "count",
    value: "N",
    meaning:
      "serve the dashboard (page and /metrics) from the controller on port N (0: a free one, kept across restarts); its address is in troupe list",
  },
  {
    name: "dashboard-host",
    kind: "text",
    value: "HOST",
    meaning:
      "the interface the dashboard binds (default 127.0.0.1; anywhere else it needs the token its address carries)",
  },
  {
    name: "db",
    kind: "text",
    value: "PATH",
    meaning: "the task history (default $TROUPE_HOME/clusters/<id>.sqlite; " +
      ":memory: keeps it in memory only: nothing across restarts)",
  },
  {
    name: "max-tasks",
    kind: "count",
    value: "N",
    meaning:
      "finished tasks the history keeps (default 100000; the oldest go first)",
  },
  {
    name: "max-age",
    kind: "count",
    value: "S",
    meaning: "seconds a finished task is kept (default: no limit)",
  },
  {
    name: "max-publications",
    kind: "count",
    value: "N",
    meaning: "publications kept per task (default 100, the last ones)",
  },
  {
    name: "max-value-bytes",
    kind: "count",
    value: "N",
    meaning: "largest args or value stored per task (default 16 MiB)",
  },
  {
    name: "max-stream-bytes",
    kind: "count",
    value: "N",
    meaning: "stdout+stderr stored per task (default 1 MiB)",
  },
];

const ID: Flag = {
  name: "id",
  kind: "text",
  value: "ID",
  meaning: "the cluster's id (default: default)",
};
const timeout = (meaning: string): Flag => ({
  name: "timeout",
  kind: "count",
  value: "S",
  meaning,
});
const JSON_FLAG: Flag = {
  name: "json",
  kind: "switch",
  meaning: "print JSON instead of a table",
};
const HELP: Flag = {
  name: "help",
  kind: "switch",
  meaning: "print this and exit",
};

/** Each verb's flags and its one-line synopsis. */
export const VERB_FLAGS: Readonly<
  Record<Verb, { synopsis: string; does: string; flags: Flag[] }>
> = {
  start: {
    synopsis: "start [--id ID] [flags]",
    does:
      "starts a controller in the background (again on the same database, ports and keys if it was killed)",
    flags: [
      ID,
      ...ENGINE_FLAGS,
      timeout("seconds to wait for the controller to be ready (default 120)"),
      HELP,
    ],
  },
  controller: {
    synopsis: "controller [--id ID] [flags]",
    does: "runs a controller in the foreground until SIGINT or SIGTERM",
    flags: [ID, ...ENGINE_FLAGS, {
      name: "log",
      kind: "text",
      value: "FILE",
      meaning:
        "the file its stderr goes to, named in its state file (start gives it)",
    }, HELP],
  },
  stop: {
    synopsis: "stop ID | --all",
    does: "stops a cluster: its engines, then its controller",
    flags: [
      { name: "all", kind: "switch", meaning: "stop every cluster" },
      timeout(
        "seconds to wait for each controller to exit before SIGKILL (default 30)",
      ),
      HELP,
    ],
  },
  list: {
    synopsis: "list [--json]",
    does: "the clusters, running or stale (killed)",
    flags: [JSON_FLAG, HELP],
  },
  engines: {
    synopsis: "engines ID [--json]",
    does: "a cluster's engines",
    flags: [JSON_FLAG, HELP],
  },
  help: { synopsis: "help", does: "print this", flags: [] },
};

/**
 * The usage: every verb with its flags and what they mean; one verb's only
 * when `verb` is given.
 *
 * @example
 * ```ts
 * import { usage } from "./flags.ts";
 * console.log(usage("stop"));
 * ```
 */
export function usage(verb?: Verb): string {
  const verbs = verb && verb !== "help" ? [verb] : VERBS;
  const lines = [
    "usage: troupe <command> [flags]",
    "  (deno task troupe in a checkout; deno run -A jsr:@troupe/parallel/cli)",
    "",
    "A troupe controller runs a cluster of engines that outlives its clients:",
    "Client.connect(ID) attaches to it from any script.",
    "",
  ];
  // start and controller take the same cluster flags: the full usage
  // lists them once, after the verbs, instead of twice over.
  const shared = verbs.length > 1;
  const clusterFlags = new Set<Flag>(ENGINE_FLAGS);
  for (const name of verbs) {
    const { synopsis, does, flags } = VERB_FLAGS[name];
    lines.push(`troupe ${synopsis}`, `  ${wrap(does, 76, 2)}`);
    const own = shared ? flags.filter((f) => !clusterFlags.has(f)) : flags;
    lines.push(...flagLines(own));
    if (own.length < flags.length) {
      lines.push("    and the cluster flags below");
    }
    lines.push("");
  }
  if (shared) {
    lines.push("cluster flags (start and controller):");
    lines.push(...flagLines(ENGINE_FLAGS), "");
  }
  return lines.join("\n");
}

/** `flags` as usage lines, their meanings in one column. */
function flagLines(flags: readonly Flag[]): string[] {
  const width = Math.max(0, ...flags.map(flagText).map((t) => t.length)) + 2;
  return flags.map((flag) =>
    `    ${flagText(flag).padEnd(width)}${
      wrap(flag.meaning, 78 - 4 - width, 4 + width)
    }`
  );
}

function flagText(flag: Flag): string {
  if (flag.kind === "grant") return `--${flag.name}${flag.value ?? ""}`;
  return flag.value ? `--${flag.name} ${flag.value}` : `--${flag.name}`;
}

/**
 * `config` as flags again: what `troupe start` passes to the controller it
 * starts, so that both read one command line the same way.
 *
 * @example
 * ```ts
 * import { flagsOf } from "./flags.ts";
 * console.log(flagsOf({ workers: 2, "sbatch-arg": ["--mem=1G"] }));
 * // ["--workers=2", "--sbatch-arg=--mem=1G"]
 * ```
 */
export function flagsOf(config: ControllerConfig): string[] {
  const flags: string[] = [];
  for (const flag of ENGINE_FLAGS) {
    const value = config[flag.name];
    if (value === undefined || value === false) continue;
    if (value === true) {
      flags.push(`--${flag.name}`);
      continue;
    }
    if (flag.kind === "grant") {
      flags.push(`--${flag.name}=${[value].flat().join(",")}`);
      continue;
    }
    // `--name=value`: a value that starts with "--" (an sbatch argument)
    // must not read as the next flag.
    for (const one of [value].flat()) flags.push(`--${flag.name}=${one}`);
  }
  return flags;
}
