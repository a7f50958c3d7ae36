/**
 * Whether a state file's controller still runs: its pid is alive, and is
 * that cluster's controller still (not a process that got the pid since).
 * A state file whose controller is gone is stale: it was killed or crashed.
 *
 * @module
 */

import type { ClusterState } from "./cluster_state.ts";

/**
 * Whether process `pid` is alive (a zombie, exited but not yet reaped,
 * counts as gone). A state file whose pid is gone is stale: its controller
 * was killed or crashed.
 *
 * @example
 * ```ts
 * import { isAlive } from "./controller_liveness.ts";
 * console.log(isAlive(Deno.pid)); // true
 * ```
 */
export function isAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  let stat: string;
  try {
    stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    return aliveByPs(pid);
  }
  // "pid (comm) S ...": comm may hold spaces and parentheses, the state
  // follows the last ")".
  const state = stat.slice(
    stat.lastIndexOf(")") + 2,
    stat.lastIndexOf(")") + 3,
  );
  return state !== "Z" && state !== "X";
}

/**
 * Whether `state`'s controller runs: its pid is alive and is a troupe
 * controller of that id (`... controller --id <id>`), so that a pid reused
 * since by another process (after a reboot, say) is not taken for it, and
 * never signalled by `troupe stop`. Where the command line cannot be read
 * (no /proc), the pid alone decides.
 *
 * @example
 * ```ts ignore
 * import { controllerRuns } from "./controller_liveness.ts";
 * import { readClusterState } from "./cluster_state.ts";
 * console.log(controllerRuns(await readClusterState("sim")));
 * ```
 */
export function controllerRuns(state: ClusterState): boolean {
  if (!isAlive(state.pid)) return false;
  let cmdline: string;
  try {
    cmdline = Deno.readTextFileSync(`/proc/${state.pid}/cmdline`);
  } catch {
    return true;
  }
  // Empty while a process is between fork and exec: nothing to tell by.
  if (cmdline === "") return true;
  const argv = cmdline.split("\0");
  const verb = argv.indexOf("controller");
  if (verb === -1) return false;
  const rest = argv.slice(verb + 1);
  const at = rest.indexOf("--id");
  const id = rest.find((arg) => arg.startsWith("--id="))?.slice(5) ??
    (at === -1 ? "default" : rest[at + 1]);
  return id === state.id;
}

/** Where there is no /proc (macOS): ask ps. */
function aliveByPs(pid: number): boolean {
  const { success, stdout } = new Deno.Command("ps", {
    args: ["-o", "stat=", "-p", String(pid)],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).outputSync();
  const state = new TextDecoder().decode(stdout).trim();
  return success && state !== "" && !state.startsWith("Z");
}
