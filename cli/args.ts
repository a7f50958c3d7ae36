/**
 * Reading the troupe CLI's command line (its verbs and flags are
 * cli/flags.ts's table): arguments to a `Command`, or a `UsageError` that
 * says what to type.
 *
 * @module
 */

import { closest } from "../protocol/check_options.ts";
import {
  type ControllerConfig,
  DEFAULT_CLUSTER_ID,
} from "../remote/cluster_state.ts";
import { ENGINE_FLAGS, type Verb, VERB_FLAGS, VERBS } from "./flags.ts";

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
    if (flag.kind === "grant") {
      // As deno's own --allow-*: a value only after "=", so that the next
      // word is never taken for one.
      const next = rest[i + 1];
      if (eq === -1 && next !== undefined && !next.startsWith("-")) {
        throw new UsageError(
          `--${name} takes its list after "=": --${name}=${next} (bare, ` +
            "it grants all)",
        );
      }
      // Repeated, the lists add up, as deno's own flags do.
      const before = given[name];
      const value = eq === -1 ? true : arg.slice(eq + 1).split(",");
      given[name] = before === true || value === true
        ? true
        : [...(Array.isArray(before) ? before : []), ...value];
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
    command.id ??= DEFAULT_CLUSTER_ID;
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
