/**
 * `troupe stop ID` and `troupe stop --all`: the cluster's engines stop
 * through their launchers and the controller exits, as a client's
 * `shutdown()` asks it; a controller that does not answer gets SIGTERM,
 * and SIGKILL after the bound. A stale state file (its controller was
 * killed) is removed.
 *
 * @module
 */

import { delay } from "../actors/async.ts";
import { messageOf } from "../protocol/errors.ts";
import {
  type ClusterState,
  listClusterStates,
  readClusterState,
  removeClusterState,
} from "../remote/cluster_state.ts";
import { controllerRuns, isAlive } from "../remote/controller_liveness.ts";
import { askController } from "./ask_controller.ts";
import type { Command } from "./args.ts";

/** How long stop waits for a controller to exit by default, in seconds. */
const STOP_TIMEOUT_S = 30;

/** How long a controller may take to take the shutdown call. */
const SHUTDOWN_CALL_MS = 10_000;

/**
 * Stops the cluster(s) `command` names; returns a line per cluster saying
 * how it went.
 *
 * @example
 * ```ts ignore
 * import { parseArgs } from "./args.ts";
 * import { stopClusters } from "./stop_verb.ts";
 * console.log((await stopClusters(parseArgs(["stop", "sim"]))).join("\n"));
 * ```
 */
export async function stopClusters(command: Command): Promise<string[]> {
  const states = command.all
    ? await listClusterStates()
    : [await readClusterState(command.id!)];
  if (states.length === 0) {
    return ["no clusters to stop (troupe list is empty)"];
  }
  const timeoutMs = (command.timeoutS ?? STOP_TIMEOUT_S) * 1000;
  return await Promise.all(
    states.map((state) => stopCluster(state, timeoutMs)),
  );
}

/**
 * Stops one cluster: its shutdown through the client port, then signals
 * if it does not exit within `timeoutMs`.
 *
 * @example
 * ```ts ignore
 * import { stopCluster } from "./stop_verb.ts";
 * import { readClusterState } from "../remote/cluster_state.ts";
 * console.log(await stopCluster(await readClusterState("sim"), 30_000));
 * ```
 */
export async function stopCluster(
  state: ClusterState,
  timeoutMs: number,
): Promise<string> {
  const { id, pid } = state;
  if (!controllerRuns(state)) {
    await removeOwn(state);
    return `cluster ${id} was not running (pid ${pid} is gone: killed or ` +
      `crashed); its state file is removed`;
  }
  let how = "shut down";
  try {
    await askController(state, SHUTDOWN_CALL_MS, (client) => client.shutdown());
  } catch (error) {
    how = `sent SIGTERM (it did not take the shutdown: ${messageOf(error)})`;
    signal(pid, "SIGTERM");
  }
  if (!(await exited(pid, timeoutMs))) {
    signal(-pid, "SIGKILL");
    signal(pid, "SIGKILL");
    how += `, then SIGKILL (it was still running after ${timeoutMs / 1000} s)`;
    if (!(await exited(pid, 5_000))) {
      return `cluster ${id}: pid ${pid} outlived SIGKILL; see ps -p ${pid}`;
    }
  }
  await removeOwn(state);
  return `cluster ${id} stopped (pid ${pid}): ${how}`;
}

/** Whether `pid` is gone within `ms`. */
async function exited(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await delay(50);
  }
  return true;
}

function signal(pid: number, name: Deno.Signal): void {
  try {
    Deno.kill(pid, name);
  } catch {
    // Gone meanwhile, or (a negative pid) no group of its own.
  }
}

/** Removes the state file if it is still this controller's. */
async function removeOwn(state: ClusterState): Promise<void> {
  const now = await readClusterState(state.id).catch(() => undefined);
  if (now?.pid === state.pid) await removeClusterState(state.id);
}
