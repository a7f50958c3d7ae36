/**
 * `troupe start`: a controller in the background. It runs `troupe
 * controller` as a detached process (it outlives this one and the
 * terminal), then waits, bounded, for the state file that the controller
 * writes once its cluster is up, or for the controller's end (then the log
 * says why). No secret goes on the controller's command line: it makes its
 * keys, or reads the old ones from the state file when it starts again.
 *
 * @module
 */

import { join, resolve } from "node:path";
import {
  clusterStateDir,
  makeClusterStateDir,
  readClusterState,
} from "../remote/cluster_state.ts";
import type { Command } from "./args.ts";
import { flagsOf } from "./flags.ts";
import { configOf, previousState } from "./controller_verb.ts";
import { controllerPlan } from "./cluster_config.ts";
import { START_LOCK_ENV, takeStartLock } from "./start_lock.ts";
import { controllerRuns, isAlive } from "../remote/controller_liveness.ts";

/** What `troupe start` waits for the controller by default, in seconds. */
const START_TIMEOUT_S = 120;

/** How long a controller stopped at `--timeout` has before SIGKILL. */
const STOP_GRACE_MS = 30_000;

/**
 * How deno runs this CLI again, given the URL of its main.ts: from a
 * checkout (a `file:` URL) with the checkout's deno.json, whose import map
 * the modules need whatever folder the controller starts in; from JSR as
 * the package's `./cli` export, of the same version (its https URL alone
 * would bring no import map).
 *
 * @example
 * ```ts
 * import { cliEntry } from "./start_verb.ts";
 * console.log(cliEntry("https://jsr.io/@troupe/parallel/0.1.0/cli/main.ts"));
 * // ["jsr:@troupe/parallel@0.1.0/cli"]
 * ```
 */
export function cliEntry(main: string): string[] {
  const url = new URL(main);
  if (url.protocol === "file:") {
    return [`--config=${new URL("../deno.json", url).pathname}`, url.href];
  }
  const jsr = url.pathname.match(/^\/(@[^/]+\/[^/]+)\/([^/]+)\/cli\/main\.ts$/);
  // Any host: JSR_URL (inherited) may name another registry than jsr.io.
  if (url.protocol.startsWith("http") && jsr) {
    return [`jsr:${jsr[1]}@${jsr[2]}/cli`];
  }
  return [url.href];
}

/**
 * The deno arguments that run this CLI's `controller` verb for cluster
 * `id`.
 *
 * @example
 * ```ts
 * import { controllerArgs } from "./start_verb.ts";
 * console.log(controllerArgs("sim", {}, "/tmp/sim.log").includes("controller")); // true
 * ```
 */
export function controllerArgs(
  id: string,
  config: Command["config"],
  log: string,
): string[] {
  return [
    "run",
    "-A",
    ...cliEntry(new URL("./main.ts", import.meta.url).href),
    "controller",
    `--id=${id}`,
    `--log=${log}`,
    ...flagsOf(config),
  ];
}

/**
 * Starts cluster `command.id` in the background; returns what to print
 * once it is ready. Throws (with the log's end) if it is not within
 * `--timeout`.
 *
 * @example
 * ```ts ignore
 * import { parseArgs } from "./args.ts";
 * import { startDetached } from "./start_verb.ts";
 * console.log(await startDetached(parseArgs(["start", "--workers", "2"])));
 * ```
 */
export async function startDetached(command: Command): Promise<string> {
  const id = command.id!;
  await makeClusterStateDir();
  // Held until the controller is ready or its failed start is cleaned up:
  // what `absent` finds below stays true while no other start runs.
  // A cluster that runs is refused as such, before its lock would be.
  await previousState(id);
  // The controller takes it over for its life; one that failed leaves it
  // to be removed here.
  const unlock = await takeStartLock(id);
  const spawned: { pid?: number } = {};
  try {
    return await startLocked(command, id, spawned);
  } finally {
    await unlock(
      spawned.pid !== undefined && !isAlive(spawned.pid)
        ? spawned.pid
        : undefined,
    );
  }
}

async function startLocked(
  command: Command,
  id: string,
  spawned: { pid?: number },
): Promise<string> {
  const previous = await previousState(id);
  const config = configOf(command.config, previous?.config);
  // The flags' mistakes are this process's to report, before anything
  // starts: the controller would only put them in its log.
  const { history } = controllerPlan(id, config, previous);
  const log = resolve(join(clusterStateDir(), `${id}.log`));
  const logStart = await sizeOf(log);
  // What a start that fails made, it removes (see `failed`).
  const made = await madeByStart(log, history.path);
  // Made here, 0600: what a controller logs is its user's business.
  (await Deno.open(log, { create: true, append: true, mode: 0o600 })).close();
  // sh opens the log as the controller's stdout and stderr, then becomes
  // it (exec: the pid is the controller's): Deno's Command cannot give a
  // child a file, and everything the controller, its engine processes and
  // deno itself print must land there, never in a pipe that closes when
  // this process exits. The log's path is an argument, never shell text.
  const child = new Deno.Command("sh", {
    args: [
      "-c",
      'log=$1; shift; exec "$@" </dev/null >>"$log" 2>&1',
      "troupe-start",
      log,
      Deno.execPath(),
      ...controllerArgs(id, config, log),
    ],
    detached: true,
    env: { [START_LOCK_ENV]: String(Deno.pid) },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  child.unref();
  spawned.pid = child.pid;
  let exited: Deno.CommandStatus | undefined;
  child.status.then((status) => exited = status);
  const timeoutS = command.timeoutS ?? START_TIMEOUT_S;
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    const state = await readClusterState(id).catch(() => undefined);
    if (state?.pid === child.pid) {
      return `cluster ${id} is running (pid ${child.pid}): ` +
        `Client.connect(${JSON.stringify(id)}) attaches to it; clients ` +
        `on ${state.hostname}:${state.port}, engines join on ` +
        `${state.engine.hostname}:${state.engine.port}` +
        (state.dashboard ? `; dashboard ${state.dashboard}` : "") +
        `; log ${log}; troupe stop ${id} stops it`;
    }
    if (exited) {
      throw await failed(
        `the controller of ${id} (pid ${child.pid}) exited with code ` +
          `${exited.code} before it was ready`,
        log,
        logStart,
        made,
        id,
      );
    }
    if (Date.now() > deadline) {
      const how = await stopStarting(child.pid, () => exited !== undefined);
      throw await failed(
        `the controller of ${id} (pid ${child.pid}) was not ready within ` +
          `${timeoutS} s (--timeout), so it was ${how}`,
        log,
        logStart,
        made,
        id,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Stops a controller that is still starting: SIGTERM, on which it stops
 * what it started (engines through their launchers, so no Slurm job stays
 * queued) and removes its state file; SIGKILL to it and its process group
 * only if it has not exited within `STOP_GRACE_MS`. Says which it took.
 */
async function stopStarting(
  pid: number,
  gone: () => boolean,
): Promise<string> {
  try {
    Deno.kill(pid, "SIGTERM");
  } catch {
    // Exited meanwhile.
  }
  const deadline = Date.now() + STOP_GRACE_MS;
  while (!gone() && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (gone()) return "stopped (SIGTERM)";
  killGroup(pid);
  return `killed (SIGKILL: SIGTERM did not stop it within ${
    STOP_GRACE_MS / 1000
  } s)`;
}

/** Kills `pid` and its process group (detached: its engine processes). */
function killGroup(pid: number): void {
  for (const target of [-pid, pid]) {
    try {
      Deno.kill(target, "SIGKILL");
    } catch {
      // Not a group leader, or gone meanwhile.
    }
  }
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).size;
  } catch {
    return 0;
  }
}

/**
 * What a start about to begin would make, and so may remove if it fails:
 * the log if there is none, and the history database with its journals if
 * the database is not there. SQLite's journals go with the database only:
 * beside a database that was there (stopped cleanly, it leaves none) they
 * may hold its committed frames, written by the controller that failed.
 *
 * @example
 * ```ts
 * import { madeByStart } from "./start_verb.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/c.sqlite`, "");
 * console.log([...await madeByStart(`${dir}/c.log`, `${dir}/c.sqlite`)]);
 * // [ ".../c.log" ]: not c.sqlite-wal, beside a database that was there
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function madeByStart(
  log: string,
  db: string,
): Promise<Set<string>> {
  const made = await absent([log]);
  if (db === ":memory:") return made;
  if ((await absent([db])).size > 0) {
    for (const path of historyFiles(db)) made.add(path);
  }
  return made;
}

/** A history database's files: SQLite's journals beside it. */
function historyFiles(db: string): string[] {
  return [db, `${db}-wal`, `${db}-shm`, `${db}-journal`];
}

/** Those of `paths` that are not there now. */
async function absent(paths: string[]): Promise<Set<string>> {
  const gone = new Set<string>();
  for (const path of paths) {
    try {
      await Deno.lstat(path);
    } catch {
      gone.add(path);
    }
  }
  return gone;
}

/** The lines of a failed start's log quoted in its error. */
const QUOTED_LINES = 30;

/**
 * The error of a start that failed, with the end of what it added to the
 * log; what the start made is removed: the history it made (a cluster
 * that never was ready ran no task) and the log when the error quotes all
 * of it. A longer log stays, and the error says where.
 */
async function failed(
  why: string,
  log: string,
  logStart: number,
  made: Set<string>,
  id: string,
): Promise<Error> {
  let added = "";
  try {
    const bytes = await Deno.readFile(log);
    added = new TextDecoder().decode(bytes.subarray(logStart));
  } catch {
    // No log: the controller never got to write one.
  }
  const lines = added.trimEnd().split("\n");
  const whole = lines.length <= QUOTED_LINES;
  // The lock keeps other starts out, not a controller run by hand without
  // this troupe's lock (an older one): its files are never ours.
  const running = await readClusterState(id).catch(() => undefined);
  const another = running !== undefined && controllerRuns(running);
  const remove = another
    ? []
    : [...made].filter((path) => path !== log || whole);
  await Promise.all(remove.map((path) => Deno.remove(path).catch(() => {})));
  const quoted = lines.slice(-QUOTED_LINES).join("\n");
  if (quoted.trim() === "") return new Error(`${why} (its log was empty)`);
  return new Error(
    whole
      ? `${why}; its log:\n${quoted}`
      : `${why}; the end of its log (the whole log stays in ${log}):\n${quoted}`,
  );
}
