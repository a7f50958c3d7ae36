/**
 * The `mpi` launcher against the real OpenMPI of `.ci/services.sh`: the
 * seed on the 3 ranks of one `mpiexec`, each engine knowing its rank as
 * `engines()` shows it, and nothing left after `close()` (no `mpiexec`, no
 * rank, no secrets file). Frames are sealed (`encrypt: true`), as across
 * hosts. Without `mpiexec` the test skips and says why.
 */

import assert from "node:assert/strict";
import { mpi } from "../mod.ts";
import {
  MPI_ENV,
  mpiSkipReason,
  processesMatching,
  SERVICES_HINT,
} from "./cluster_services.ts";
import {
  guard,
  range,
  skipUnless,
  withClient,
  withTempDir,
} from "./helpers.ts";
import { assertNothingLeft, enginesDialing, filesIn } from "./launch_checks.ts";
import { publishIt, simulationLoop } from "./seed_tasks.ts";

const FILE = "launch_mpi_test.ts";
const skip = skipUnless(FILE, await mpiSkipReason(), SERVICES_HINT);

/** mpiexec and three deno starts take a second or two; a busy machine more. */
const MPI_MS = 30_000;

/** The `mpiexec` of a client whose engines dial `port`. */
function mpiexecOf(port: number): string {
  return `^\\S*mpiexec .*${enginesDialing(port)}`;
}

Deno.test({
  name: "mpi: the seed on 3 ranks, each engine knows its rank, close() " +
    "leaves nothing" + skip.because,
  ignore: skip.ignore,
  async fn(t) {
    await withTempDir(async (dir) => {
      const secretsDir = `${dir}/secrets`;
      let port = 0;
      await withClient({
        workers: 0,
        launch: mpi({
          engines: 3,
          args: ["--oversubscribe"],
          env: { ...MPI_ENV },
          secretsDir,
        }),
        encrypt: true,
        startTimeoutMs: MPI_MS,
      }, async (client) => {
        port = client.connectionInfo.port;

        await t.step("engines() shows mpi and ranks 0, 1, 2", async () => {
          assert.deepEqual(client.ids, range(3));
          const status = client.engines();
          assert.deepEqual(status.map((e) => e.launcher), [
            "mpi",
            "mpi",
            "mpi",
          ]);
          assert.deepEqual(status.map((e) => e.rank), range(3));
          assert.equal((await processesMatching(mpiexecOf(port))).length, 1);
          // The ranks read their secrets and deleted them.
          assert.deepEqual(await filesIn(secretsDir), []);
        });

        await t.step("each engine sees its own rank", async () => {
          const ranks = await client.view().applySync(() =>
            Number(Deno.env.get("OMPI_COMM_WORLD_RANK"))
          );
          assert.deepEqual(ranks, client.engines().map((e) => e.rank));
        });

        await t.step(
          "the seed: publishIt and the simulation loop",
          async () => {
            const dv = client.view();
            const hello = dv.applyAsync(publishIt);
            await guard(hello, "publishIt", MPI_MS);
            assert.deepEqual(hello.data, range(3).map(() => ({ a: "hi" })));
            const steps = 5;
            const ar = dv.applyAsync(simulationLoop, steps, 10);
            await guard(ar, "the simulation loop", MPI_MS);
            for (const data of ar.data) {
              assert.ok(data.a instanceof Float64Array, String(data.a));
              assert.equal((data.a as Float64Array).length, 20);
              assert.equal(data.i, steps - 1);
            }
          },
        );
      });
      await assertNothingLeft({
        port,
        secretsDir,
        patterns: [mpiexecOf(port)],
      });
    });
  },
});
