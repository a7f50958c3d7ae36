/**
 * The real Slurm, sshd and MPI that launcher tests run against
 * (`.ci/services.sh`, `deno task services`): where they are, whether they
 * are usable here, and, when not, a sentence that says why and how to get
 * them, for `skipUnless` (tests/helpers.ts). Also the checks that a test leaves
 * nothing behind: jobs still in `squeue`, processes still running.
 *
 * Every command run here has a time limit: a hung `squeue` or `ssh` fails
 * the test that asked instead of stalling the suite.
 *
 * @module
 */

import { type CommandResult, runCommand } from "../launch/run_command.ts";
import { skipUnless } from "./helpers.ts";

// One home for running a command within a bound: the launchers'.
export { type CommandResult, runCommand };

/** How to get the services, for skip reasons and their error messages. */
export const SERVICES_HINT: string =
  "`deno task services` starts them (Debian, as root; .ci/run does)";

/**
 * The ssh target of `.ci/services.sh`'s sshd, as the `ssh` launcher's
 * `hosts` name it.
 *
 * @example
 * ```ts
 * import { SSH_TARGET } from "./cluster_services.ts";
 * const hosts = { [SSH_TARGET]: 2 };
 * console.log(hosts); // { "root@127.0.0.1:2222": 2 }
 * ```
 */
export const SSH_TARGET = "root@127.0.0.1:2222";

/** The client key that `.ci/services.sh` authorizes on its sshd. */
export const SSH_KEY = "/root/.ssh/troupe_ci_ed25519";

/**
 * `ssh` options for the test sshd, apart from the host and port: the test
 * key, no prompts (BatchMode), no host-key question and no writes to
 * `known_hosts` (its host key is new on every fresh machine), a bounded
 * connect.
 *
 * @example
 * ```ts
 * import { SSH_ARGS } from "./cluster_services.ts";
 * const argv = ["-p", "2222", ...SSH_ARGS, "root@127.0.0.1", "true"];
 * console.log(argv.length);
 * ```
 */
export const SSH_ARGS: readonly string[] = [
  "-i",
  SSH_KEY,
  "-o",
  "IdentitiesOnly=yes",
  "-o",
  "BatchMode=yes",
  "-o",
  "StrictHostKeyChecking=no",
  "-o",
  "UserKnownHostsFile=/dev/null",
  "-o",
  "LogLevel=ERROR",
  "-o",
  "ConnectTimeout=5",
];

/** What the `ssh` launcher sets itself: left out of `SSH_OPTIONS`. */
const SET_BY_LAUNCHER = /^(BatchMode|ConnectTimeout)=/;

/**
 * The test's ssh options (its key, no host-key prompt) less those the
 * `ssh` launcher sets itself: its `sshArgs` for the test sshd.
 *
 * @example
 * ```ts
 * import { SSH_OPTIONS, SSH_TARGET } from "./cluster_services.ts";
 * const options = { hosts: { [SSH_TARGET]: 2 }, sshArgs: [...SSH_OPTIONS] };
 * console.log(options.sshArgs.includes("BatchMode=yes")); // false
 * ```
 */
export const SSH_OPTIONS: readonly string[] = SSH_ARGS.filter((arg, i) =>
  !SET_BY_LAUNCHER.test(arg) &&
  !(arg === "-o" && SET_BY_LAUNCHER.test(SSH_ARGS[i + 1] ?? ""))
);

/**
 * The whole `ssh` argument list that runs `command` (one shell line) on
 * {@linkcode SSH_TARGET}.
 *
 * @example
 * ```ts
 * import { sshArgv } from "./cluster_services.ts";
 * // ssh -p 2222 -i … root@127.0.0.1 "deno --version"
 * console.log(["ssh", ...sshArgv("deno --version")].join(" "));
 * ```
 */
export function sshArgv(command: string): string[] {
  const [userHost, port] = SSH_TARGET.split(":");
  return ["-p", port, ...SSH_ARGS, userHost, command];
}

/**
 * What OpenMPI needs to run as root (CI and this machine run tests as
 * root); `mpiexec` refuses without both.
 *
 * @example
 * ```ts
 * import { MPI_ENV } from "./cluster_services.ts";
 * const mpiexec = new Deno.Command("mpiexec", {
 *   args: ["--oversubscribe", "-n", "2", "true"],
 *   env: { ...MPI_ENV },
 * });
 * console.log(mpiexec);
 * ```
 */
export const MPI_ENV: Readonly<Record<string, string>> = {
  OMPI_ALLOW_RUN_AS_ROOT: "1",
  OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: "1",
};

/** The Slurm partition of `.ci/slurm/slurm.conf` (its default). */
export const SLURM_PARTITION = "debug";

/**
 * Why `command args` cannot serve here, or undefined when it ran and `ok`
 * accepts its output. `shown` is how the reason names the command, when its
 * whole argument list would bury the reason.
 */
async function failure(
  what: string,
  command: string,
  args: readonly string[],
  ok: (r: CommandResult) => boolean,
  { env, shown }: { env?: Readonly<Record<string, string>>; shown?: string } =
    {},
): Promise<string | undefined> {
  let r: CommandResult;
  try {
    r = await runCommand(command, args, { env, timeoutMs: 15_000 });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return `${what}: no ${command} on PATH`;
    }
    return `${what}: ${(error as Error).message}`;
  }
  if (ok(r)) return undefined;
  const said = (r.stderr.trim() || r.stdout.trim()).split("\n")[0];
  return `${what}: ${shown ?? `${command} ${args.join(" ")}`} exited ` +
    `${r.code}${said ? ` (${said})` : ""}`;
}

// Node states in which the node takes jobs (jobs already running are fine).
const SERVING = /^(idle|mixed|allocated|completing)$/;

/**
 * Undefined when a Slurm controller answers and its node takes jobs;
 * otherwise why not (`SERVICES_HINT` says how to start one).
 *
 * @example
 * ```ts
 * import { slurmSkipReason } from "./cluster_services.ts";
 * console.log((await slurmSkipReason()) ?? "Slurm is usable");
 * ```
 */
export function slurmSkipReason(): Promise<string | undefined> {
  return failure(
    "no Slurm node takes jobs",
    "sinfo",
    ["-h", "-o", "%T"],
    (r) =>
      r.code === 0 &&
      r.stdout.trim().split("\n").some((s) => SERVING.test(s.trim())),
  );
}

/**
 * Undefined when {@linkcode SSH_TARGET} takes the test key; otherwise why
 * not (`SERVICES_HINT` says how to start its sshd).
 *
 * @example
 * ```ts
 * import { sshSkipReason } from "./cluster_services.ts";
 * console.log((await sshSkipReason()) ?? "ssh is usable");
 * ```
 */
export async function sshSkipReason(): Promise<string | undefined> {
  try {
    await Deno.stat(SSH_KEY);
  } catch {
    return `no ssh test key at ${SSH_KEY}`;
  }
  return await failure(
    `no ssh to ${SSH_TARGET}`,
    "ssh",
    sshArgv("true"),
    (r) => r.code === 0,
    { shown: `ssh ${SSH_TARGET} true (with the test key)` },
  );
}

/**
 * Undefined when `mpiexec` starts ranks as root here; otherwise why not
 * (`SERVICES_HINT` says how to get OpenMPI).
 *
 * @example
 * ```ts
 * import { mpiSkipReason } from "./cluster_services.ts";
 * console.log((await mpiSkipReason()) ?? "MPI is usable");
 * ```
 */
export function mpiSkipReason(): Promise<string | undefined> {
  return failure(
    "mpiexec does not start ranks",
    "mpiexec",
    ["--oversubscribe", "-n", "1", "printenv", "OMPI_COMM_WORLD_RANK"],
    (r) => r.code === 0 && r.stdout.trim() === "0",
    { env: MPI_ENV },
  );
}

/**
 * Whether the tests of `file` that need `service` skip here, and the words
 * their names end with (`skipUnless`, tests/helpers.ts, with the service's
 * skip reason and `SERVICES_HINT`).
 *
 * @example
 * ```ts ignore
 * import { skipWithout } from "./cluster_services.ts";
 * const skip = await skipWithout("slurm", "x_test.ts");
 * Deno.test({ name: "a job" + skip.because, ignore: skip.ignore, fn() {} });
 * ```
 */
export async function skipWithout(
  service: "slurm" | "ssh" | "mpi",
  file: string,
): Promise<{ ignore: boolean; because: string }> {
  const reason = {
    slurm: slurmSkipReason,
    ssh: sshSkipReason,
    mpi: mpiSkipReason,
  };
  return skipUnless(file, await reason[service](), SERVICES_HINT);
}

/**
 * The ids of the jobs still in `squeue` (pending, running or completing;
 * one per array task), of every job or only of jobs named `name`: a test's
 * "nothing left in squeue" check (name its jobs, as other tests may run
 * jobs of their own at the same time).
 *
 * @example
 * ```ts ignore
 * import { squeueJobs } from "./cluster_services.ts";
 * console.log(await squeueJobs("troupe-engine")); // [] once all ended
 * ```
 */
export async function squeueJobs(name?: string): Promise<string[]> {
  const args = ["-h", "-r", "-o", "%i"];
  if (name !== undefined) args.push("-n", name);
  const r = await runCommand("squeue", args, { timeoutMs: 15_000 });
  if (r.code !== 0) {
    throw new Error(`squeue ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  }
  return r.stdout.split("\n").map((s) => s.trim()).filter(Boolean);
}

/**
 * The pids of the processes whose command line matches `pattern` (a
 * `pgrep -f` regular expression), ascending, this process excluded: a
 * test's "nothing left in the process table" check (match something only
 * its own processes carry). Zombies are left out: they have ended.
 *
 * @example
 * ```ts
 * import { processesMatching } from "./cluster_services.ts";
 * console.log(await processesMatching("no-such-process-[0-9]")); // []
 * ```
 */
export async function processesMatching(pattern: string): Promise<number[]> {
  const r = await runCommand("pgrep", ["-f", pattern], { timeoutMs: 15_000 });
  // pgrep exits 1 when nothing matches, 2 or 3 on a bad pattern or error.
  if (r.code > 1) {
    throw new Error(`pgrep -f ${pattern} exited ${r.code}: ${r.stderr}`);
  }
  const pids = r.stdout.split(/\s+/).filter(Boolean).map(Number)
    .filter((pid) => pid !== Deno.pid).sort((a, b) => a - b);
  const live = await Promise.all(pids.map(isLive));
  return pids.filter((_, i) => live[i]);
}

/**
 * Whether `pid` still runs: not gone, and not a zombie. An ended process
 * whose parent is gone waits a second or two for pid 1 to reap it here (a
 * lazy init), and is no leftover.
 *
 * @example
 * ```ts
 * import { isLive } from "./cluster_services.ts";
 * console.log(await isLive(Deno.pid)); // true
 * ```
 */
export async function isLive(pid: number): Promise<boolean> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    // "pid (comm) S …": the state follows the last ")", comm may hold one.
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !==
      "Z";
  } catch {
    return false;
  }
}
