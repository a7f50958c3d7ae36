/**
 * Engines never outlive their client (dask-jobqueue #354, #611: jobs left
 * running once the client is gone): a client killed with SIGKILL, which
 * runs no cleanup at all, leaves no engine process and no Slurm job, since
 * launched engines exit once their connection drops.
 */

import assert from "node:assert/strict";
import type { EngineStatus } from "../mod.ts";
import { skipUnless, until, withTempDir } from "./helpers.ts";
import {
  isLive,
  SERVICES_HINT,
  slurmSkipReason,
  squeueJobs,
} from "./cluster_services.ts";

/** Starts the fixture, reads its engines, and kills it with SIGKILL. */
async function killClient(kind: string, secretsDir: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "tests/fixtures/launched_client.ts", kind, secretsDir],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const deadline = setTimeout(() => child.kill("SIGKILL"), 60_000);
  try {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
  } finally {
    clearTimeout(deadline);
  }
  const engines: EngineStatus[] = JSON.parse(text.split("\n")[0]);
  child.kill("SIGKILL");
  await reader.cancel();
  await child.status;
  return engines;
}

Deno.test("a killed client's local engines end by themselves", async () => {
  await withTempDir(async (dir) => {
    const engines = await killClient("local", dir);
    const pids = engines.map((e) => e.pid!);
    assert.equal(pids.length, 2);
    await until(
      async () => !(await Promise.all(pids.map(isLive))).some(Boolean),
      "the engines of the killed client to end",
      20_000,
    );
  });
});

const slurmMissing = await slurmSkipReason();
const skip = skipUnless("launch_orphans_test.ts", slurmMissing, SERVICES_HINT);

Deno.test({
  name: "a killed client's Slurm jobs end by themselves" + skip.because,
  ignore: skip.ignore,
  async fn() {
    await withTempDir(async (dir) => {
      const engines = await killClient("slurm", dir);
      const jobs = engines.map((e) => e.jobId!);
      assert.equal(jobs.length, 2);
      await until(
        async () => {
          const left = await squeueJobs();
          return jobs.every((job) => !left.includes(job));
        },
        "the killed client's jobs to leave squeue",
        30_000,
      );
      // Each engine read its secrets file and deleted it.
      assert.deepEqual(await Array.fromAsync(Deno.readDir(dir)), []);
    });
  },
});
