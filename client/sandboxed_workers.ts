/**
 * Why `permissions` and Worker engines do not go together, said once.
 *
 * Deno narrows a Worker's permissions only for web Workers, and only
 * behind `--unstable-worker-options`: without that flag the whole process
 * exits (code 70) at `new Worker(..., { deno: { permissions } })`, so it
 * cannot even be tried and caught. troupe's Worker engines are
 * `node:worker_threads` threads, which take no permissions and share the
 * process's (a revoke in one revokes for all). A sandbox that silently
 * granted the client's permissions would be worse than none: refused.
 *
 * @module
 */

/**
 * Throws a `TypeError` saying why and what to use instead when a client
 * sandboxed with `permissions` would start `workers` Worker engines
 * (`given`: what the user wrote, `undefined` when it defaulted).
 *
 * @example
 * ```ts
 * import { refuseSandboxedWorkers } from "./sandboxed_workers.ts";
 * refuseSandboxedWorkers(0, undefined); // no Worker engines: fine
 * try {
 *   refuseSandboxedWorkers(2, 2);
 * } catch (error) {
 *   console.log((error as TypeError).message.includes("processes: 2")); // true
 * }
 * ```
 */
export function refuseSandboxedWorkers(
  workers: number,
  given: number | undefined,
): void {
  if (workers === 0) return;
  const asked = given === undefined
    ? `workers defaults to one per core (${workers}) when neither ` +
      "processes nor launch is given"
    : `workers: ${workers} asks for Worker engines`;
  throw new TypeError(
    `the permissions option sandboxes engine processes only, and ${asked}: ` +
      "a Worker engine is a thread of this process with this process's " +
      "permissions, which Deno cannot narrow for node:worker_threads (and " +
      "for web Workers only behind --unstable-worker-options). Start the " +
      `engines as processes instead: { processes: ${workers}, permissions } ` +
      "(same host, a process each, started with exactly those permissions)",
  );
}
