/**
 * Several clients on one controller (issue 15): a client process and this
 * one submit to one cluster at the same moment; each gets its own values
 * and sees only its own publications (results, `publications()`,
 * `client.registry`); the history has both clients' tasks, told apart by
 * `clientNo`. And the client port's key: a wrong key, or the engine key,
 * is refused with a clear handshake error while the right key still works.
 */

import assert from "node:assert/strict";
import { Client } from "../mod.ts";
import { TASK_ID_BLOCK } from "../remote/wire.ts";
import { startDenoScript } from "./hand_engine.ts";
import { errorOf, guard, range, withTempDir } from "./helpers.ts";
import { fileLatch } from "./file_latch.ts";
import { withCluster, withTroupeHome } from "./controller_rig.ts";
import {
  runTagged,
  type TaggedRun,
} from "./fixtures/controller/tagged_work.ts";

const TAGGED_CLIENT =
  new URL("./fixtures/controller/tagged_client.ts", import.meta.url).pathname;
const N = 40;

/** Asserts that `run` is all `tag`'s: values, publications, registry. */
function assertOwnRun(run: TaggedRun, tag: string, engines: number): void {
  assert.deepEqual(
    run.values,
    range(N).map((x) => ({ tag, y: x * x })),
    `${tag}'s values`,
  );
  const mine = new Set(run.taskIds);
  for (
    const [what, seen] of [["publications()", run.streamed], [
      "client.registry.updates()",
      run.registry,
    ]] as const
  ) {
    assert.ok(seen.length > 0, `${tag}: ${what} gave nothing`);
    const foreign = seen.filter((p) => p.tag !== tag || !mine.has(p.taskId));
    assert.deepEqual(foreign, [], `${tag}: ${what} gave another's`);
  }
  assert.equal(run.data.length, engines);
  for (const data of run.data) {
    assert.deepEqual(data, { tag, x: 100, i: 2 }, `${tag}'s ar.data`);
  }
}

/** The client number a task id belongs to (its block of ids). */
const clientNoOf = (taskId: number) => Math.floor(taskId / TASK_ID_BLOCK);

Deno.test(
  "two clients submit to one cluster at once: each sees its own results " +
    "and publications only; the history tells them apart",
  async () => {
    await withTroupeHome((home) =>
      withCluster(home, "c2", ["--workers", "2"], async (cluster) => {
        await withTempDir(async (dir) => {
          const go = fileLatch(dir, "go");
          const out = `${dir}/other.json`;
          const other = startDenoScript(TAGGED_CLIENT, [
            "c2",
            "other",
            String(N),
            go.path,
            out,
          ]);
          cluster.alsoKill(other.pid);
          try {
            const client = await Client.connect("c2");
            try {
              assert.deepEqual(client.ids, [0, 1]);
              await other.waitForStderr(
                /connected/,
                "the other client",
                60_000,
              );
              go.open();
              const mine = await guard(
                runTagged(client, "mine", N),
                "this client's run",
                60_000,
              );
              await other.exited(60_000);
              assert.match(other.stderr(), /done/, other.stderr());
              const theirs: TaggedRun = JSON.parse(
                await Deno.readTextFile(out),
              );
              assertOwnRun(mine, "mine", 2);
              assertOwnRun(theirs, "other", 2);
              // Nothing of the other's is left in this client's registry.
              for (const p of client.registry.snapshot().values()) {
                assert.equal(p.data.tag, "mine", Deno.inspect(p));
              }

              const history = await client.history();
              for (const id of [...mine.taskIds, ...theirs.taskIds]) {
                assert.ok(history.includes(id), `history lacks task ${id}`);
              }
              const myNo = clientNoOf(mine.taskIds[0]);
              const theirNo = clientNoOf(theirs.taskIds[0]);
              assert.notEqual(myNo, theirNo);
              assert.ok(myNo >= 1 && theirNo >= 1, `${myNo} ${theirNo}`);
              const tasks = await client.query({
                taskIds: [...mine.taskIds, ...theirs.taskIds],
              });
              assert.equal(
                tasks.length,
                mine.taskIds.length + theirs.taskIds.length,
              );
              for (const task of tasks) {
                const expected = mine.taskIds.includes(task.taskId)
                  ? myNo
                  : theirNo;
                assert.equal(task.clientNo, expected, Deno.inspect(task));
                assert.equal(task.state, "ok", Deno.inspect(task));
              }
            } finally {
              await client.close();
            }
          } finally {
            go.open();
            await other.kill();
          }
        });
      })
    );
  },
);

Deno.test(
  "a wrong client key, or the engine key, is refused at the client port; " +
    "the right key still works",
  async () => {
    await withTroupeHome((home) =>
      withCluster(home, "k1", ["--workers", "1"], async ({ state }) => {
        const at = { hostname: state.hostname, port: state.port };
        for (
          const [what, key] of [
            ["a wrong key", "wrong"],
            ["the engine key", state.engine.key],
          ]
        ) {
          const refused = await errorOf(
            Client.connect({ ...at, key }),
            `Client.connect with ${what}`,
            30_000,
          );
          assert.equal(refused.name, "HandshakeError", refused.stack);
          assert.match(
            refused.message,
            /key/i,
            `${what}: the message does not say it is the key: ` +
              refused.message,
          );
        }
        // The engine port does not take the client key either.
        const wrongPort = await errorOf(
          Client.connect({ ...state.engine, key: state.key }),
          "Client.connect to the engine port",
          30_000,
        );
        assert.equal(wrongPort.name, "HandshakeError", wrongPort.stack);

        const client = await Client.connect({ ...at, key: state.key });
        try {
          assert.deepEqual(
            await guard(
              client.view().applySync((x: number) => x + 1, 41),
              "a task with the right key",
              30_000,
            ),
            [42],
          );
        } finally {
          await client.close();
        }
      })
    );
  },
);
