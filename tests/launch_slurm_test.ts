/**
 * The `slurm` launcher against the real Slurm of `.ci/services.sh`: the
 * seed on engines that are jobs of a job array, an engine whose job is
 * cancelled mid-task (its task fails, or runs again elsewhere, and the
 * engine comes back in a new job under its id), `client.scale`, and
 * nothing left in `squeue`, the process table or the secrets folder after
 * `close()`. Frames are sealed (`encrypt: true`), as across hosts. Without
 * Slurm the tests skip and say why.
 */

import assert from "node:assert/strict";
import { Client, EngineError, type EngineEvent, slurm } from "../mod.ts";
import {
  processesMatching,
  runCommand,
  skipWithout,
  squeueJobs,
} from "./cluster_services.ts";
import { holdUntilFile } from "./file_latch.ts";
import {
  errorOf,
  guard,
  recordEvents,
  stillWorks,
  until,
  withClient,
  withTempDir,
} from "./helpers.ts";
import {
  assertKeysHidden,
  assertNothingLeft,
  assertSeedRuns,
  enginesDialing,
  filesIn,
  slurmJobName,
} from "./launch_checks.ts";

const FILE = "launch_slurm_test.ts";
const skip = await skipWithout("slurm", FILE);

/** Jobs start within seconds here; a busy machine gets a minute. */
const JOB_MS = 60_000;

Deno.test({
  name: "slurm: the seed on 2 array jobs; a cancelled job's engine comes " +
    "back under its id; scale(3) then scale(1); close() leaves nothing" +
    skip.because,
  ignore: skip.ignore,
  async fn(t) {
    await withTempDir(async (dir) => {
      const secretsDir = `${dir}/secrets`;
      let port = 0;
      let jobName = "";
      await withClient({
        workers: 0,
        launch: slurm({ engines: 2, pollMs: 500, secretsDir }),
        encrypt: true,
        startTimeoutMs: JOB_MS,
      }, async (client) => {
        port = client.connectionInfo.port;
        const rec = recordEvents(client);
        const count = (type: EngineEvent["type"], id: number) =>
          rec.events.filter((e) => e.type === type && e.engineId === id)
            .length;
        const jobOf = (id: number) =>
          client.engines().find((e) => e.engineId === id)?.jobId;

        await t.step(
          "engines() shows slurm and a job squeue knows",
          async () => {
            assert.deepEqual(client.ids, [0, 1]);
            const status = client.engines();
            assert.deepEqual(status.map((e) => e.launcher), ["slurm", "slurm"]);
            for (const e of status) {
              assert.match(e.jobId ?? "", /^\d+_\d+$/, `engine ${e.engineId}`);
              assert.ok(e.pid! > 0, `engine ${e.engineId} has no pid`);
            }
            assert.notEqual(status[0].jobId, status[1].jobId);
            jobName = await slurmJobName(status[0].jobId!);
            assert.match(jobName, /^troupe-/);
            assert.deepEqual(
              (await squeueJobs(jobName)).sort(),
              status.map((e) => e.jobId!).sort(),
            );
            // What the check after close() looks for is there now.
            assert.deepEqual(
              (await processesMatching(enginesDialing(port))).sort(),
              status.map((e) => e.pid!).sort(),
            );
            // The engines read their secrets and deleted them.
            assert.deepEqual(await filesIn(secretsDir), []);
          },
        );

        await t.step(
          "the key is in no job script, job record or command line",
          () =>
            assertKeysHidden(
              [client.connectionInfo.key],
              client.engines().map((e) => e.jobId!),
            ),
        );

        await t.step(
          "the seed: publishIt and the simulation loop",
          () => assertSeedRuns(client, JOB_MS),
        );

        await t.step(
          "scancel mid-task: EngineError, back in a new job",
          async () => {
            const before = jobOf(0)!;
            const latch = `${dir}/never`;
            const held = client.view(0).applyAsync(holdUntilFile, latch);
            await until(
              () => held.data?.started === true,
              "the held task to start on engine 0",
              JOB_MS,
            );
            const r = await runCommand("scancel", [before]);
            assert.equal(r.code, 0, r.stderr);
            const error = await errorOf(held, "the held task", JOB_MS);
            assert.ok(error instanceof EngineError, String(error));
            await until(
              () => rec.has("restarted", 0) && client.ids.includes(0),
              "engine 0 to come back",
              JOB_MS,
            );
            const after = jobOf(0)!;
            assert.match(after, /^\d+_\d+$/);
            assert.notEqual(after, before, "the same job after a restart");
            assert.ok(!rec.has("died", 1), "engine 1 died too");
            // Slurm lists a cancelled job while its processes end.
            await until(
              async () => !(await squeueJobs(jobName)).includes(before),
              "the cancelled job to leave squeue",
              JOB_MS,
            );
            await stillWorks(client);
          },
        );

        await t.step(
          "scancel under a load-balanced task with retries: 1: it runs again " +
            "on the other engine",
          async () => {
            const latch = `${dir}/go`;
            const lv = client.loadBalancedView({ retries: 1 });
            const ar = lv.applyAsync(holdUntilFile, latch);
            await until(
              () => ar.data?.started === true,
              "the load-balanced task to start",
              JOB_MS,
            );
            const [ranOn] = ar.engineIds;
            const first = client.engines().find((e) => e.engineId === ranOn)!;
            assert.equal(first.currentTaskId, ar.taskIds[0]);
            const restarts = count("restarted", first.engineId);
            const r = await runCommand("scancel", [first.jobId!]);
            assert.equal(r.code, 0, r.stderr);
            // Its first run cannot end: the latch opens once it runs again.
            await until(
              () => ar.engineIds[0] === 1 - first.engineId,
              "the task to run again on the other engine",
              JOB_MS,
            );
            assert.ok(rec.has("died", first.engineId));
            await Deno.writeTextFile(latch, "");
            assert.equal(
              await guard(ar, "the retried task", JOB_MS),
              "released",
            );
            assert.deepEqual(ar.engineIds, [1 - first.engineId]);
            await until(
              () =>
                count("restarted", first.engineId) > restarts &&
                client.ids.length === 2,
              `engine ${first.engineId} to come back`,
              JOB_MS,
            );
            assert.notEqual(jobOf(first.engineId), first.jobId);
            await stillWorks(client);
          },
        );

        await t.step(
          "scale(3), then scale(1): retired jobs leave squeue",
          async () => {
            await guard(client.scale(3), "scale(3)", JOB_MS);
            assert.deepEqual(client.ids, [0, 1, 2]);
            assert.equal(client.engines()[2].launcher, "slurm");
            const jobs = client.engines().map((e) => e.jobId!).sort().join();
            // The earlier cancelled jobs may still be ending.
            await until(
              async () => (await squeueJobs(jobName)).sort().join() === jobs,
              "squeue to list the 3 engines' jobs",
              JOB_MS,
            );
            await stillWorks(client);

            await guard(client.scale(1), "scale(1)", JOB_MS);
            assert.equal(client.ids.length, 1);
            const [kept] = client.ids;
            const retired = [0, 1, 2].filter((id) => id !== kept);
            for (const id of retired) {
              assert.ok(rec.has("retired", id), `${id}`);
            }
            await until(
              async () => (await squeueJobs(jobName)).join() === jobOf(kept)!,
              "the retired engines' jobs to leave squeue",
              JOB_MS,
            );
            await stillWorks(client);
          },
        );
        rec.stop();
      });
      await assertNothingLeft({ port, secretsDir, jobName });
    });
  },
});

Deno.test({
  name: "slurm() names a misspelt option",
  fn() {
    assert.throws(
      () => slurm({ engines: 1, partiton: "x" } as never),
      (error: Error) =>
        error instanceof TypeError &&
        /unknown option "partiton" in slurm\(\) options \(did you mean "partition"\?\)/
          .test(error.message),
    );
  },
});

Deno.test({
  name: "slurm: a partition that does not exist fails Client.start with " +
    "sbatch's message and leaves nothing" + skip.because,
  ignore: skip.ignore,
  async fn() {
    await withTempDir(async (dir) => {
      const secretsDir = `${dir}/secrets`;
      const error = await errorOf(
        Client.start({
          workers: 0,
          launch: slurm({
            engines: 1,
            partition: "no-such-partition",
            pollMs: 500,
            secretsDir,
          }),
          encrypt: true,
          startTimeoutMs: JOB_MS,
        }),
        "Client.start on a partition that does not exist",
        JOB_MS,
      );
      assert.match(error.message, /the slurm launcher could not start it/);
      assert.match(error.message, /sbatch failed \(exit code 1\)/);
      assert.match(error.message, /invalid partition specified/i);
      assert.deepEqual(await filesIn(secretsDir), []);
    });
  },
});
