/**
 * The Deno permissions each part of troupe needs, checked before it is
 * used: a script that lacks one gets an error naming the flag to add, never
 * a prompt (or, off a terminal, a failure) about a file inside troupe.
 *
 * @module
 */

import { dirname } from "node:path";
import { requirePermission } from "../protocol/require_permission.ts";
import { clusterStatePath } from "../remote/cluster_state.ts";

// The one check, in the layer every part that needs one can reach.
export { requirePermission };

/**
 * What Worker engines need: nothing when troupe is served from a registry
 * (its modules are remote), and read access to troupe's folder when it is
 * used from a checkout (a thread reads its modules from disk).
 *
 * @param entry the module each engine thread starts from
 *
 * @example
 * ```ts
 * import { requireWorkerPermissions } from "./permissions.ts";
 * requireWorkerPermissions(new URL("https://jsr.io/@troupe/parallel/0.1.0/engine/worker.ts"));
 * ```
 */
export function requireWorkerPermissions(entry: URL): void {
  if (entry.protocol !== "file:") return;
  const root = decodeURIComponent(new URL("../", entry).pathname);
  requirePermission(
    { name: "read", path: root },
    `--allow-read=${root}`,
    `Worker engines load troupe's modules from ${root}`,
  );
}

/**
 * What engine processes need: to run `deno` itself.
 *
 * @example
 * ```ts
 * import { requireProcessPermissions } from "./permissions.ts";
 * requireProcessPermissions();
 * ```
 */
export function requireProcessPermissions(): void {
  const deno = Deno.execPath();
  requirePermission(
    { name: "run", command: deno },
    `--allow-run (or --allow-run=${deno})`,
    "engine processes are started as `deno run`",
  );
}

/**
 * What listening on `hostname` needs.
 *
 * @param hostname the interface to bind
 * @param what what listens, for the message
 *
 * @example
 * ```ts
 * import { requireListenPermission } from "./permissions.ts";
 * requireListenPermission("127.0.0.1", "the client's engine listener");
 * ```
 */
export function requireListenPermission(hostname: string, what: string): void {
  requirePermission(
    { name: "net", host: hostname },
    `--allow-net=${hostname}`,
    `${what} listens on ${hostname}`,
  );
}

/**
 * What `Client.connect` needs to read the state file `target` names (a
 * cluster id, or a path with a `/` or ending with `.json`): for an id,
 * `TROUPE_HOME` (and `HOME` when it is not set), which say where the file
 * is; then read access to the file. Returns the file's path.
 *
 * @example
 * ```ts ignore
 * import { requireStateFilePermissions } from "./permissions.ts";
 * const path = requireStateFilePermissions("sim"); // ~/.troupe/clusters/sim.json
 * ```
 */
export function requireStateFilePermissions(target: string): string {
  const byPath = target.includes("/") || target.endsWith(".json");
  const why = "Client.connect reads the cluster's state file";
  if (!byPath) {
    const env = "--allow-env=TROUPE_HOME,HOME";
    const where = `${why}, found through $TROUPE_HOME (or $HOME)`;
    requirePermission({ name: "env", variable: "TROUPE_HOME" }, env, where);
    if (!Deno.env.get("TROUPE_HOME")) {
      requirePermission({ name: "env", variable: "HOME" }, env, where);
    }
  }
  const path = byPath ? target : clusterStatePath(target);
  requirePermission(
    { name: "read", path },
    `--allow-read=${dirname(path)}`,
    `${why} ${path}`,
  );
  return path;
}

/**
 * What `Client.connect` needs to reach its controller at `hostname:port`.
 *
 * @example
 * ```ts
 * import { requireConnectPermission } from "./permissions.ts";
 * requireConnectPermission("127.0.0.1", 4100);
 * ```
 */
export function requireConnectPermission(hostname: string, port: number): void {
  requirePermission(
    { name: "net", host: `${hostname}:${port}` },
    `--allow-net=${hostname}`,
    `Client.connect dials the controller at ${hostname}:${port}`,
  );
}
