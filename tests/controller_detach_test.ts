/**
 * A controller outlives its clients (issue 15): a client process killed
 * with SIGKILL mid-task, one that detaches with `close()`, and one whose
 * connection is cut all leave their task running in the controller, and a
 * new client resumes it from `JSON.stringify(ar)`: `ar.data` shows the
 * steps published so far while the task still runs, then the result;
 * `getResult` and `query` say the same. Real processes throughout: the CLI
 * starts a detached controller, the clients are child processes or this
 * one, and `troupe stop` must leave nothing running.
 */

import assert from "node:assert/strict";
import { type AsyncResultJSON, Client } from "../mod.ts";
import { fileLatch, stepUntilFile } from "./file_latch.ts";
import { startDenoScript } from "./hand_engine.ts";
import { errorOf, guard, until, withTempDir } from "./helpers.ts";
import { TapRelay } from "./tap_relay.ts";
import {
  type RunningCluster,
  withCluster,
  withTroupeHome,
} from "./controller_rig.ts";

const STEPPING_CLIENT =
  new URL("./fixtures/controller/stepping_client.ts", import.meta.url)
    .pathname;

/**
 * Resumes `saved` from a new client and checks all a follower should see:
 * the steps published so far (at least `atLeast`) before the task ends and
 * new ones as they come, then, once the latch opens, the last step as the
 * result and as `ar.data`; `getResult` and the history agree.
 */
async function resumeAndCheck(
  target: string,
  saved: AsyncResultJSON,
  go: { open(): void },
  atLeast: number,
): Promise<void> {
  assert.equal(saved.troupe, "AsyncResult");
  assert.equal(saved.version, 1);
  assert.equal(saved.cluster, target);
  assert.equal(saved.taskIds.length, 1);
  assert.equal(saved.single, true);
  const client = await Client.connect(target);
  try {
    const ar = client.resume(saved);
    // A single-engine result: its data is that engine's record.
    const step = () => Number((ar.data as Record<string, unknown>).step);
    await until(
      () => step() >= atLeast,
      `the resumed ar.data to show step ${atLeast} (it shows ` +
        `${Deno.inspect(ar.data)})`,
      30_000,
    );
    assert.equal(ar.ready(), false, "the task ended before its latch opened");
    // Live, not only replayed: a step published after the resume arrives.
    const first = step();
    await until(
      () => step() > first,
      `a step after ${first} to reach the resumed result`,
      30_000,
    );
    go.open();
    const result = await guard(ar, "the resumed result", 30_000);
    assert.equal(typeof result, "number");
    assert.ok((result as number) > first, `result ${result}, seen ${first}`);
    assert.deepEqual(ar.data, { step: result });
    assert.deepEqual(ar.engineIds, [0]);

    const again = client.getResult(saved.taskIds);
    assert.deepEqual(await guard(again, "getResult", 30_000), [result]);

    const ok = await client.query({ state: "ok" });
    const task = ok.find((t) => t.taskId === saved.taskIds[0]);
    assert.ok(task, `query({ state: "ok" }) lacks task ${saved.taskIds[0]}`);
    assert.equal(task.state, "ok");
    assert.equal(task.engineId, 0);
    assert.equal(typeof task.started, "number");
    assert.equal(typeof task.completed, "number");
    assert.ok(task.submitted <= task.started!, Deno.inspect(task));
    assert.ok(task.started! <= task.completed!, Deno.inspect(task));
    assert.ok(task.publications >= (result as number) + 1, Deno.inspect(task));
    assert.ok((await client.history()).includes(saved.taskIds[0]));
  } finally {
    await client.close();
  }
}

/** Runs the stepping client fixture to the point where it saved its result. */
async function steppingClient(
  cluster: RunningCluster,
  dir: string,
  then: "wait" | "close",
) {
  const save = `${dir}/ar.json`;
  const go = fileLatch(dir, "go");
  const child = startDenoScript(STEPPING_CLIENT, [
    cluster.state.id,
    save,
    go.path,
    "0",
    "2",
    then,
  ]);
  cluster.alsoKill(child.pid);
  await child.waitForStderr(
    /saved at step \d+/,
    "the client process to save JSON.stringify(ar)",
    60_000,
  );
  const saved: AsyncResultJSON = JSON.parse(await Deno.readTextFile(save));
  return { child, saved, go };
}

for (const kind of ["workers", "processes"]) {
  Deno.test(
    `a client killed with SIGKILL mid-task leaves it running; a new ` +
      `client resumes it (--${kind} 2)`,
    async () => {
      await withTroupeHome((home) =>
        withCluster(home, "t1", [`--${kind}`, "2"], async (cluster) => {
          await withTempDir(async (dir) => {
            const { child, saved, go } = await steppingClient(
              cluster,
              dir,
              "wait",
            );
            try {
              await child.waitForStderr(/waiting to be killed/, "the wait");
              const status = await child.kill("SIGKILL");
              assert.equal(status.signal, "SIGKILL");
              await resumeAndCheck("t1", saved, go, 2);
            } finally {
              go.open();
              await child.kill();
            }
          });
        })
      );
    },
  );
}

Deno.test(
  "a client process that detaches with close() mid-task leaves it running",
  async () => {
    await withTroupeHome((home) =>
      withCluster(home, "t1", ["--workers", "2"], async (cluster) => {
        await withTempDir(async (dir) => {
          const { child, saved, go } = await steppingClient(
            cluster,
            dir,
            "close",
          );
          try {
            const status = await child.exited(30_000);
            assert.ok(
              /detached/.test(child.stderr()),
              `close() did not return:\n${child.stderr()}`,
            );
            assert.equal(status.code, 0, child.stderr());
            await resumeAndCheck("t1", saved, go, 2);
          } finally {
            go.open();
            await child.kill();
          }
        });
      })
    );
  },
);

Deno.test(
  "a client whose connection is cut fails its pending task with " +
    "ControllerLostError there; the task runs on and is resumed",
  async () => {
    await withTroupeHome((home) =>
      withCluster(home, "t1", ["--workers", "2"], async ({ state }) => {
        await withTempDir(async (dir) => {
          const go = fileLatch(dir, "go");
          const relay = new TapRelay({
            hostname: state.hostname,
            port: state.port,
          });
          let cutDone = false;
          try {
            const cut = await Client.connect({
              hostname: "127.0.0.1",
              port: relay.port,
              key: state.key,
            });
            try {
              const ar = cut.view(0).applyAsync(stepUntilFile, go.path, 50);
              await until(
                () => Number(ar.data.step) >= 2,
                "two steps through the relay",
                30_000,
              );
              const saved: AsyncResultJSON = JSON.parse(JSON.stringify(ar));
              cutDone = true;
              await relay.close();
              const lost = await errorOf(ar, "the cut client's task", 30_000);
              assert.equal(lost.name, "ControllerLostError", lost.stack);
              assert.match(lost.message, /lost the connection to controller/);
              assert.match(lost.message, /Client\.connect/);
              assert.match(lost.message, /resume/);
              await resumeAndCheck("t1", saved, go, 2);
            } finally {
              await cut.close();
            }
          } finally {
            go.open();
            if (!cutDone) await relay.close();
          }
        });
      })
    );
  },
);
