/**
 * `troupe controller`: a controller in the foreground, the process that
 * `troupe start` detaches. It starts the cluster, writes the state file
 * (keys included, the old ports, keys and database again after a crash),
 * and runs until SIGINT, SIGTERM or a client's shutdown, after which the
 * state file is gone.
 *
 * @module
 */

import { resolve } from "node:path";
import { type Controller, startController } from "../controller/controller.ts";
import {
  type ClusterState,
  clusterStatePath,
  type ControllerConfig,
  makeClusterStateDir,
  readClusterState,
  removeClusterState,
  writeClusterState,
} from "../remote/cluster_state.ts";
import { controllerRuns } from "../remote/controller_liveness.ts";
import { advertisedHost } from "../transport/loopback.ts";
import { type Command, UsageError } from "./args.ts";
import { controllerPlan } from "./cluster_config.ts";
import { logLine as log } from "./controller_log.ts";
import { START_LOCK_ENV, takeStartLock } from "./start_lock.ts";

/**
 * The state file of cluster `id` if there is one; refuses (a
 * `UsageError`) when its controller runs.
 *
 * @example
 * ```ts ignore
 * import { previousState } from "./controller_verb.ts";
 * const previous = await previousState("sim"); // undefined the first time
 * ```
 */
export async function previousState(
  id: string,
): Promise<ClusterState | undefined> {
  let state: ClusterState;
  try {
    state = await readClusterState(id);
  } catch (error) {
    if (error instanceof Error && error.cause instanceof Deno.errors.NotFound) {
      return undefined;
    }
    throw error;
  }
  if (state.pid !== Deno.pid && controllerRuns(state)) {
    throw new UsageError(
      `cluster ${id} is running (pid ${state.pid}): stop it first with ` +
        `troupe stop ${id}`,
    );
  }
  return state;
}

/**
 * The config a run of cluster `id` uses: the flags given, or, given none,
 * those of its last run (the restart after a crash).
 *
 * @example
 * ```ts
 * import { configOf } from "./controller_verb.ts";
 * console.log(configOf({}, { workers: 2 })); // { workers: 2 }
 * ```
 */
export function configOf(
  given: ControllerConfig,
  saved: ControllerConfig | undefined,
): ControllerConfig {
  const config = Object.keys(given).length > 0 ? { ...given } : { ...saved };
  // The controller may run in another folder than the one it was named
  // in (a restart from elsewhere): its paths must not depend on it.
  // SQLite's ":memory:" is no path: resolved, it would name a file.
  if (typeof config.db === "string" && config.db !== ":memory:") {
    config.db = resolve(config.db);
  }
  return config;
}

/**
 * Runs `troupe controller` until it is stopped; resolves once the cluster
 * has stopped and its state file is gone.
 *
 * @example
 * ```ts ignore
 * import { parseArgs } from "./args.ts";
 * import { runController } from "./controller_verb.ts";
 * await runController(parseArgs(["controller", "--id", "sim", "--workers", "2"]));
 * ```
 */
export async function runController(command: Command): Promise<void> {
  const id = command.id!;
  await makeClusterStateDir();
  await previousState(id); // One that runs is refused as such.
  // For its life: `troupe start` took it already, and hands it over.
  const unlock = await takeStartLock(
    id,
    Number(Deno.env.get(START_LOCK_ENV)) || undefined,
  );
  try {
    await runLocked(command, id);
  } finally {
    await unlock();
  }
}

async function runLocked(command: Command, id: string): Promise<void> {
  const previous = await previousState(id);
  const config = configOf(command.config, previous?.config);
  const plan = controllerPlan(id, config, previous);
  log(
    previous
      ? `controller ${id} (pid ${Deno.pid}) starts again on ${plan.history.path} (the last one, pid ${previous.pid}, was killed or crashed)`
      : `controller ${id} (pid ${Deno.pid}) starts on ${plan.history.path}`,
  );
  // Signals are heard from before the start: one while the engines come
  // up aborts it, and what was started is stopped (engines through their
  // launchers: a queued Slurm job is cancelled), never Deno's default
  // exit, which would leave it all behind.
  const starting = new AbortController();
  let controller: Controller | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (why: string) => {
    if (!controller) {
      if (starting.signal.aborted) return Promise.resolve();
      log(
        `controller ${id} stops (${why}) while it starts: what it started ` +
          "is stopped, engines through their launchers",
      );
      starting.abort(new Error(`stopped by ${why} while it started`));
      return Promise.resolve();
    }
    if (stopping) return stopping;
    log(`controller ${id} stops (${why})`);
    return stopping = controller.stop();
  };
  const onSignal = {
    SIGINT: () => void stop("SIGINT"),
    SIGTERM: () => void stop("SIGTERM"),
  };
  const unlisten = () => {
    for (const [signal, listener] of Object.entries(onSignal)) {
      Deno.removeSignalListener(signal as Deno.Signal, listener);
    }
  };
  for (const [signal, listener] of Object.entries(onSignal)) {
    Deno.addSignalListener(signal as Deno.Signal, listener);
  }
  try {
    controller = await startController({
      id,
      ...plan,
      // The tasks the killed controller left unfinished are failed naming it.
      previousPid: previous?.pid,
      signal: starting.signal,
      log,
    });
  } catch (error) {
    unlisten();
    if (!starting.signal.aborted) throw error;
    // startController stopped what it started. A stopped cluster keeps no
    // state file, as `troupe stop` of a stale one removes it.
    const now = await readClusterState(id).catch(() => undefined);
    if (now && (now.pid === Deno.pid || now.pid === previous?.pid)) {
      await removeClusterState(id);
    }
    log(`controller ${id} stopped`);
    return;
  }
  try {
    // The addresses to dial, never a wildcard bound (0.0.0.0): clients
    // and engines on other hosts read this file in a shared TROUPE_HOME.
    const advertise = plan.engines.advertise;
    const { port, key } = controller.clientInfo;
    const hostname = advertisedHost(controller.clientInfo.hostname, advertise);
    const engine = {
      ...controller.engineInfo,
      hostname: advertisedHost(controller.engineInfo.hostname, advertise),
    };
    await writeClusterState({
      version: 1,
      id,
      pid: Deno.pid,
      hostname,
      port,
      key,
      engine: { hostname: engine.hostname, port: engine.port, key: engine.key },
      db: plan.history.path,
      config,
      startedAt: Date.now(),
      ...(command.log ? { log: resolve(command.log) } : {}),
      ...dashboardOf(controller, advertise),
    });
    log(
      `controller ${id} is ready: clients connect on ${hostname}:${port} ` +
        `(Client.connect(${JSON.stringify(id)})), engines on ` +
        `${engine.hostname}:${engine.port}; state file ${
          clusterStatePath(id)
        }` +
        dashboardNote(controller.dashboardUrl),
    );
    await controller.closed;
  } finally {
    await stop("a client shut the cluster down");
    unlisten();
    // Only our own: a controller started meanwhile under this id (after
    // this one was thought dead) keeps its file.
    const now = await readClusterState(id).catch(() => undefined);
    if (now?.pid === Deno.pid) await removeClusterState(id);
    log(`controller ${id} stopped`);
  }
}

/**
 * The controller's dashboard address as the state file keeps it: the
 * address to open, never a wildcard it binds (0.0.0.0).
 */
function dashboardOf(
  controller: Controller,
  advertise: string | undefined,
): { dashboard?: string } {
  if (controller.dashboardUrl === undefined) return {};
  const url = new URL(controller.dashboardUrl);
  const bound = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const host = advertisedHost(bound, advertise);
  url.hostname = host.includes(":") ? `[${host}]` : host;
  return { dashboard: url.href };
}

/** The log line's word on the dashboard: a token stays out of the log. */
function dashboardNote(url: string | undefined): string {
  if (url === undefined) return "";
  return new URL(url).searchParams.has("token")
    ? "; its dashboard's address, with its token, is in troupe list"
    : `; dashboard ${url}`;
}
