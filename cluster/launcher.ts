/**
 * `Launcher`: how a cluster gets engines from a system that runs programs
 * (a shell, `ssh`, Slurm, MPI, PBS, Kubernetes). troupe's own launchers
 * (`local`, `ssh`, `slurm`, `mpi`) implement it, and so can a user's: the
 * cluster asks it to start engines, and learns from what it returns when
 * one is lost, to start it again under the same id through it.
 *
 * @module
 */

import type { EngineHost } from "../transport/engine_host.ts";
import type { EnginePermissions } from "../protocol/engine_permissions.ts";
import type { EngineStartNeeds } from "./sandbox_flags.ts";

/**
 * One engine a launcher is asked to start.
 *
 * @example
 * ```ts
 * import type { EngineToLaunch } from "@troupe/parallel";
 * const one: EngineToLaunch = { engineId: 3, secrets: '{"key":"..."}' };
 * ```
 */
export interface EngineToLaunch {
  /** The id it will have. */
  engineId: number;
  /**
   * What it needs to join, as JSON (the key among it): never in a command
   * line, a job script, an environment variable or a log. Give it to the
   * engine on its standard input (`--secrets -`), or in a file only its
   * user can read (`--secrets PATH`, see `writeEngineSecrets`).
   */
  secrets: string;
}

/**
 * What a launcher is asked to start: engines that all run the same program
 * and dial the same address.
 *
 * @example
 * ```ts
 * import type { LaunchRequest } from "@troupe/parallel";
 * function commandLine(request: LaunchRequest): string {
 *   return ["deno", ...request.args, "--secrets", "-"].join(" ");
 * }
 * ```
 */
export interface LaunchRequest {
  /** The engines to start, in the order of the handles `start` returns. */
  engines: EngineToLaunch[];
  /**
   * The engine program as arguments of `deno` (`run -A ... --connect
   * HOST:PORT --spawned ...`; a sandboxed engine's permission flags
   * instead of `-A`, and `--sandbox REVOKE` after the module). Add where the engine reads its secrets:
   * `--secrets -` (standard input) or `--secrets PATH`, where `{slot}` in
   * `PATH` is replaced with `--slot N`, or with the first of the variables
   * named by `--slot-env A,B` that is set (a job array index, an MPI rank).
   */
  args: string[];
  /** The address the engines dial. */
  connect: { hostname: string; port: number };
  /**
   * For sandboxed engines: the whole environment to start a local engine
   * process with (only what Deno needs and what `permissions.env` grants),
   * in place of the client's. Absent: the client's environment, as before.
   */
  env?: Record<string, string>;
}

/**
 * Where a launched engine runs, as `client.engines()` shows it.
 *
 * @example
 * ```ts
 * import type { LaunchInfo } from "@troupe/parallel";
 * const job: LaunchInfo = { jobId: "4711_3" };
 * ```
 */
export interface LaunchInfo {
  /** The host the launcher put it on, if it knows. */
  host?: string;
  /** The scheduler's id of its job (Slurm: `JOBID_INDEX`). */
  jobId?: string;
  /** Its MPI rank in the job that started it. */
  rank?: number;
}

/**
 * One engine a launcher started: when it ends, and how to end it.
 *
 * @example
 * ```ts
 * import type { LaunchedEngine } from "@troupe/parallel";
 * const started: LaunchedEngine = {
 *   ended: new Promise(() => {}),
 *   stop: () => Promise.resolve(),
 *   info: { host: "node7" },
 * };
 * ```
 */
export interface LaunchedEngine extends EngineHost {
  /** Where it runs. */
  readonly info?: LaunchInfo;
}

/**
 * Starts engines on a system of its own. `start` may be called again while
 * the client runs: to replace a lost engine (under its id) and to grow
 * (`client.scale`). Its engines exit by themselves when their connection to
 * the client drops, so `stop` only has to release what the system holds
 * (a job, an `ssh` session).
 *
 * @example
 * ```ts
 * import { Client, type Launcher, HostProcess } from "@troupe/parallel";
 * // A launcher that runs each engine as a local deno process.
 * const mine: Launcher = {
 *   name: "mine",
 *   engines: 1,
 *   start: (request) =>
 *     Promise.resolve(request.engines.map((engine) =>
 *       new HostProcess({
 *         command: Deno.execPath(),
 *         args: [...request.args, "--secrets", "-"],
 *         stdin: engine.secrets,
 *       })
 *     )),
 * };
 * await using client = await Client.start({ workers: 0, launch: mine });
 * console.log(client.engines()[0].launcher); // "mine"
 * ```
 */
export interface Launcher {
  /** Its name in `client.engines()` and in errors: `slurm`, `ssh`, ... */
  readonly name: string;
  /** How many engines `Client.start` asks it for. */
  readonly engines: number;
  /**
   * At most this many of its engines between their start and their
   * registration at once, for engines that share the client's cores
   * (`local`): the others wait their turn, queued, their start deadline not
   * running. Unlimited when absent (a scheduler spreads them over hosts).
   */
  readonly startsAtOnce?: number;
  /**
   * Run its engines sandboxed, with these Deno permissions instead of
   * `-A`: `request.args` has the flags. Wins over
   * `ClientOptions.permissions` for its engines.
   */
  readonly permissions?: EnginePermissions;
  /**
   * What its engines read before they join when they are sandboxed: the
   * folder of the `--secrets PATH` it gives them (`read` and `write`: the
   * engine deletes the file), the variables of `--slot-env`. Granted in
   * `request.args` until the engine has joined, then taken back. A
   * launcher that gives its secrets on stdin needs none.
   */
  startNeeds?(): EngineStartNeeds;
  /**
   * Starts `request.engines`; resolves with one handle each, in order.
   * Rejecting fails them all (each counts as a death, within the restart
   * policy), with the error's message.
   */
  start(request: LaunchRequest): Promise<LaunchedEngine[]>;
  /**
   * Throws, before anything starts, when the launcher cannot run here: a
   * permission the script lacks (say the flag), a setting that cannot
   * work. `Client.start` calls it; a launcher without it is tried as it is.
   */
  check?(): void;
  /**
   * Releases what the launcher holds once the client has stopped its
   * engines (temporary files, a job array): called once, at `close()`.
   */
  close?(): Promise<void>;
}

/**
 * Asks `launcher` to start `request.engines` (building the request inside,
 * so that what it needs may throw too): its handles, one per engine, or,
 * when it throws, rejects or miscounts, why, in words each engine's death
 * can give. The one place a launcher's answer is checked.
 *
 * @example
 * ```ts
 * import { startThrough } from "./launcher.ts";
 * const answer = await startThrough(
 *   { name: "none", engines: 1, start: () => Promise.resolve([]) },
 *   () => ({ engines: [{ engineId: 0, secrets: "{}" }], args: [], connect: { hostname: "h", port: 1 } }),
 * );
 * console.log("why" in answer && answer.why);
 * // the none launcher could not start it: it returned 0 handles for 1 engines
 * ```
 */
export async function startThrough(
  launcher: Launcher,
  request: () => LaunchRequest,
): Promise<{ handles: LaunchedEngine[] } | { why: string }> {
  try {
    const asked = request();
    const handles = await launcher.start(asked);
    if (!Array.isArray(handles) || handles.length !== asked.engines.length) {
      throw new Error(
        `it returned ${
          Array.isArray(handles) ? handles.length : "no array of"
        } handles for ${asked.engines.length} engines`,
      );
    }
    return { handles };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      why: `the ${launcher.name} launcher could not start it: ${message}`,
    };
  }
}
