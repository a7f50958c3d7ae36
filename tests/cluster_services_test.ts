/**
 * The real Slurm, sshd and MPI of `.ci/services.sh` do what troupe's
 * launchers rely on: job arrays with their task ids, scancel, the walltime
 * warning signal of `sbatch --signal`, commands and stdin over ssh, and
 * mpiexec's ranks. Each test names its jobs and processes uniquely (other
 * tests may use the same services at the same time) and checks that none
 * is left behind. Without the services the tests skip and say why.
 */

import assert from "node:assert/strict";
import {
  MPI_ENV,
  processesMatching,
  runCommand,
  skipWithout,
  SLURM_PARTITION,
  squeueJobs,
  sshArgv,
} from "./cluster_services.ts";
import { errorOf, until, withTempDir } from "./helpers.ts";

const FILE = "cluster_services_test.ts";
const slurm = await skipWithout("slurm", FILE);
const ssh = await skipWithout("ssh", FILE);
const mpi = await skipWithout("mpi", FILE);

/** A name no other test's job or process carries. */
function uniqueName(what: string): string {
  return `troupe-svc-${what}-${crypto.randomUUID().slice(0, 8)}`;
}

/** Submits a batch job; returns its id. `args` come before the script. */
async function sbatch(args: string[]): Promise<string> {
  const r = await runCommand("sbatch", ["--parsable", ...args]);
  assert.equal(r.code, 0, `sbatch ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim().split(";")[0];
}

/** Whether `path` exists now. */
async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes a bash batch script to `dir`; its long-running part carries `name`
 * as its command line (`exec -a`), for the process-table check.
 */
async function script(dir: string, body: string): Promise<string> {
  const path = `${dir}/job.sh`;
  await Deno.writeTextFile(path, `#!/bin/bash\n${body}\n`);
  return path;
}

/** Waits (bounded) until nothing named `name` is in squeue or running. */
async function nothingLeft(name: string, ms = 30_000): Promise<void> {
  await until(
    async () => (await squeueJobs(name)).length === 0,
    `jobs named ${name} to leave squeue`,
    ms,
  );
  await until(
    async () => (await processesMatching(name)).length === 0,
    `processes named ${name} to end`,
    ms,
  );
}

Deno.test({
  name: "slurm: a job array of 3 runs each task with its own id" +
    slurm.because,
  ignore: slurm.ignore,
  async fn() {
    await withTempDir(async (dir) => {
      const name = uniqueName("array");
      await sbatch([
        "-J",
        name,
        "-p",
        SLURM_PARTITION,
        "-a",
        "0-2",
        "-o",
        "/dev/null",
        "--wrap",
        `echo $SLURM_ARRAY_TASK_ID > ${dir}/task.$SLURM_ARRAY_TASK_ID`,
      ]);
      await nothingLeft(name);
      for (const id of ["0", "1", "2"]) {
        assert.equal(
          (await Deno.readTextFile(`${dir}/task.${id}`)).trim(),
          id,
          `array task ${id}`,
        );
      }
      assert.equal((await Array.fromAsync(Deno.readDir(dir))).length, 3);
    });
  },
});

Deno.test({
  name: "slurm: scancel takes a running job out of squeue and ends it" +
    slurm.because,
  ignore: slurm.ignore,
  async fn() {
    await withTempDir(async (dir) => {
      const name = uniqueName("cancel");
      const job = await sbatch([
        "-J",
        name,
        "-o",
        "/dev/null",
        await script(
          dir,
          `touch ${dir}/started\nexec -a ${name} sleep 300`,
        ),
      ]);
      await until(() => exists(`${dir}/started`), "the job to start", 30_000);
      await until(
        async () => (await processesMatching(name)).length === 1,
        "the job's sleep to run",
      );
      assert.deepEqual(await squeueJobs(name), [job]);
      const r = await runCommand("scancel", [job]);
      assert.equal(r.code, 0, r.stderr);
      await nothingLeft(name);
    });
  },
});

Deno.test({
  name: "slurm: a 1-minute job is warned with sbatch --signal before its " +
    "walltime" + slurm.because,
  ignore: slurm.ignore,
  async fn() {
    await withTempDir(async (dir) => {
      const name = uniqueName("walltime");
      // The trap runs between sleeps: a short sleep in the background and a
      // wait, which a signal interrupts at once.
      const job = await sbatch([
        "-J",
        name,
        "--time=1",
        "--signal=B:USR1@50",
        "-o",
        "/dev/null",
        await script(
          dir,
          `trap 'touch ${dir}/warned' USR1\n` +
            `touch ${dir}/started\n` +
            `while true; do sleep 1 & wait $!; done`,
        ),
      ]);
      await until(() => exists(`${dir}/started`), "the job to start", 30_000);
      // Asked for 50 s before the end of a 60 s limit. slurmctld looks at
      // time limits every 30 s and sends a warning due before its next look
      // at once, so it comes 0-30 s after the start (1-21 s, measured here).
      await until(
        () => exists(`${dir}/warned`),
        "the walltime warning (USR1)",
        90_000,
      );
      assert.deepEqual(await squeueJobs(name), [job], "warned, not ended");
      const r = await runCommand("scancel", [job]);
      assert.equal(r.code, 0, r.stderr);
      await nothingLeft(name);
    });
  },
});

Deno.test({
  name: "ssh: the target runs this machine's deno" + ssh.because,
  ignore: ssh.ignore,
  async fn() {
    const r = await runCommand("ssh", sshArgv("deno --version"));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^deno ${Deno.version.deno} `));
  },
});

Deno.test({
  name: "ssh: stdin passes through to the remote command" + ssh.because,
  ignore: ssh.ignore,
  async fn() {
    const name = uniqueName("stdin");
    // exec -a names the remote cat, for the process-table check.
    const r = await runCommand("ssh", sshArgv(`exec -a ${name} cat`), {
      stdin: "secret\nsecond line\n",
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "secret\nsecond line\n");
    await nothingLeft(name);
  },
});

Deno.test({
  name: "mpi: mpiexec -n 3 gives ranks 0, 1 and 2" + mpi.because,
  ignore: mpi.ignore,
  async fn() {
    const name = uniqueName("mpi");
    const r = await runCommand(
      "mpiexec",
      [
        "--oversubscribe",
        "-n",
        "3",
        "bash",
        "-c",
        `exec -a ${name} printenv OMPI_COMM_WORLD_RANK`,
      ],
      { env: MPI_ENV },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n").sort(), ["0", "1", "2"]);
    assert.deepEqual(await processesMatching(name), []);
  },
});

Deno.test("runCommand kills a command that outlives its bound", async () => {
  const name = uniqueName("bound");
  const error = await errorOf(
    runCommand("bash", ["-c", `exec -a ${name} sleep 60`], {
      timeoutMs: 200,
    }),
    "a command past its bound",
  );
  assert.match(error.message, /did not end within 200 ms \(killed\)/);
  assert.deepEqual(await processesMatching(name), []);
});
