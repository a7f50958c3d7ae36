/**
 * What the controller tests (controller_*_test.ts, notebook_restart_test.ts)
 * share: a `TROUPE_HOME` of their own, the troupe CLI run to its end within
 * a bound, a cluster started with `troupe start` and read back from its
 * state file, and `troupe stop` checked to leave nothing behind (no
 * controller, no engine process, no state file). A test that fails half
 * way still ends what it started: `withCluster` kills, by their pids, the
 * controller and the engine processes it saw.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type CommandResult, runCommand } from "../launch/run_command.ts";
import { isAlive } from "../remote/controller_liveness.ts";
import { isLive, processesMatching } from "./cluster_services.ts";
import {
  type ClusterState,
  parseClusterState,
} from "../remote/cluster_state.ts";
import { guard, until } from "./helpers.ts";
import { enginesDialing } from "./launch_checks.ts";

const ROOT = new URL("../", import.meta.url);
const CONFIG = new URL("deno.json", ROOT).pathname;

/** The CLI's entry in this checkout. */
export const CLI: string = new URL("cli/main.ts", ROOT).pathname;

/**
 * Runs `body` with a new temporary `TROUPE_HOME`, set in this process too
 * (so `Client.connect(id)` finds the state files), and puts the old value
 * back and removes the folder afterwards, whatever happens.
 *
 * @example
 * ```ts ignore
 * import { withTroupeHome } from "./controller_rig.ts";
 * await withTroupeHome(async (home) => console.log(home));
 * ```
 */
export async function withTroupeHome(
  body: (home: string) => Promise<void>,
): Promise<void> {
  const home = await Deno.makeTempDir({ prefix: "troupe_home_" });
  const before = Deno.env.get("TROUPE_HOME");
  Deno.env.set("TROUPE_HOME", home);
  try {
    await body(home);
  } finally {
    if (before === undefined) Deno.env.delete("TROUPE_HOME");
    else Deno.env.set("TROUPE_HOME", before);
    await Deno.remove(home, { recursive: true });
  }
}

/**
 * Runs `deno run -A cli/main.ts ...args` with `TROUPE_HOME=home` to its end
 * (killed after `ms`).
 *
 * @example
 * ```ts ignore
 * import { troupe } from "./controller_rig.ts";
 * console.log((await troupe("/tmp/home", ["list"])).stdout);
 * ```
 */
export function troupe(
  home: string,
  args: readonly string[],
  ms = 120_000,
): Promise<CommandResult> {
  return runCommand(Deno.execPath(), [
    "run",
    "-A",
    "--config",
    CONFIG,
    CLI,
    ...args,
  ], { env: { TROUPE_HOME: home, NO_COLOR: "1" }, timeoutMs: ms });
}

/** A `troupe controller` in the foreground, as `withForegroundController` gives it. */
export interface ForegroundController {
  /** Its process id (the state file's `pid` once it is up). */
  pid: number;
  /**
   * Sends `signal`, and resolves with its exit code and stderr once it
   * exited; fails naming `what` after `ms`.
   */
  stop(
    signal: Deno.Signal,
    what: string,
    ms: number,
  ): Promise<{ code: number; stderr: string }>;
}

/**
 * Runs `troupe controller ...args` in the foreground (as in a terminal)
 * with `TROUPE_HOME=home`, and `body` with it; whatever happens, a
 * controller still running afterwards is killed and its output drained.
 *
 * @example
 * ```ts ignore
 * import { withForegroundController, withTroupeHome } from "./controller_rig.ts";
 * await withTroupeHome((home) =>
 *   withForegroundController(home, ["--id", "fg"], async (controller) => {
 *     console.log((await controller.stop("SIGTERM", "its exit", 30_000)).code);
 *   })
 * );
 * ```
 */
export async function withForegroundController(
  home: string,
  args: readonly string[],
  body: (controller: ForegroundController) => Promise<void>,
): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", CONFIG, CLI, "controller", ...args],
    env: { TROUPE_HOME: home, NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  try {
    await body({
      pid: child.pid,
      async stop(signal, what, ms) {
        child.kill(signal);
        const { code, stderr } = await guard(output, what, ms);
        return { code, stderr: new TextDecoder().decode(stderr) };
      },
    });
  } finally {
    if (isAlive(child.pid)) child.kill("SIGKILL");
    await output.catch(() => undefined);
  }
}

/**
 * Asserts that cluster `id` has no state file under `home` (`why` says
 * what left it otherwise).
 *
 * @example
 * ```ts ignore
 * import { assertNoStateFile } from "./controller_rig.ts";
 * await assertNoStateFile("/tmp/home", "t1");
 * ```
 */
export async function assertNoStateFile(
  home: string,
  id: string,
  why?: string,
): Promise<void> {
  await assert.rejects(
    Deno.stat(statePath(home, id)),
    Deno.errors.NotFound,
    why,
  );
}

/** Where cluster `id`'s state file is under `home`. */
export function statePath(home: string, id: string): string {
  return `${home}/clusters/${id}.json`;
}

/**
 * Cluster `id`'s state file under `home`.
 *
 * @example
 * ```ts ignore
 * import { readState } from "./controller_rig.ts";
 * console.log((await readState("/tmp/home", "t1")).pid);
 * ```
 */
export async function readState(
  home: string,
  id: string,
): Promise<ClusterState> {
  const path = statePath(home, id);
  return parseClusterState(await Deno.readTextFile(path), path);
}

/**
 * A state file's contents for tests that need one without a controller:
 * cluster `id` of this process, loopback ports nobody dials, and
 * `fields` over them.
 *
 * @example
 * ```ts ignore
 * import { sampleState } from "./controller_rig.ts";
 * console.log(sampleState("sim", { port: 9 }).engine.port); // 40002
 * ```
 */
export function sampleState(
  id: string,
  fields: Partial<ClusterState> = {},
): ClusterState {
  return {
    version: 1,
    id,
    pid: Deno.pid,
    hostname: "127.0.0.1",
    port: 40001,
    key: "client key",
    engine: { hostname: "127.0.0.1", port: 40002, key: "engine key" },
    db: `/somewhere/${id}.sqlite`,
    config: {},
    startedAt: 0,
    ...fields,
  };
}

/** A started cluster, as `withCluster` gives it to its body. */
export interface RunningCluster {
  /** Its state file, as `start` left it (read again after a restart). */
  state: ClusterState;
  /** What `start` printed (its last run's stdout). */
  said: string;
  /** `troupe start --id <id> ...flags` again (after a kill -9, say). */
  restart(): Promise<ClusterState>;
  /** Pids to end if the test fails: a hand engine, a client script. */
  alsoKill(pid: number): void;
}

/**
 * Starts cluster `id` with `troupe start --id <id> ...flags`, runs `body`,
 * then stops it with `troupe stop <id>` and asserts that nothing is left:
 * the controller has exited, no engine process it started runs (none
 * dials its engine port, none of its child processes lives), and its state
 * file is gone. If `body` fails, the stop is still tried, and whatever it
 * left is killed by pid.
 *
 * @example
 * ```ts ignore
 * import { withCluster, withTroupeHome } from "./controller_rig.ts";
 * await withTroupeHome((home) =>
 *   withCluster(home, "t1", ["--workers", "2"], async ({ state }) => {
 *     console.log(state.port);
 *   })
 * );
 * ```
 */
export async function withCluster(
  home: string,
  id: string,
  flags: readonly string[],
  body: (cluster: RunningCluster) => Promise<void>,
): Promise<void> {
  const seen = new Set<number>();
  const extra = new Set<number>();
  const start = async () => {
    const started = await troupe(home, ["start", "--id", id, ...flags]);
    assert.equal(
      started.code,
      0,
      `troupe start --id ${id} ${flags.join(" ")} failed:\n` +
        started.stdout + started.stderr + (await logOf(home, id)),
    );
    const state = await readState(home, id);
    seen.add(state.pid);
    said = started.stdout;
    return state;
  };
  let said = "";
  const cluster: RunningCluster = {
    state: await start(),
    get said() {
      return said;
    },
    restart: async () => (cluster.state = await start()),
    alsoKill: (pid) => void extra.add(pid),
  };
  let failure: unknown;
  try {
    await body(cluster);
  } catch (error) {
    failure = error;
  }
  const engines = await enginesOf(cluster.state, seen);
  try {
    await stopAndCheck(home, cluster.state, engines);
  } catch (error) {
    if (failure === undefined) failure = error;
    else console.error(`after the failure, troupe stop: ${error}`);
  }
  if (failure === undefined) return;
  // Only after a failure: a pid that exited may be another process's soon.
  for (const pid of [...seen, ...engines, ...extra]) killQuietly(pid);
  throw failure;
}

/** The engine processes of a cluster: the controllers' children, and dialers. */
async function enginesOf(
  state: ClusterState,
  controllers: Set<number>,
): Promise<number[]> {
  const children = await Promise.all([...controllers].map(childrenOf));
  const dialing = await processesMatching(enginesDialing(state.engine.port));
  return [...new Set([...children.flat(), ...dialing])];
}

/**
 * The live child processes of `pid`: a controller's engine processes.
 *
 * @example
 * ```ts ignore
 * import { childrenOf } from "./controller_rig.ts";
 * console.log(await childrenOf(Deno.pid));
 * ```
 */
export async function childrenOf(pid: number): Promise<number[]> {
  const r = await runCommand("pgrep", ["-P", String(pid)], {
    timeoutMs: 15_000,
  });
  const pids = r.stdout.split(/\s+/).filter(Boolean).map(Number);
  const live = await Promise.all(pids.map(isLive));
  return pids.filter((_, i) => live[i]);
}

async function stopAndCheck(
  home: string,
  state: ClusterState,
  engines: number[],
): Promise<void> {
  const stopped = await troupe(home, ["stop", state.id]);
  assert.equal(
    stopped.code,
    0,
    `troupe stop ${state.id} failed:\n${stopped.stdout}${stopped.stderr}`,
  );
  await until(
    async () => !(await isLive(state.pid)),
    `the controller (pid ${state.pid}) to exit after troupe stop`,
    30_000,
  );
  await until(
    async () => !(await Promise.all(engines.map(isLive))).some(Boolean),
    `the engine processes ${engines} to exit after troupe stop`,
    30_000,
  );
  assert.deepEqual(
    await processesMatching(enginesDialing(state.engine.port)),
    [],
    "engine processes still dial the stopped controller",
  );
  await assertNoStateFile(home, state.id, "troupe stop left the state file");
}

/** The controller's log, for a failure's message; empty if there is none. */
export async function logOf(home: string, id: string): Promise<string> {
  try {
    const log = await Deno.readTextFile(`${home}/clusters/${id}.log`);
    return `\n--- ${id}.log ---\n${log.slice(-4000)}`;
  } catch {
    return "";
  }
}

function killQuietly(pid: number): void {
  try {
    Deno.kill(pid, "SIGKILL");
  } catch {
    // Gone already: what a passing test leaves.
  }
}

/**
 * Stops cluster `id` under `home` if its state file is still there (a
 * test that failed before its own stop): `troupe stop`, and SIGKILL for a
 * controller that outlives it. Says whether there was anything to stop.
 *
 * @example
 * ```ts ignore
 * import { stopLeftover } from "./controller_rig.ts";
 * if (await stopLeftover("/tmp/home", "nb-demo")) console.log("cleaned up");
 * ```
 */
export async function stopLeftover(home: string, id: string): Promise<boolean> {
  let state: ClusterState;
  try {
    state = await readState(home, id);
  } catch {
    return false;
  }
  const engines = await enginesOf(state, new Set([state.pid]));
  await troupe(home, ["stop", id]).catch(() => undefined);
  for (const pid of [state.pid, ...engines]) killQuietly(pid);
  return true;
}
