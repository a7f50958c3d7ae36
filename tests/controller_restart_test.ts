/**
 * A controller killed with kill -9 and started again on the same state
 * file and database (issue 15): the history survives, the tasks it had as
 * running or queued fail with `EngineError` (never reported done), the
 * engine listener comes back on the same port with the same key so that
 * an engine started by hand rejoins, launched engines are started again,
 * and `troupe stop` ends everything, the hand engine included.
 */

import assert from "node:assert/strict";
import {
  type AsyncResultJSON,
  Client,
  CompositeError,
  EngineError,
  type EngineStatus,
} from "../mod.ts";
import { isLive } from "./cluster_services.ts";
import { fileLatch, holdUntilFile } from "./file_latch.ts";
import { type HandEngine, startHandEngine } from "./hand_engine.ts";
import { errorOf, guard, until, withTempDir } from "./helpers.ts";
import { childrenOf, withCluster, withTroupeHome } from "./controller_rig.ts";

/** The engine started by hand among `engines` (the only remote one), up. */
function handEngineIn(engines: EngineStatus[]): EngineStatus | undefined {
  return engines.find((e) =>
    e.kind === "remote" && (e.state === "idle" || e.state === "busy")
  );
}

/**
 * Asserts `error` is the restart's failure of a task that was `state`
 * when controller `pid` was killed: an `EngineError` (the class itself,
 * across the wire) that says so, never a value.
 */
function assertLostInRestart(
  error: Error,
  pid: number,
  state: "running" | "queued",
): void {
  assert.ok(error instanceof EngineError, `not an EngineError: ${error.stack}`);
  // The restarted controller names the killed one (the CLI reads its pid
  // from the stale state file) and the task.
  assert.match(
    error.message,
    new RegExp(
      `the controller stopped \\(pid ${pid}, killed or crashed\\) while ` +
        `task \\d+ was ${state}` +
        (state === "running" ? " on engine \\d+" : ""),
    ),
  );
  assert.match(error.message, /its result was lost/);
}

/** The one failure of a `getResult` of one task (a result of a list). */
function onlyFailure(error: Error): Error {
  assert.ok(error instanceof CompositeError, `${error.stack}`);
  assert.equal(error.errors.length, 1, error.message);
  assert.deepEqual(error.results, [undefined]);
  return error.errors[0];
}

Deno.test(
  "a controller killed with kill -9 restarts on the same database: the " +
    "history stays, running and queued tasks fail with EngineError, a hand " +
    "engine rejoins, and stop leaves nothing",
  async () => {
    await withTroupeHome(async (home) => {
      await withTempDir(async (dir) => {
        let hand: HandEngine | undefined;
        try {
          await withCluster(
            home,
            "r1",
            ["--workers", "2"],
            async (cluster) => {
              const first = cluster.state;
              const conn = `${dir}/conn.json`;
              await Deno.writeTextFile(conn, JSON.stringify(first.engine), {
                mode: 0o600,
              });
              hand = startHandEngine(["--file", conn]);
              cluster.alsoKill(hand.pid);
              const go = fileLatch(dir, "go");

              const before = await Client.connect("r1");
              let doneIds: number[];
              let runningId: number;
              let queuedId: number;
              let saved: AsyncResultJSON[];
              try {
                await before.waitForEngines(3, { timeoutMs: 60_000 });
                const handId = handEngineIn(before.engines())?.engineId;
                assert.ok(handId !== undefined, "the hand engine is not up");
                const done = before.view().applyAsync((x: number) => x * 2, 21);
                assert.deepEqual(
                  await guard(done, "the tasks done before the kill", 30_000),
                  [42, 42, 42],
                );
                doneIds = done.taskIds;
                const running = before.view(handId).applyAsync(
                  holdUntilFile,
                  go.path,
                  60_000,
                );
                const queued = before.view(handId).applyAsync(() => "queued");
                runningId = running.taskIds[0];
                queuedId = queued.taskIds[0];
                saved = [running.toJSON(), queued.toJSON()];
                await until(
                  () => running.data.started === true,
                  "the long task to start on the hand engine",
                  30_000,
                );
                // The history has them as running and queued: what the
                // restart must not report as done.
                await until(
                  async () => {
                    const states = (await before.query({
                      taskIds: [runningId, queuedId],
                    })).map((t) => t.state).sort();
                    return states.join() === "queued,running";
                  },
                  "the history to have one task running, one queued",
                  30_000,
                );

                Deno.kill(first.pid, "SIGKILL");
                await until(
                  async () => !(await isLive(first.pid)),
                  "the controller to die of SIGKILL",
                  30_000,
                );
                for (const ar of [running, queued]) {
                  const lost = await errorOf(ar, "a task of the killed one");
                  assert.equal(lost.name, "ControllerLostError", lost.stack);
                }
              } finally {
                await before.close();
              }
              // It retries forever, as engines started by hand do.
              await hand.waitForStderr(
                /retrying in \d+ ms/,
                "the hand engine to retry",
                30_000,
              );

              const again = await cluster.restart();
              assert.notEqual(again.pid, first.pid);
              for (const field of ["port", "key", "db"] as const) {
                assert.equal(again[field], first[field], field);
              }
              assert.deepEqual(again.engine, first.engine);

              const after = await Client.connect("r1");
              try {
                await after.waitForEngines(3, { timeoutMs: 60_000 });
                await until(
                  () => handEngineIn(after.engines()) !== undefined,
                  "the hand engine to rejoin",
                  60_000,
                );
                const history = await after.history();
                for (const id of [...doneIds, runningId, queuedId]) {
                  assert.ok(history.includes(id), `history lacks task ${id}`);
                }
                assert.deepEqual(
                  await guard(
                    after.getResult(doneIds),
                    "getResult of the done tasks",
                    30_000,
                  ),
                  [42, 42, 42],
                );
                for (
                  const [state, id, json] of [
                    ["running", runningId, saved[0]],
                    ["queued", queuedId, saved[1]],
                  ] as const
                ) {
                  assertLostInRestart(
                    onlyFailure(
                      await errorOf(
                        after.getResult([id]),
                        `getResult ${state}`,
                      ),
                    ),
                    first.pid,
                    state,
                  );
                  assertLostInRestart(
                    await errorOf(after.resume(json), `the ${state} resumed`),
                    first.pid,
                    state,
                  );
                }
                const lost = await after.query({
                  taskIds: [runningId, queuedId],
                });
                assert.deepEqual(lost.map((t) => t.state), ["error", "error"]);
                assert.equal(
                  (await after.query({ state: "ok" })).filter((t) =>
                    t.taskId === runningId || t.taskId === queuedId
                  ).length,
                  0,
                  "a task lost in the kill is reported done",
                );

                // The task the old controller left on the hand engine may
                // still hold it: let it go, then new work runs there, in
                // the same process as before the kill.
                go.open();
                const rejoined = handEngineIn(after.engines())!.engineId;
                assert.equal(
                  await guard(
                    after.view(rejoined).applyAsync(() => Deno.pid),
                    "a new task on the rejoined engine",
                    30_000,
                  ),
                  hand.pid,
                );
                assert.deepEqual(
                  await guard(
                    after.view().applyAsync((x: number) => x + 1, 1),
                    "new tasks on every engine",
                    30_000,
                  ),
                  [2, 2, 2],
                );
              } finally {
                await after.close();
              }
            },
          );
          // The stop ended the hand engine too: it does not retry.
          const status = await hand!.exited(30_000);
          assert.equal(status.code, 0, hand!.stderr());
        } finally {
          await hand?.kill();
        }
      });
    });
  },
);

Deno.test(
  "engine processes exit with their controller's kill -9 (no orphans) and " +
    "are started again with it; the history keeps their results",
  async () => {
    await withTroupeHome((home) =>
      withCluster(home, "r2", ["--processes", "2"], async (cluster) => {
        const first = cluster.state;
        const before = await childrenOf(first.pid);
        assert.equal(before.length, 2, `engine processes: ${before}`);
        const client = await Client.connect("r2");
        let doneIds: number[];
        let donePids: number[];
        try {
          const done = client.view().applyAsync(() => Deno.pid);
          donePids = await guard(done, "pids of the engines", 30_000);
          assert.deepEqual([...donePids].sort(), [...before].sort());
          doneIds = done.taskIds;
          // A query reads a flushed history: what a kill -9 then loses
          // is nothing of these (the history writes every flushMs).
          const recorded = await client.query({ taskIds: doneIds });
          assert.deepEqual(recorded.map((t) => t.state), ["ok", "ok"]);
        } finally {
          await client.close();
        }

        Deno.kill(first.pid, "SIGKILL");
        await until(
          async () => !(await Promise.all(before.map(isLive))).some(Boolean),
          `the engine processes ${before} to exit with their controller`,
          30_000,
        );

        const again = await cluster.restart();
        const after = await Client.connect("r2");
        try {
          await after.waitForEngines(2, { timeoutMs: 60_000 });
          assert.deepEqual(
            after.engines().map((e) => e.kind),
            ["process", "process"],
          );
          const now = await childrenOf(again.pid);
          assert.equal(now.length, 2, `engine processes: ${now}`);
          assert.deepEqual(now.filter((pid) => before.includes(pid)), []);
          assert.deepEqual(
            await guard(after.getResult(doneIds), "the old results", 30_000),
            donePids,
          );
          const old = await after.query({ taskIds: doneIds });
          assert.deepEqual(old.map((t) => t.state), ["ok", "ok"]);
          assert.deepEqual(
            [
              ...(await guard(
                after.view().applyAsync(() => Deno.pid),
                "new tasks on the new engine processes",
                30_000,
              )),
            ].sort(),
            [...now].sort(),
          );
        } finally {
          await after.close();
        }
      })
    );
  },
);
