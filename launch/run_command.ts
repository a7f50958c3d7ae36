/**
 * Running a scheduler's command (`sbatch`, `squeue`, `scancel`) to its end,
 * within a time limit: a hung command fails the call that ran it instead
 * of stalling the client.
 *
 * @module
 */

import { within } from "../actors/async.ts";

/**
 * What a command printed, and how it ended.
 *
 * @example
 * ```ts
 * import type { CommandResult } from "./run_command.ts";
 * const ok = (r: CommandResult) => r.code === 0;
 * ```
 */
export interface CommandResult {
  /** The exit code. */
  code: number;
  /** Its standard output, as text. */
  stdout: string;
  /** Its standard error, as text. */
  stderr: string;
}

/**
 * Runs `command` with `args` to its end, with `stdin` (when given) as its
 * input and `env` added to this process's environment, and resolves with
 * its output. A command still running after `timeoutMs` is killed and the
 * promise rejects with an error that names it; a missing command rejects
 * with a `Deno.errors.NotFound` that says so.
 *
 * @example
 * ```ts
 * import { runCommand } from "./run_command.ts";
 * const { code, stdout } = await runCommand(Deno.execPath(), ["--version"]);
 * console.log(code, stdout.startsWith("deno")); // 0 true
 * ```
 */
export async function runCommand(
  command: string,
  args: readonly string[],
  { stdin, env, timeoutMs = 30_000 }: {
    stdin?: string;
    env?: Readonly<Record<string, string>>;
    timeoutMs?: number;
  } = {},
): Promise<CommandResult> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(command, {
      args: [...args],
      env: env === undefined ? undefined : { ...env },
      stdin: stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new Deno.errors.NotFound(
      `cannot run ${command}: it is not on the PATH (is it installed?)`,
      { cause: error },
    );
  }
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    // A command that exits without reading its input breaks the pipe: its
    // exit code says what happened, not the write.
    await writer.write(new TextEncoder().encode(stdin)).catch(() => {});
    await writer.close().catch(() => {});
  }
  const output = child.output();
  const ended = await within(output, timeoutMs);
  if (!ended.done) {
    child.kill("SIGKILL");
    await output.catch(() => {});
    throw new Error(
      `${command} ${args.join(" ")} did not end within ${timeoutMs} ms ` +
        "(killed)",
    );
  }
  const text = new TextDecoder();
  return {
    code: ended.value.code,
    stdout: text.decode(ended.value.stdout),
    stderr: text.decode(ended.value.stderr),
  };
}
