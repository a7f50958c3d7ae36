/**
 * The Deno permissions each part of troupe needs, checked before it is
 * used: a script that lacks one gets an error naming the flag to add, never
 * a prompt (or, off a terminal, a failure) about a file inside troupe.
 *
 * @module
 */

import { requirePermission } from "../protocol/require_permission.ts";

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
