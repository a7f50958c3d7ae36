/**
 * Running a scheduler's command (`sbatch`, `squeue`, `scancel`) to its end,
 * within a time limit: a hung command fails the call that ran it instead
 * of stalling the client.
 *
 * @module
 */

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
 * Runs `command` with `args` (and `stdin`, if given) and resolves with its
 * output. Rejects with an `Error` that names the command when it cannot be
 * started or takes longer than `timeoutMs` (it is killed then).
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
  options: { stdin?: string; timeoutMs?: number } = {},
): Promise<CommandResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const what = [command, ...args.slice(0, 3)].join(" ");
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(command, {
      args: [...args],
      stdin: options.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    throw new Error(
      `cannot run ${command}: ${(error as Error).message}` +
        (error instanceof Deno.errors.NotFound
          ? ` (is it installed, and on the PATH?)`
          : ""),
      { cause: error },
    );
  }
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    writer.write(new TextEncoder().encode(options.stdin))
      .then(() => writer.close())
      .catch(() => {}); // It exited early: its output says why.
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // It ended just now.
    }
  }, timeoutMs);
  const output = await child.output().finally(() => clearTimeout(timer));
  if (timedOut) {
    throw new Error(`${what} did not finish within ${timeoutMs} ms`);
  }
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}
