/**
 * `troupe start` with the real launchers of `.ci/services.sh` (Slurm, the
 * sshd on 127.0.0.1:2222, OpenMPI), as a user runs it: a detached
 * controller whose engines are Slurm jobs, ssh sessions or MPI ranks, a
 * `Client.connect` task that runs inside them, and `troupe stop`, which
 * stops them through their launcher and leaves nothing (no job in
 * `squeue`, no engine, `ssh` or `mpiexec` process, no controller, no state
 * file: controller_rig's `withCluster` checks the last three). A
 * controller killed with SIGKILL leaves no Slurm job either, and `troupe
 * start` brings it back with new ones. Each test skips, and says why, where
 * its service is absent.
 */

import assert from "node:assert/strict";
import { Client, engineId, type EngineStatus } from "../mod.ts";
import { parseArgs, UsageError } from "../cli/args.ts";
import { launcherOf } from "../cli/cluster_config.ts";
import { flagsOf } from "../cli/flags.ts";
import type { ClusterState } from "../remote/cluster_state.ts";
import {
  isLive,
  MPI_ENV,
  processesMatching,
  runCommand,
  skipWithout,
  SLURM_PARTITION,
  squeueJobs,
  SSH_OPTIONS,
  SSH_TARGET,
} from "./cluster_services.ts";
import {
  logOf,
  readState,
  troupe,
  withCluster,
  withTroupeHome,
} from "./controller_rig.ts";
import { guard, until } from "./helpers.ts";
import {
  assertKeysHidden,
  enginesDialing,
  mpiexecDialing,
  slurmJobName,
  sshSessionsDialing,
} from "./launch_checks.ts";

const FILE = "cli_launchers_test.ts";
const slurmSkip = await skipWithout("slurm", FILE);
const sshSkip = await skipWithout("ssh", FILE);
const mpiSkip = await skipWithout("mpi", FILE);

/** Jobs start within seconds here; a busy machine gets a minute. */
const JOB_MS = 60_000;

/**
 * Two engines as jobs of the test Slurm's partition, with a time limit far
 * beyond the test (the walltime tests are launch_slurm_walltime_test's).
 */
const SLURM_FLAGS = [
  "--engines",
  "2",
  "--launcher",
  "slurm",
  "--partition",
  SLURM_PARTITION,
  "--time",
  "10",
];

/** `troupe engines <id> --json`: the cluster's engines, as its controller says. */
async function enginesOf(home: string, id: string): Promise<EngineStatus[]> {
  const r = await troupe(home, ["engines", id, "--json"]);
  assert.equal(r.code, 0, r.stdout + r.stderr + (await logOf(home, id)));
  return JSON.parse(r.stdout);
}

/**
 * `probe` on every engine of cluster `id`, from a client attached with
 * `Client.connect(id)` (closed, that is detached, afterwards).
 */
async function onEachEngine<T>(id: string, probe: () => T): Promise<T[]> {
  const client = await Client.connect(id);
  try {
    return await guard(
      client.view().applyAsync(probe),
      `a task on every engine of ${id}`,
      JOB_MS,
    ) as T[];
  } finally {
    await client.close();
  }
}

/**
 * Asserts that cluster `id` has 2 idle engines that are jobs of its `slurm`
 * launcher, all in `squeue` under the launcher's one job name, that a
 * connected client's task runs inside those very jobs and processes, and
 * that neither key is in a job script, a job record or on a command line.
 * Returns the job name, for the check that no job is left.
 */
async function assertSlurmEngines(
  home: string,
  state: ClusterState,
): Promise<{ jobName: string; jobs: string[] }> {
  const engines = await enginesOf(home, state.id);
  assert.deepEqual(
    engines.map((e) => [e.engineId, e.kind, e.state, e.launcher]),
    [[0, "process", "idle", "slurm"], [1, "process", "idle", "slurm"]],
  );
  const jobs = engines.map((e) => e.jobId ?? "");
  for (const job of jobs) assert.match(job, /^\d+_\d+$/);
  assert.notEqual(jobs[0], jobs[1]);
  const jobName = await slurmJobName(jobs[0]);
  assert.match(jobName, /^troupe-/);
  assert.deepEqual((await squeueJobs(jobName)).sort(), [...jobs].sort());
  // --partition and --time reached sbatch.
  for (const job of jobs) {
    const record = await runCommand("scontrol", ["show", "job", job]);
    assert.equal(record.code, 0, record.stderr);
    assert.match(
      record.stdout,
      new RegExp(`\\bPartition=${SLURM_PARTITION}\\b`),
    );
    assert.match(record.stdout, /\bTimeLimit=00:10:00\b/);
  }
  const table = await troupe(home, ["engines", state.id]);
  for (const job of jobs) {
    assert.match(table.stdout, new RegExp(`\\sslurm\\s.*\\s${job}\\s`));
  }
  // Inside the jobs: Slurm's own variables name the job each engine is.
  const seen = await onEachEngine(state.id, () => [
    engineId,
    Deno.pid,
    `${Deno.env.get("SLURM_ARRAY_JOB_ID")}_${
      Deno.env.get("SLURM_ARRAY_TASK_ID")
    }`,
  ]);
  assert.deepEqual(seen, engines.map((e) => [e.engineId, e.pid, e.jobId]));
  await assertKeysHidden([state.key, state.engine.key], jobs);
  return { jobName, jobs };
}

/** Waits until no job named `jobName` is in `squeue`. */
function noJobsLeft(jobName: string, why: string): Promise<void> {
  return until(
    async () => (await squeueJobs(jobName)).length === 0,
    `the jobs named ${jobName} to leave squeue ${why}`,
    JOB_MS,
  );
}

/** Whether none of `pids` still runs. */
async function allEnded(pids: readonly number[]): Promise<boolean> {
  return !(await Promise.all(pids.map(isLive))).some(Boolean);
}

Deno.test("--ssh-arg is the ssh launcher's: repeatable, its values may look like flags, saved as given, refused for another launcher", () => {
  const command = parseArgs([
    "start",
    "--launcher",
    "ssh",
    "--hosts",
    "me@a:2222=2",
    "--ssh-arg",
    "-i",
    "--ssh-arg=/home/me/.ssh/key",
    "--ssh-arg",
    "-o",
    "--ssh-arg",
    "StrictHostKeyChecking=no",
  ]);
  assert.deepEqual(command.config["ssh-arg"], [
    "-i",
    "/home/me/.ssh/key",
    "-o",
    "StrictHostKeyChecking=no",
  ]);
  assert.equal(launcherOf(command.config)?.name, "ssh");
  assert.deepEqual(
    parseArgs(["controller", ...flagsOf(command.config)]).config,
    command.config,
  );
  const refused = (args: string[], pattern: RegExp) =>
    assert.throws(
      () => launcherOf(parseArgs(args).config),
      (error: Error) => {
        assert.ok(error instanceof UsageError, String(error));
        assert.match(error.message, pattern);
        return true;
      },
    );
  refused(
    ["start", "--engines", "1", "--launcher", "slurm", "--ssh-arg", "-v"],
    /^--ssh-arg is for --launcher ssh, not slurm$/,
  );
  refused(["start", "--ssh-args", "-v"], /did you mean --ssh-arg\?/);
});

Deno.test({
  name: "troupe start --launcher slurm: 2 engines that are Slurm jobs in " +
    "squeue, a connected client's task runs inside them, no key in a job " +
    "or on a command line; stop leaves no job, engine, controller or state " +
    "file" + slurmSkip.because,
  ignore: slurmSkip.ignore,
  async fn() {
    await withTroupeHome(async (home) => {
      let jobName = "";
      let port = 0;
      await withCluster(home, "s", SLURM_FLAGS, async ({ state }) => {
        port = state.engine.port;
        ({ jobName } = await assertSlurmEngines(home, state));
      });
      // stop returns once the controller has cancelled its jobs; Slurm
      // may list them a moment longer while their processes end.
      await noJobsLeft(jobName, "after troupe stop");
      assert.deepEqual(await processesMatching(enginesDialing(port)), []);
    });
  },
});

Deno.test({
  name: "a controller killed with SIGKILL while its engines are Slurm jobs: " +
    "the jobs end by themselves; troupe start brings it back with 2 new " +
    "Slurm engines; stop leaves nothing" + slurmSkip.because,
  ignore: slurmSkip.ignore,
  async fn() {
    await withTroupeHome(async (home) => {
      const jobNames: string[] = [];
      await withCluster(home, "s", SLURM_FLAGS, async (cluster) => {
        const before = cluster.state;
        const first = await assertSlurmEngines(home, before);
        jobNames.push(first.jobName);
        const pids = (await enginesOf(home, "s")).map((e) => e.pid!);
        Deno.kill(before.pid, "SIGKILL");
        await until(
          async () => !(await isLive(before.pid)),
          "the controller to die",
          30_000,
        );
        // Nothing cancels them: each engine ends once its connection drops.
        await noJobsLeft(first.jobName, "after their controller's SIGKILL");
        await until(
          () => allEnded(pids),
          `the killed controller's engine processes ${pids} to end`,
          JOB_MS,
        );

        // No flags: the saved ones, launcher and all.
        const restarted = await troupe(home, ["start", "--id", "s"]);
        assert.equal(
          restarted.code,
          0,
          restarted.stdout + restarted.stderr + (await logOf(home, "s")),
        );
        const after = cluster.state = await readState(home, "s");
        cluster.alsoKill(after.pid);
        assert.notEqual(after.pid, before.pid);
        assert.deepEqual(after.engine, before.engine);
        assert.deepEqual(after.config, before.config);
        const second = await assertSlurmEngines(home, after);
        jobNames.push(second.jobName);
        for (const job of second.jobs) {
          assert.ok(!first.jobs.includes(job), `job ${job} again`);
        }
      });
      for (const name of jobNames) await noJobsLeft(name, "after troupe stop");
    });
  },
});

Deno.test({
  name: "troupe start --launcher ssh --hosts root@127.0.0.1:2222=2 " +
    "--ssh-arg ...: 2 engines over ssh, a connected client's task runs on " +
    "them, no key on a command line; stop leaves no engine or ssh process" +
    sshSkip.because,
  ignore: sshSkip.ignore,
  async fn() {
    await withTroupeHome(async (home) => {
      let port = 0;
      let pids: number[] = [];
      const flags = [
        "--launcher",
        "ssh",
        "--hosts",
        `${SSH_TARGET}=2`,
        ...SSH_OPTIONS.map((arg) => `--ssh-arg=${arg}`),
      ];
      await withCluster(home, "h", flags, async ({ state }) => {
        port = state.engine.port;
        assert.deepEqual(state.config["ssh-arg"], SSH_OPTIONS);
        const engines = await enginesOf(home, "h");
        assert.deepEqual(
          engines.map((e) => [e.engineId, e.state, e.launcher, e.host]),
          [
            [0, "idle", "ssh", Deno.hostname()],
            [1, "idle", "ssh", Deno.hostname()],
          ],
        );
        pids = engines.map((e) => e.pid!);
        assert.equal(
          (await processesMatching(sshSessionsDialing(port))).length,
          2,
        );
        assert.deepEqual(
          await onEachEngine("h", () => [engineId, Deno.pid]),
          engines.map((e) => [e.engineId, e.pid]),
        );
        await assertKeysHidden([state.key, state.engine.key]);
      });
      assert.deepEqual(await processesMatching(sshSessionsDialing(port)), []);
      assert.ok(await allEnded(pids), `engines ${pids} outlived troupe stop`);
    });
  },
});

Deno.test({
  name: "troupe start --launcher mpi --engines 2: 2 ranks of one mpiexec, " +
    "a connected client's task sees each rank; stop leaves no engine or " +
    "mpiexec" + mpiSkip.because,
  ignore: mpiSkip.ignore,
  async fn() {
    await withTroupeHome((home) =>
      // As a user would: OpenMPI's variables in the shell that runs
      // troupe start reach the controller and so its mpiexec.
      withEnv(MPI_ENV, async () => {
        let port = 0;
        let pids: number[] = [];
        const flags = [
          "--engines",
          "2",
          "--launcher",
          "mpi",
          "--mpi-arg=--oversubscribe",
        ];
        await withCluster(home, "m", flags, async ({ state }) => {
          port = state.engine.port;
          const engines = await enginesOf(home, "m");
          assert.deepEqual(
            engines.map((e) => [e.engineId, e.state, e.launcher, e.rank]),
            [[0, "idle", "mpi", 0], [1, "idle", "mpi", 1]],
          );
          pids = engines.map((e) => e.pid!);
          // One mpiexec for both, with --mpi-arg's argument.
          assert.equal(
            (await processesMatching(mpiexecDialing(port))).length,
            1,
          );
          assert.equal(
            (await processesMatching(
              `^\\S*mpiexec -n 2 --oversubscribe .*${enginesDialing(port)}`,
            )).length,
            1,
          );
          assert.deepEqual(
            await onEachEngine("m", () => [
              engineId,
              Deno.pid,
              Number(Deno.env.get("OMPI_COMM_WORLD_RANK")),
            ]),
            engines.map((e) => [e.engineId, e.pid, e.rank]),
          );
          await assertKeysHidden([state.key, state.engine.key]);
        });
        assert.deepEqual(await processesMatching(mpiexecDialing(port)), []);
        assert.ok(await allEnded(pids), `engines ${pids} outlived troupe stop`);
      })
    );
  },
});

/**
 * Runs `body` with `vars` set in this process's environment (which the
 * troupe CLI it runs inherits), and the old values back afterwards.
 */
async function withEnv(
  vars: Readonly<Record<string, string>>,
  body: () => Promise<void>,
): Promise<void> {
  const before = Object.keys(vars).map((name) => [name, Deno.env.get(name)]);
  for (const [name, value] of Object.entries(vars)) Deno.env.set(name, value);
  try {
    await body();
  } finally {
    for (const [name, value] of before) {
      if (value === undefined) Deno.env.delete(name!);
      else Deno.env.set(name!, value);
    }
  }
}
