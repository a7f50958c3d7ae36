/**
 * Whatever runs an engine that connects back over TCP: a process started
 * here, an `ssh` session, a Slurm job, an MPI rank. A link owns one so that
 * it learns when the engine can no longer connect, and can end it.
 *
 * @module
 */

import { within } from "../actors/async.ts";

/**
 * What runs one engine, as its link sees it.
 *
 * @example
 * ```ts
 * import type { EngineHost } from "@troupe/parallel";
 * const noop: EngineHost = {
 *   ended: new Promise(() => {}),
 *   stop: () => Promise.resolve(),
 * };
 * console.log(typeof noop.stop); // "function"
 * ```
 */
export interface EngineHost {
  /**
   * Resolves (never rejects) with why, in words, once the engine has ended
   * or can no longer start: its process exited, its job left the queue.
   */
  readonly ended: Promise<string>;
  /**
   * Ends the engine where it runs (a kill, a `scancel`); resolves once it
   * has ended, or once the host's own bound has passed.
   */
  stop(): Promise<void>;
  /**
   * While `true`, the engine waits in a scheduler's queue (a pending Slurm
   * job): its start deadline does not run yet.
   */
  readonly queued?: boolean;
  /** Lets the client's process end while the engine runs. */
  unref?(): void;
}

/**
 * How to run one local program for an engine.
 *
 * @example
 * ```ts
 * import type { HostProcessOptions } from "@troupe/parallel";
 * const options: HostProcessOptions = {
 *   command: "ssh",
 *   args: ["node7", "deno", "run", "-A", "engine.ts"],
 *   stdin: '{"key":"..."}',
 * };
 * ```
 */
export interface HostProcessOptions {
  /** The program: `deno`, `ssh`, `mpiexec`, ... */
  command: string;
  /** Its arguments: never a secret (every user sees them in `ps`). */
  args: string[];
  /** Written to its standard input, which then closes: where secrets go. */
  stdin?: string;
  /** Extra environment variables (never secrets: `/proc` shows them). */
  env?: Record<string, string>;
  /** Start it with `env` only, none of this process's environment. */
  clearEnv?: boolean;
  /** The signal `stop` sends first; SIGKILL follows after `graceMs`. */
  signal?: Deno.Signal;
  /** How long `stop` waits after its first signal, in ms (5000). */
  graceMs?: number;
}

/**
 * A local process that runs one engine (or, for `mpiexec`, several), with
 * its stdout and stderr those of the client.
 *
 * @example
 * ```ts
 * import { HostProcess } from "@troupe/parallel";
 * const host = new HostProcess({ command: Deno.execPath(), args: ["--version"] });
 * console.log(await host.ended); // its process exited with code 0
 * ```
 */
export class HostProcess implements EngineHost {
  /** Why it ended, once it has. */
  readonly ended: Promise<string>;
  /** The process id. */
  readonly pid: number;
  #child: Deno.ChildProcess;
  #signal: Deno.Signal;
  #graceMs: number;
  #done = false;

  /** Starts the process now; throws if the program cannot be started. */
  constructor(options: HostProcessOptions) {
    this.#signal = options.signal ?? "SIGKILL";
    this.#graceMs = options.graceMs ?? 5000;
    this.#child = new Deno.Command(options.command, {
      args: options.args,
      env: options.env,
      clearEnv: options.clearEnv ?? false,
      stdin: options.stdin === undefined ? "null" : "piped",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    this.pid = this.#child.pid;
    if (options.stdin !== undefined) {
      const writer = this.#child.stdin.getWriter();
      writer.write(new TextEncoder().encode(options.stdin))
        .then(() => writer.close())
        .catch(() => {}); // An early exit is reported by `ended`.
    }
    this.ended = this.#child.status.then((status) => {
      this.#done = true;
      return status.signal
        ? `it was killed by ${status.signal}`
        : `its process exited with code ${status.code}`;
    });
  }

  /** Signals the process, then kills it if it outlives `graceMs`. */
  async stop(): Promise<void> {
    if (this.#done) return;
    this.#kill(this.#signal);
    if (this.#signal === "SIGKILL") {
      await this.ended;
      return;
    }
    if (!(await within(this.ended, this.#graceMs)).done) {
      this.#kill("SIGKILL");
      await this.ended;
    }
  }

  /** Lets the client's process end while this one runs. */
  unref(): void {
    this.#child.unref();
  }

  #kill(signal: Deno.Signal): void {
    try {
      this.#child.kill(signal);
    } catch {
      // It exited already: `ended` says how.
    }
  }
}

/**
 * One local process per engine, each running `command` with `args` and
 * `--secrets -`, its secrets on its standard input: how the `local`
 * launcher and `ClientOptions.processes` start engines. With `env`, that
 * is each process's whole environment (a sandboxed engine's).
 *
 * @example
 * ```ts
 * import { localEngineProcesses } from "./engine_host.ts";
 * const [host] = localEngineProcesses(Deno.execPath(), ["eval", "0"], ["{}"]);
 * console.log(await host.ended); // its process exited with code 0
 * ```
 */
export function localEngineProcesses(
  command: string,
  args: readonly string[],
  secrets: readonly string[],
  env?: Record<string, string>,
): HostProcess[] {
  return secrets.map((stdin) =>
    new HostProcess({
      command,
      args: [...args, "--secrets", "-"],
      stdin,
      ...(env ? { env, clearEnv: true } : {}),
    })
  );
}
