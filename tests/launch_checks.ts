/**
 * What the launcher tests (launch_*_test.ts) check: that the seed runs on a
 * launcher's engines as on any others, and what is left behind once a
 * client has closed: its engine processes, its Slurm jobs, the secrets its
 * launcher wrote. Each check looks only at what its own client made (other
 * tests may run engines and jobs on the same services at the same time):
 * engines by the port they dial, jobs by their launcher's job name.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Client } from "../mod.ts";
import { guard } from "./helpers.ts";
import { publishIt, simulationLoop } from "./seed_tasks.ts";
import {
  processesMatching,
  runCommand,
  squeueJobs,
} from "./cluster_services.ts";

/**
 * The seed on every engine of `client`: `publishIt`'s `ar.data` is one
 * `{ a: "hi" }` per engine, and the simulation loop's the last step's
 * array and `i` on each, within `ms` each.
 *
 * @example
 * ```ts ignore
 * import { assertSeedRuns } from "./launch_checks.ts";
 * await assertSeedRuns(client, 60_000);
 * ```
 */
export async function assertSeedRuns(
  client: Client,
  ms: number,
): Promise<void> {
  const dv = client.view();
  const hello = dv.applyAsync(publishIt);
  await guard(hello, "publishIt", ms);
  assert.deepEqual(hello.data, client.ids.map(() => ({ a: "hi" })));
  const steps = 5;
  const ar = dv.applyAsync(simulationLoop, steps, 10);
  await guard(ar, "the simulation loop", ms);
  assert.equal(ar.data.length, client.ids.length);
  for (const data of ar.data) {
    assert.ok(data.a instanceof Float64Array, String(data.a));
    assert.equal((data.a as Float64Array).length, 20);
    assert.equal(data.i, steps - 1);
  }
}

/**
 * A `pgrep -f` pattern that matches the engine processes that dial `port`
 * (every launcher's engines are told `--connect HOST:PORT`), and nothing
 * else: a client's port is its own while it listens.
 *
 * @example
 * ```ts
 * import { enginesDialing } from "./launch_checks.ts";
 * console.log(enginesDialing(4711)); // [-]-connect \S+:4711 [-]-spawned
 * ```
 */
export function enginesDialing(port: number): string {
  return `[-]-connect \\S+:${port} [-]-spawned`;
}

/**
 * A `pgrep -f` pattern that matches the `ssh` client processes that run
 * engines dialing `port` (an `ssh` launcher's sessions), and nothing else.
 *
 * @example
 * ```ts
 * import { sshSessionsDialing } from "./launch_checks.ts";
 * console.log(sshSessionsDialing(4711)); // ^\S*ssh .*[-]-connect \S+:4711 [-]-spawned
 * ```
 */
export function sshSessionsDialing(port: number): string {
  return `^\\S*ssh .*${enginesDialing(port)}`;
}

/**
 * A `pgrep -f` pattern that matches the `mpiexec` whose ranks are engines
 * dialing `port` (an `mpi` launcher's), and nothing else.
 *
 * @example
 * ```ts
 * import { mpiexecDialing } from "./launch_checks.ts";
 * console.log(mpiexecDialing(4711)); // ^\S*mpiexec .*[-]-connect \S+:4711 [-]-spawned
 * ```
 */
export function mpiexecDialing(port: number): string {
  return `^\\S*mpiexec .*${enginesDialing(port)}`;
}

/**
 * Asserts that none of `keys` is in the job script or the job record
 * (`scontrol show job -dd`) of any of the Slurm jobs `jobIds`, nor on any
 * command line (`ps -eo args`): engines read their secrets from files
 * (the script names them with `--secrets`), never from arguments.
 *
 * @example
 * ```ts ignore
 * import { assertKeysHidden } from "./launch_checks.ts";
 * await assertKeysHidden([client.connectionInfo.key], ["100_0", "100_1"]);
 * ```
 */
export async function assertKeysHidden(
  keys: readonly string[],
  jobIds: readonly string[] = [],
): Promise<void> {
  const holds = (text: string) => keys.some((key) => text.includes(key));
  for (const jobId of jobIds) {
    const script = await runCommand("scontrol", [
      "write",
      "batch_script",
      jobId,
      "-",
    ]);
    assert.equal(script.code, 0, script.stderr);
    assert.match(script.stdout, /--secrets '?\S+\{slot\}\.json/);
    assert.ok(!holds(script.stdout), `${jobId}'s script`);
    const record = await runCommand("scontrol", ["show", "job", "-dd", jobId]);
    assert.equal(record.code, 0, record.stderr);
    assert.ok(!holds(record.stdout), `${jobId}'s record`);
  }
  const ps = await runCommand("ps", ["-eo", "args"]);
  assert.equal(ps.code, 0, ps.stderr);
  assert.ok(!holds(ps.stdout), "the key is in ps -eo args");
}

/**
 * The job name Slurm has for job `jobId` (`JOBID_INDEX`): a `slurm`
 * launcher gives all its jobs one name, so that `squeueJobs(name)` lists
 * every job of that launcher, restarts and scale-ups included.
 *
 * @example
 * ```ts ignore
 * import { slurmJobName } from "./launch_checks.ts";
 * console.log(await slurmJobName("100_0")); // troupe-1a2b3c4d
 * ```
 */
export async function slurmJobName(jobId: string): Promise<string> {
  const r = await runCommand("squeue", ["-h", "-j", jobId, "-o", "%j"], {
    timeoutMs: 15_000,
  });
  const name = r.stdout.trim();
  assert.ok(r.code === 0 && name, `squeue -j ${jobId}: ${r.stderr}`);
  return name;
}

/**
 * The names in `dir` (the secrets folder a launcher was given), or none if
 * it was never made.
 *
 * @example
 * ```ts
 * import { filesIn } from "./launch_checks.ts";
 * console.log(await filesIn("/no/such/folder")); // []
 * ```
 */
export async function filesIn(dir: string): Promise<string[]> {
  try {
    return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

/**
 * Asserts, right after a client's `close()`, that nothing of it is left:
 * no engine process dialing `port`, no file in `secretsDir`, no job named
 * `jobName` in `squeue`, and no process matching any of `patterns` (an
 * `ssh` or `mpiexec` of the test). `close()` resolves only once its
 * engines and jobs have ended, so nothing here waits.
 *
 * @example
 * ```ts ignore
 * import { assertNothingLeft } from "./launch_checks.ts";
 * await assertNothingLeft({ port, secretsDir, jobName: "troupe-1a2b3c4d" });
 * ```
 */
export async function assertNothingLeft(
  { port, secretsDir, jobName, patterns = [] }: {
    port: number;
    secretsDir?: string;
    jobName?: string;
    patterns?: string[];
  },
): Promise<void> {
  for (const pattern of [enginesDialing(port), ...patterns]) {
    assert.deepEqual(
      await processesMatching(pattern),
      [],
      `processes matching ${pattern} outlived close()`,
    );
  }
  if (secretsDir !== undefined) {
    assert.deepEqual(
      await filesIn(secretsDir),
      [],
      `secrets left in ${secretsDir}`,
    );
  }
  if (jobName !== undefined) {
    assert.deepEqual(
      await squeueJobs(jobName),
      [],
      `jobs named ${jobName} still in squeue after close()`,
    );
  }
}
