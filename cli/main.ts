/**
 * The troupe CLI, ipcluster's verbs for a controller that outlives its
 * clients:
 *
 * ```sh
 * deno run -A jsr:@troupe/parallel/cli start --id sim --workers 4
 * deno run -A jsr:@troupe/parallel/cli list
 * deno run -A jsr:@troupe/parallel/cli engines sim
 * deno run -A jsr:@troupe/parallel/cli stop sim
 * ```
 *
 * (`deno task troupe ...` in a checkout). Scripts attach with
 * `Client.connect("sim")`. `--help` lists every verb and flag.
 *
 * @module
 */

import { messageOf } from "../protocol/errors.ts";
import { type Command, parseArgs, UsageError } from "./args.ts";
import { usage, type Verb, VERB_FLAGS, VERBS } from "./flags.ts";
import { runController } from "./controller_verb.ts";
import { listClusters, listEngines } from "./list_verbs.ts";
import { startDetached } from "./start_verb.ts";
import { stopClusters } from "./stop_verb.ts";

/**
 * Runs the CLI on `args`; resolves with its exit code (0 done, 1 failed,
 * 2 a command line it cannot run) after printing what it has to say.
 *
 * @example
 * ```ts
 * import { main } from "./main.ts";
 * const code = await main(["--help"]); // prints the usage
 * console.log(code); // 0
 * ```
 */
export async function main(args: readonly string[]): Promise<number> {
  let command: Command;
  try {
    command = parseArgs(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${said(error.message, args[0])}\n${usageHint(args[0])}`);
    return 2;
  }
  if (command.verb === "help" || command.help) {
    console.log(usage(command.verb));
    return 0;
  }
  try {
    switch (command.verb) {
      case "start":
        console.log(await startDetached(command));
        break;
      case "controller":
        await runController(command);
        break;
      case "stop":
        console.log((await stopClusters(command)).join("\n"));
        break;
      case "list":
        console.log(await listClusters(command));
        break;
      case "engines":
        console.log(await listEngines(command));
        break;
    }
    return 0;
  } catch (error) {
    console.error(`troupe ${command.verb}: ${messageOf(error)}`);
    return error instanceof UsageError ? 2 : 1;
  }
}

/**
 * A command line's mistake with one prefix: the verb's when there is one
 * (as a verb's failures say), unless the message names it already.
 */
function said(message: string, verb: string | undefined): string {
  if (message.startsWith("troupe ")) return message;
  return `${isVerb(verb) ? `troupe ${verb}` : "troupe"}: ${message}`;
}

function isVerb(verb: string | undefined): verb is Verb {
  return (VERBS as readonly (string | undefined)[]).includes(verb);
}

/** The usage line of the verb a bad command line was for, or of all. */
function usageHint(verb: string | undefined): string {
  if (!isVerb(verb)) {
    return "usage: troupe <command> [flags] (troupe --help lists them)";
  }
  return `usage: troupe ${VERB_FLAGS[verb].synopsis} ` +
    `(troupe ${verb} --help lists its flags)`;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
