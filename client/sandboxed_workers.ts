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
 * (`given`: what the user wrote, `undefined` when it defaulted) besides
 * `processes` engine processes; `cli`: say it in `troupe`'s flags.
 *
 * @example
 * ```ts
 * import { refuseSandboxedWorkers } from "./sandboxed_workers.ts";
 * refuseSandboxedWorkers(0, undefined); // no Worker engines: fine
 * try {
 *   refuseSandboxedWorkers(2, 2, 1);
 * } catch (error) {
 *   console.log((error as TypeError).message.includes("processes: 3")); // true
 * }
 * ```
 */
export function refuseSandboxedWorkers(
  workers: number,
  given: number | undefined,
  processes = 0,
  cli = false,
): void {
  if (workers === 0) return;
  const [workersIs, processesIs, launchIs, sandbox] = cli
    ? ["--workers", "--processes", "--launcher", "--sandbox/--engine-allow-*"]
    : ["workers: ", "processes: ", "launch", "permissions"];
  const asked = given === undefined
    ? `${cli ? "--workers" : "workers"} defaults to one per core ` +
      `(${workers}) when neither ${cli ? "--processes" : "processes"} nor ` +
      `${launchIs} is given`
    : `${workersIs}${cli ? " " : ""}${workers} asks for Worker engines`;
  const instead = cli
    ? `${processesIs} ${workers + processes}` +
      (given === undefined ? "" : ` (and ${workersIs} 0, or leave it out)`)
    : `{ ${processesIs}${workers + processes}, permissions }`;
  throw new TypeError(
    `${sandbox} sandboxes engine processes only, and ${asked}: ` +
      "a Worker engine is a thread of this process with this process's " +
      "permissions, which Deno cannot narrow for node:worker_threads (and " +
      "for web Workers only behind --unstable-worker-options). Start the " +
      `engines as processes instead: ${instead} ` +
      "(same host, a process each, started with exactly those permissions)",
  );
}
