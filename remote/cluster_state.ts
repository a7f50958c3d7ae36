/**
 * The state files of controllers: `$TROUPE_HOME/clusters/<id>.json`, one per
 * cluster, in a folder only its user can enter, mode 0600 (it holds the
 * client key and the engine key). `troupe start` waits for it, `troupe
 * list` reads them all, `Client.connect(id)` finds its controller through
 * it, and a controller started again after a crash reuses its ports, keys
 * and database from it.
 *
 * @module
 */

import { basename, join } from "node:path";
import { troupeHome } from "../protocol/troupe_home.ts";
import { messageOf } from "../protocol/errors.ts";
import { privateFolder } from "../transport/private_folder.ts";
import { writePrivateFile } from "../transport/private_file.ts";

/**
 * What a controller was started with, as the CLI's flags (without their
 * `--`) and their values: what `troupe start` starts it again with after a
 * crash when it is given no flags. Never a secret: keys are kept apart.
 *
 * @example
 * ```ts
 * import type { ControllerConfig } from "./cluster_state.ts";
 * const config: ControllerConfig = { workers: 2, "max-tasks": 1000 };
 * ```
 */
export type ControllerConfig = Record<
  string,
  string | number | boolean | string[]
>;

/**
 * One controller's state file.
 *
 * @example
 * ```ts
 * import type { ClusterState } from "./cluster_state.ts";
 * const state: ClusterState = {
 *   version: 1, id: "sim", pid: 4242, hostname: "127.0.0.1", port: 40001,
 *   key: "client key", engine: { hostname: "127.0.0.1", port: 40002, key: "engine key" },
 *   db: "/home/me/.troupe/clusters/sim.sqlite", config: { workers: 2 },
 *   startedAt: Date.now(),
 * };
 * ```
 */
export interface ClusterState {
  version: 1;
  /** The cluster's id: the file's name without `.json`. */
  id: string;
  /** The controller's process. */
  pid: number;
  /** Where clients connect (the client listener). */
  hostname: string;
  port: number;
  /** The client key. Keep it secret. */
  key: string;
  /** Where engines connect, and the engine key (another key). */
  engine: { hostname: string; port: number; key: string };
  /** The history database. */
  db: string;
  /** What to start it again with. */
  config: ControllerConfig;
  /** When the controller started (ms since the epoch). */
  startedAt: number;
  /** The controller's log file, if it has one (a detached controller). */
  log?: string;
  /**
   * The address of the dashboard the controller serves (page, events,
   * `/metrics`), with its token when it needs one; absent without one.
   */
  dashboard?: string;
}

/**
 * The cluster `troupe start` starts without `--id`, and `Client.connect()`
 * attaches to without a target.
 *
 * @example
 * ```ts
 * import { DEFAULT_CLUSTER_ID } from "./cluster_state.ts";
 * console.log(DEFAULT_CLUSTER_ID); // default
 * ```
 */
export const DEFAULT_CLUSTER_ID = "default";

/** Ids name files: nothing that could climb out of the folder. */
const ID = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** troupe's folder: `$TROUPE_HOME` (made absolute), or `~/.troupe`. */
export { troupeHome } from "../protocol/troupe_home.ts";

/**
 * The folder of the state files: `troupeHome()/clusters`.
 *
 * @example
 * ```ts
 * import { clusterStateDir } from "./cluster_state.ts";
 * console.log(clusterStateDir().endsWith("/clusters")); // true
 * ```
 */
export function clusterStateDir(): string {
  return join(troupeHome(), "clusters");
}

/**
 * Checks that `id` can name a cluster (letters, digits, `-`, `_`, `.`, not
 * starting with `.` or `-`) and returns it.
 *
 * @example
 * ```ts
 * import { checkClusterId } from "./cluster_state.ts";
 * console.log(checkClusterId("sim-2")); // sim-2
 * ```
 */
export function checkClusterId(id: string): string {
  if (typeof id !== "string" || !ID.test(id) || id.length > 200) {
    throw new TypeError(
      `${JSON.stringify(id)} is not a cluster id: use letters, digits, ` +
        `"-", "_" and "." (not first), e.g. "sim" or "sim-2"`,
    );
  }
  return id;
}

/**
 * The path of cluster `id`'s state file.
 *
 * @example
 * ```ts
 * import { clusterStatePath } from "./cluster_state.ts";
 * console.log(clusterStatePath("sim").endsWith("/clusters/sim.json")); // true
 * ```
 */
export function clusterStatePath(id: string): string {
  return join(clusterStateDir(), `${checkClusterId(id)}.json`);
}

/**
 * The default history database of cluster `id`:
 * `troupeHome()/clusters/<id>.sqlite`.
 *
 * @example
 * ```ts
 * import { defaultDbPath } from "./cluster_state.ts";
 * console.log(defaultDbPath("sim").endsWith("/clusters/sim.sqlite")); // true
 * ```
 */
export function defaultDbPath(id: string): string {
  return join(clusterStateDir(), `${checkClusterId(id)}.sqlite`);
}

/**
 * Makes `clusterStateDir()` if need be, mode 0700, and checks that it is
 * the user's (it holds keys, logs and histories); returns it.
 *
 * @example
 * ```ts ignore
 * import { makeClusterStateDir } from "./cluster_state.ts";
 * const dir = await makeClusterStateDir();
 * ```
 */
export async function makeClusterStateDir(): Promise<string> {
  const dir = clusterStateDir();
  await privateFolder(dir, "set TROUPE_HOME to a folder of yours");
  return dir;
}

/**
 * Writes `state` to its file, whole (a reader sees the old file or the
 * new, never half of one), mode 0600, in the state folder made (or
 * checked) mode 0700 and the user's. Returns the file's path.
 *
 * @example
 * ```ts ignore
 * import { writeClusterState } from "./cluster_state.ts";
 * const path = await writeClusterState(state);
 * ```
 */
export async function writeClusterState(state: ClusterState): Promise<string> {
  checkState(state, "the state to write");
  await makeClusterStateDir();
  const path = clusterStatePath(state.id);
  await writePrivateFile(path, JSON.stringify(state, null, 2) + "\n");
  return path;
}

/**
 * Reads the state file of `target`: a cluster id (its file in
 * `clusterStateDir()`), or a path to a state file (any `target` with a
 * `/` in it, or ending with `.json`).
 *
 * @example
 * ```ts ignore
 * import { readClusterState } from "./cluster_state.ts";
 * const { hostname, port } = await readClusterState("sim");
 * ```
 */
export async function readClusterState(target: string): Promise<ClusterState> {
  if (typeof target !== "string" || target === "") {
    throw new TypeError(
      `a cluster is named by its id (e.g. "sim") or the path of its state ` +
        `file, not ${JSON.stringify(target)}: troupe list shows the clusters`,
    );
  }
  const byPath = target.includes("/") || target.endsWith(".json");
  const path = byPath ? target : clusterStatePath(target);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        (byPath ? `there is no state file ${path}` : `there is no cluster ` +
          `${JSON.stringify(target)}: no state file ${path}`) +
          `; troupe list shows the clusters there are, and troupe start ` +
          `--id <id> starts one`,
        { cause: error },
      );
    }
    throw new Error(`cannot read the state file ${path}: ${messageOf(error)}`, {
      cause: error,
    });
  }
  return parseClusterState(text, path);
}

/**
 * Parses and checks a state file's text; `path` names it in errors.
 *
 * @example
 * ```ts
 * import { parseClusterState } from "./cluster_state.ts";
 * try {
 *   parseClusterState("{}", "sim.json");
 * } catch (error) {
 *   console.log((error as Error).message.startsWith("sim.json is not")); // true
 * }
 * ```
 */
export function parseClusterState(text: string, path: string): ClusterState {
  let state: unknown;
  try {
    state = JSON.parse(text);
  } catch (error) {
    throw new Error(
      `${path} is not a troupe state file (not JSON: ${messageOf(error)}); ` +
        `if its controller is gone, delete the file`,
      { cause: error },
    );
  }
  checkState(state, path);
  return state;
}

/**
 * Every readable state file in the folder, by id. A file that is not a
 * state file (half-written by someone else, a stray `.json`) is left out:
 * `readClusterState(path)` says what is wrong with it.
 *
 * @example
 * ```ts ignore
 * import { listClusterStates } from "./cluster_state.ts";
 * for (const state of await listClusterStates()) console.log(state.id);
 * ```
 */
export async function listClusterStates(): Promise<ClusterState[]> {
  const dir = clusterStateDir();
  const states: ClusterState[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isFile || !entry.name.endsWith(".json")) continue;
      if (!ID.test(basename(entry.name, ".json"))) continue;
      try {
        states.push(await readClusterState(join(dir, entry.name)));
      } catch {
        // Left out, as documented: one bad file must not hide the others.
      }
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  return states.sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * Deletes cluster `id`'s state file; one already gone is fine.
 *
 * @example
 * ```ts ignore
 * import { removeClusterState } from "./cluster_state.ts";
 * await removeClusterState("sim");
 * ```
 */
export async function removeClusterState(id: string): Promise<void> {
  await Deno.remove(clusterStatePath(id)).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
}

/** Throws a clear error unless `value` has a state file's shape. */
function checkState(
  value: unknown,
  where: string,
): asserts value is ClusterState {
  const wrong = (what: string): never => {
    throw new Error(
      `${where} is not a troupe state file (${what}); if its controller is ` +
        `gone, delete the file`,
    );
  };
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    wrong("not an object");
  }
  const state = value as Record<string, unknown>;
  if (state.version !== 1) {
    wrong(`version ${JSON.stringify(state.version)}, not 1`);
  }
  if (typeof state.id !== "string" || !ID.test(state.id)) wrong("no valid id");
  checkEndpoint(state, "", wrong);
  if (typeof state.engine !== "object" || state.engine === null) {
    wrong("no engine");
  }
  checkEndpoint(state.engine as Record<string, unknown>, "engine.", wrong);
  if (!Number.isSafeInteger(state.pid) || (state.pid as number) <= 0) {
    wrong("no pid");
  }
  if (typeof state.db !== "string") wrong("no db");
  if (typeof state.config !== "object" || state.config === null) {
    wrong("no config");
  }
  if (typeof state.startedAt !== "number") wrong("no startedAt");
  if (state.log !== undefined && typeof state.log !== "string") {
    wrong("a log that is no path");
  }
  if (state.dashboard !== undefined && typeof state.dashboard !== "string") {
    wrong("a dashboard that is no address");
  }
}

function checkEndpoint(
  at: Record<string, unknown>,
  prefix: string,
  wrong: (what: string) => never,
): void {
  if (typeof at.hostname !== "string") wrong(`no ${prefix}hostname`);
  const port = at.port;
  if (
    !Number.isInteger(port) || (port as number) < 0 || (port as number) > 65535
  ) {
    wrong(`no valid ${prefix}port`);
  }
  if (typeof at.key !== "string" || at.key === "") wrong(`no ${prefix}key`);
}
