/**
 * The troupe CLI's command line: its verbs, their flags, what each means
 * (the usage is made from the same table), and the parser that turns
 * arguments into a `Command` or a `UsageError` that says what to type.
 *
 * @module
 */

import { closest } from "../protocol/check_options.ts";
import type { ControllerConfig } from "../remote/cluster_state.ts";
import { wrap } from "./text_layout.ts";

/**
 * A command line the CLI cannot run: an unknown verb or flag, a missing or
 * bad value. Its message says what is wrong and what to type instead.
 *
 * @example
 * ```ts
 * import { parseArgs, UsageError } from "./args.ts";
 * try {
 *   parseArgs(["start", "--worker", "2"]);
 * } catch (error) {
 *   console.log(error instanceof UsageError); // true
 * }
 * ```
 */
export class UsageError extends Error {
  /** `message` says what is wrong and what to type instead. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * The verbs, as ipcluster has them.
 *
 * @example
 * ```ts
 * import { VERBS } from "./args.ts";
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
 * import type { Verb } from "./args.ts";
 * const verb: Verb = "start";
 * ```
 */
export type Verb = typeof VERBS[number];

/** How a flag's value is read. */
type Kind = "count" | "text" | "list" | "switch";

interface Flag {
  name: string;
  kind: Kind;
  /** The value's placeholder in the usage. */
  value?: string;
  meaning: string;
}

/** What starts the engines, and where: saved as the cluster's config. */
const ENGINE_FLAGS: Flag[] = [
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
    name: "listen",
    kind: "text",
    value: "HOST",
    meaning:
      "the interface both listeners bind (default 127.0.0.1; 0.0.0.0 for other nodes: then every connection is sealed)",
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
    name: "db",
    kind: "text",
    value: "PATH",
    meaning: "the task history (default $TROUPE_HOME/clusters/<id>.sqlite)",
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
const TIMEOUT: Flag = {
  name: "timeout",
  kind: "count",
  value: "S",
  meaning: "seconds to wait (default 120 for start, 30 for stop)",
};
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
const VERB_FLAGS: Record<
  Verb,
  { synopsis: string; does: string; flags: Flag[] }
> = {
  start: {
    synopsis: "start [--id ID] [flags]",
    does:
      "starts a controller in the background (again on the same database, ports and keys if it was killed)",
    flags: [ID, ...ENGINE_FLAGS, TIMEOUT, HELP],
  },
  controller: {
    synopsis: "controller [--id ID] [flags]",
    does: "runs a controller in the foreground until SIGINT or SIGTERM",
    flags: [ID, ...ENGINE_FLAGS, {
      name: "log",
      kind: "text",
      value: "FILE",
      meaning:
        "the file its stderr goes to, for troupe list and the state file (start gives it)",
    }, HELP],
  },
  stop: {
    synopsis: "stop ID | --all",
    does: "stops a cluster: its engines, then its controller",
    flags: [
      { name: "all", kind: "switch", meaning: "stop every cluster" },
      TIMEOUT,
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
 * What a command line asks for.
 *
 * @example
 * ```ts
 * import { parseArgs } from "./args.ts";
 * const command = parseArgs(["start", "--id", "sim", "--workers", "2"]);
 * console.log(command.verb, command.id, command.config); // start sim { workers: 2 }
 * ```
 */
export interface Command {
  verb: Verb;
  /** `--id` of start and controller (default "default"), or stop's and engines' ID. */
  id?: string;
  /** The engine, listener and history flags given: the cluster's config. */
  config: ControllerConfig;
  /** `stop --all`. */
  all?: boolean;
  /** `list --json`, `engines --json`. */
  json?: boolean;
  /** `--timeout`, in seconds. */
  timeoutS?: number;
  /** `controller --log`. */
  log?: string;
  /** `--help`: print the usage. */
  help?: boolean;
}

/**
 * Reads `args` (what follows `troupe`); throws a `UsageError` that says
 * what is wrong for an unknown verb or flag, a missing or bad value.
 *
 * @example
 * ```ts
 * import { parseArgs } from "./args.ts";
 * console.log(parseArgs(["stop", "sim"]).id); // sim
 * ```
 */
export function parseArgs(args: readonly string[]): Command {
  const [verb, ...rest] = args;
  if (verb === undefined || verb === "--help" || verb === "-h") {
    return { verb: "help", config: {} };
  }
  if (!(VERBS as readonly string[]).includes(verb)) {
    const near = closest(verb, VERBS);
    throw new UsageError(
      `unknown command ${JSON.stringify(verb)}` +
        (near ? ` (did you mean ${near}?)` : "") +
        `; the commands are ${VERBS.join(", ")}`,
    );
  }
  const spec = VERB_FLAGS[verb as Verb];
  const known = new Map(spec.flags.map((flag) => [flag.name, flag]));
  const command: Command = { verb: verb as Verb, config: {} };
  const given: Record<string, string | number | boolean | string[]> = {};
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === "-h") {
      command.help = true;
      continue;
    }
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const flag = known.get(name);
    if (!flag) {
      const near = closest(name, [...known.keys()]);
      throw new UsageError(
        `troupe ${verb}: unknown flag --${name}` +
          (near ? ` (did you mean --${near}?)` : "") +
          `; its flags are ${
            [...known.keys()].map((n) => `--${n}`).join(", ")
          }`,
      );
    }
    if (flag.kind === "switch") {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`);
      given[name] = true;
      continue;
    }
    const text = eq === -1 ? rest[++i] : arg.slice(eq + 1);
    // A list's values are other programs' flags (`--sbatch-arg --exclusive`);
    // anywhere else, a value that looks like a flag means a missing value.
    const looksLikeFlag = flag.kind !== "list" && text?.startsWith("--");
    if (text === undefined || (eq === -1 && looksLikeFlag)) {
      throw new UsageError(`--${name} needs a value: --${name} ${flag.value}`);
    }
    if (flag.kind === "count") {
      const n = Number(text);
      if (text.trim() === "" || !Number.isSafeInteger(n) || n < 0) {
        throw new UsageError(
          `--${name} takes a whole number >= 0, got ${JSON.stringify(text)}`,
        );
      }
      given[name] = n;
    } else if (flag.kind === "list") {
      given[name] = [...(given[name] as string[] | undefined ?? []), text];
    } else {
      given[name] = text;
    }
  }
  if (given.help) command.help = true;
  if (command.help) return command;
  const configNames = new Set(ENGINE_FLAGS.map((flag) => flag.name));
  for (const [name, value] of Object.entries(given)) {
    if (configNames.has(name)) command.config[name] = value;
  }
  if (given.all) command.all = true;
  if (given.json) command.json = true;
  if (given.timeout !== undefined) command.timeoutS = given.timeout as number;
  if (given.log !== undefined) command.log = given.log as string;
  if (given.id !== undefined) command.id = given.id as string;
  takePositional(command, positional);
  return command;
}

/** stop's and engines' ID; no other verb takes words. */
function takePositional(command: Command, positional: string[]): void {
  const { verb } = command;
  if (verb === "start" || verb === "controller") {
    command.id ??= "default";
  }
  if (verb === "stop" && command.all) {
    if (positional.length > 0) {
      throw new UsageError("troupe stop: give an ID or --all, not both");
    }
    return;
  }
  const takes = verb === "stop" || verb === "engines";
  if (takes && positional.length !== 1) {
    throw new UsageError(
      `troupe ${VERB_FLAGS[verb].synopsis}: ` +
        (positional.length === 0
          ? "which cluster? troupe list shows their ids"
          : `one ID, got ${positional.join(" ")}`),
    );
  }
  if (takes) {
    command.id = positional[0];
    return;
  }
  if (positional.length > 0) {
    throw new UsageError(
      `troupe ${verb} takes no ${JSON.stringify(positional[0])}: ` +
        `troupe ${VERB_FLAGS[verb].synopsis}`,
    );
  }
}

/**
 * The usage: every verb with its flags and what they mean; one verb's only
 * when `verb` is given.
 *
 * @example
 * ```ts
 * import { usage } from "./args.ts";
 * console.log(usage("stop"));
 * ```
 */
export function usage(verb?: Verb): string {
  const verbs = verb && verb !== "help" ? [verb] : VERBS;
  const lines = [
    "usage: troupe <command> [flags]   (deno task troupe, or deno run -A jsr:@troupe/parallel/cli)",
    "",
    "A troupe controller runs a cluster of engines that outlives its clients:",
    "Client.connect(ID) attaches to it from any script.",
    "",
  ];
  for (const name of verbs) {
    const { synopsis, does, flags } = VERB_FLAGS[name];
    lines.push(`troupe ${synopsis}`, `  ${does}`);
    const width = Math.max(0, ...flags.map(flagText).map((t) => t.length)) + 2;
    for (const flag of flags) {
      lines.push(
        `    ${flagText(flag).padEnd(width)}${
          wrap(flag.meaning, 78 - 4 - width, 4 + width)
        }`,
      );
    }
    lines.push("");
  }
  return lines.join("\n");
}

function flagText(flag: Flag): string {
  return flag.value ? `--${flag.name} ${flag.value}` : `--${flag.name}`;
}

/**
 * `config` as flags again: what `troupe start` passes to the controller it
 * starts, so that both read one command line the same way.
 *
 * @example
 * ```ts
 * import { flagsOf } from "./args.ts";
 * console.log(flagsOf({ workers: 2, "sbatch-arg": ["--mem=1G"] }));
 * // ["--workers=2", "--sbatch-arg=--mem=1G"]
 * ```
 */
export function flagsOf(config: ControllerConfig): string[] {
  const flags: string[] = [];
  for (const flag of ENGINE_FLAGS) {
    const value = config[flag.name];
    if (value === undefined) continue;
    // `--name=value`: a value that starts with "--" (an sbatch argument)
    // must not read as the next flag.
    for (const one of [value].flat()) flags.push(`--${flag.name}=${one}`);
  }
  return flags;
}
