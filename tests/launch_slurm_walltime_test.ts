/**
 * Slurm walltimes with the `slurm` launcher, on the real Slurm of
 * `.ci/services.sh`: a job warned before its time limit drains (its running
 * task finishes, what waited for it runs elsewhere, nothing is lost) and is
 * replaced under its id, not counted as a restart; a job killed at its time
 * limit under a task that outlives it fails that task and is resubmitted.
 *
 * Slurm's smallest limit is a minute (`time: "1"`), and slurmctld looks at
 * limits only every 30 s (.ci/slurm/slurm.conf), sending at each look the
 * warnings due before the next one: a warning asked 50 s ahead comes at its
 * first look, 0-30 s after the job starts (1-21 s measured), which may be
 * before a test has its tasks in place. Asked 20 s ahead
 * (`drainSeconds: 20`), it comes at the first look after 10 s, 10-40 s
 * after the start (~25 s measured), and the kill at the first look past the
 * minute, 60-90 s after it. Frames are sealed (`encrypt: true`), as across
 * hosts.
 */

import assert from "node:assert/strict";
import {
  type AsyncResult,
  EngineError,
  type EngineState,
  slurm,
} from "../mod.ts";
import { skipWithout, squeueJobs } from "./cluster_services.ts";
import { fileLatch, holdUntilFile } from "./file_latch.ts";
import {
  errorOf,
  guard,
  recordEvents,
  sleep,
  until,
  withClient,
  withTempDir,
} from "./helpers.ts";
import { assertNothingLeft, slurmJobName } from "./launch_checks.ts";

const FILE = "launch_slurm_walltime_test.ts";
const skip = await skipWithout("slurm", FILE);

/** A warning comes within 40 s of a job's start; a kill within 90 s. */
const WARNING_MS = 70_000;
const KILL_MS = 120_000;
/** Longer than any wait here: a held task outlives its job's walltime. */
const HOLD_MS = 150_000;

Deno.test({
  name: "slurm: a job warned before its walltime drains, loses no task, " +
    "and is replaced under its id, not counted" + skip.because,
  ignore: skip.ignore,
  async fn() {
    await withTempDir(async (dir) => {
      const secretsDir = `${dir}/secrets`;
      // Engine 0's job has a 1-minute limit; engine 1 takes what it hands
      // back.
      const warned = slurm({
        engines: 1,
        time: "1",
        drainSeconds: 20,
        pollMs: 500,
        secretsDir,
      });
      const steady = slurm({ engines: 1, pollMs: 500, secretsDir });
      let port = 0;
      const jobNames: string[] = [];
      await withClient({
        workers: 0,
        launch: [warned, steady],
        encrypt: true,
        // A drain is no crash: with no restart allowed, it still comes back.
        restart: { maxRestarts: 0, withinMs: 60_000 },
        startTimeoutMs: WARNING_MS,
      }, async (client) => {
        port = client.connectionInfo.port;
        assert.deepEqual(client.ids, [0, 1]);
        const firstJob = client.engines()[0].jobId!;
        for (const e of client.engines()) {
          jobNames.push(await slurmJobName(e.jobId!));
        }
        const rec = recordEvents(client);
        // Both engines held by a direct task, so that load-balanced tasks
        // queue behind them, on engine 0 too.
        const go = [fileLatch(dir, "go0"), fileLatch(dir, "go1")];
        const running = [0, 1].map((id) =>
          client.view(id).applyAsync(holdUntilFile, go[id].path, HOLD_MS)
        );
        await until(
          () => running.every((ar) => ar.data?.started === true),
          "the held tasks to start",
        );
        // Short load-balanced tasks all along.
        const lv = client.loadBalancedView({ highWaterMark: 3 });
        const short: AsyncResult<number>[] = [];
        const stream = (async () => {
          for (let i = 0; !rec.has("restarted", 0); i++) {
            short.push(lv.applyAsync((x: number) => x * 2, i));
            await sleep(20);
          }
        })();
        await until(
          () => client.engines()[0].load >= 2,
          "short tasks to queue on engine 0",
        );
        assert.ok(!rec.has("draining", 0), "warned before the test was set");
        let warned:
          | { state: EngineState; queuedOn0: AsyncResult<number>[] }
          | undefined;
        const stopWatch = client.onEngineEvent((e) => {
          if (e.type === "draining" && e.engineId === 0) {
            warned = {
              state: client.engines()[0].state,
              queuedOn0: short.filter((ar) => ar.engineIds[0] === 0),
            };
          }
        });
        await until(
          () => warned !== undefined,
          "the walltime warning to drain engine 0",
          WARNING_MS,
        );
        assert.equal(warned!.state, "draining");
        assert.equal(client.engines()[0].state, "draining");
        assert.equal(
          running[0].ready(),
          false,
          "the running task was cut short",
        );
        assert.ok(
          warned!.queuedOn0.length > 0,
          "no short task waited for engine 0",
        );
        const drained = rec.events.find((e) =>
          e.type === "draining" && e.engineId === 0
        );
        assert.match((drained as { reason: string }).reason, /SIGUSR1/);
        // What waited for engine 0 runs on engine 1 while 0 drains.
        go[1].open();
        await guard(
          Promise.all(warned!.queuedOn0),
          "the tasks handed back",
          WARNING_MS,
        );
        assert.ok(
          warned!.queuedOn0.every((ar) => ar.engineIds[0] === 1),
          "a task handed back did not run on engine 1",
        );
        assert.equal(client.engines()[0].state, "draining");
        go[0].open();
        assert.deepEqual(
          await guard(Promise.all(running), "the held tasks", WARNING_MS),
          ["released", "released"],
          "the running task finished with its value",
        );
        await until(
          () => rec.has("restarted", 0) && client.ids.includes(0),
          "engine 0 to come back in a new job",
          WARNING_MS,
        );
        await guard(stream, "the stream of short tasks");
        stopWatch();
        assert.ok(!rec.has("gaveUp", 0), "the drain counted as a restart");
        assert.ok(!rec.has("died", 1), "engine 1 died");
        const values = await guard(
          Promise.all(short),
          "every short task",
          WARNING_MS,
        );
        assert.ok(short.length > 0);
        assert.deepEqual(values, short.map((_, i) => i * 2), "a task lost");
        const newJob = client.engines()[0].jobId!;
        assert.notEqual(newJob, firstJob);
        assert.equal(client.engines()[0].launcher, "slurm");
        await until(
          async () => !(await squeueJobs(jobNames[0])).includes(firstJob),
          "the drained job to leave squeue",
        );
        assert.equal(
          await client.view(0).applySync((x: number) => x + 1, 1),
          2,
        );
        rec.stop();
      });
      await assertNothingLeft({ port, secretsDir, jobName: jobNames[0] });
      await assertNothingLeft({ port, jobName: jobNames[1] });
    });
  },
});

Deno.test({
  name: "slurm: a job killed at its walltime under a task that outlives it " +
    "fails that task with an EngineError and is resubmitted" + skip.because,
  ignore: skip.ignore,
  async fn() {
    await withTempDir(async (dir) => {
      const secretsDir = `${dir}/secrets`;
      let port = 0;
      let jobName = "";
      await withClient({
        workers: 0,
        launch: slurm({
          engines: 1,
          time: "1",
          drainSeconds: 20,
          pollMs: 500,
          secretsDir,
        }),
        encrypt: true,
        startTimeoutMs: WARNING_MS,
      }, async (client) => {
        port = client.connectionInfo.port;
        const firstJob = client.engines()[0].jobId!;
        jobName = await slurmJobName(firstJob);
        const rec = recordEvents(client);
        // Warned, the engine drains, but its task runs on past the limit.
        const held = client.view(0).applyAsync(
          holdUntilFile,
          `${dir}/never`,
          HOLD_MS,
        );
        await until(
          () => rec.has("draining", 0),
          "the walltime warning",
          WARNING_MS,
        );
        const error = await errorOf(
          held,
          "the task past the walltime",
          KILL_MS,
        );
        assert.ok(error instanceof EngineError, String(error));
        assert.ok(rec.has("died", 0));
        await until(
          () => rec.has("restarted", 0) && client.ids.includes(0),
          "engine 0 to be resubmitted",
          WARNING_MS,
        );
        assert.notEqual(client.engines()[0].jobId, firstJob);
        assert.equal(client.engines()[0].restarts, 1);
        assert.equal(await client.view(0).applySync(() => "back"), "back");
        rec.stop();
      });
      await assertNothingLeft({ port, secretsDir, jobName });
    });
  },
});
