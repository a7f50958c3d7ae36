/**
 * A saved result (`ar.toJSON()`) names its controller's task history, so
 * that a controller started again under the same cluster id on a new
 * database (whose task ids start again at client 1) refuses to resume it
 * rather than follow another task that got the same id; the same database
 * reopened resumes it.
 */

import assert from "node:assert/strict";
import { type AsyncResultJSON, Client } from "../mod.ts";
import { guard, withController, withTempDir } from "./helpers.ts";

const quiet = { log: () => {} };

/** Runs `fn` on a client of `controller`, detached after. */
async function onClient<T>(
  clientInfo: { hostname: string; port: number; key: string },
  fn: (client: Client) => Promise<T>,
): Promise<T> {
  const client = await guard(
    Client.connect(clientInfo, quiet),
    "Client.connect",
  );
  try {
    return await fn(client);
  } finally {
    await guard(client.close(), "the client to detach");
  }
}

Deno.test("a result saved from one in-memory history is refused by the next controller of the same id", async () => {
  const id = "resume-identity";
  let saved: AsyncResultJSON | undefined;
  await withController({ id, engines: { workers: 1 } }, async (first) => {
    saved = await onClient(first.clientInfo, async (client) => {
      const ar = client.view(0).applyAsync((x: number) => x * 2, 21);
      assert.equal(await guard(ar, "the first run's task"), 42);
      return ar.toJSON();
    });
  });
  assert.equal(typeof saved!.historyId, "string");
  await withController({ id, engines: { workers: 1 } }, async (second) => {
    await onClient(second.clientInfo, async (client) => {
      // The danger: client 1 of the new history gets the same ids.
      const other = client.view(0).applyAsync(() => "another task");
      assert.deepEqual(other.taskIds, saved!.taskIds);
      await guard(other, "the second run's task");
      const now = other.toJSON().historyId!;
      assert.notEqual(now, saved!.historyId);
      assert.throws(() => client.resume(saved!), {
        name: "Error",
        message: `this result was saved from another history of cluster ` +
          `"${id}" (history ${saved!.historyId}, now ${now}): the ` +
          `controller was started on a new database, so its task ids ` +
          `name other tasks; the result is not there`,
      });
      assert.throws(() => client.resume(JSON.stringify(saved)), {
        message: /saved from another history of cluster/,
      });
      assert.throws(
        () => client.resume({ ...saved!, historyId: 7 } as never),
        { name: "TypeError", message: /historyId that is not a string/ },
      );
      // A result saved before history ids is read as version 1 was: only
      // its cluster id can be checked.
      const { historyId: _, ...older } = saved!;
      assert.equal(
        await guard(client.resume(older), "a result without historyId"),
        "another task",
      );
    });
  });
});

Deno.test("the same history file reopened by a new controller resumes a saved result", async () => {
  await withTempDir(async (dir) => {
    const options = {
      id: "resume-same-file",
      engines: { workers: 1 },
      history: { path: `${dir}/history.db` },
    };
    let saved: AsyncResultJSON | undefined;
    await withController(options, async (first) => {
      saved = await onClient(first.clientInfo, async (client) => {
        const ar = client.view(0).applyAsync((x: number) => x + 1, 41);
        await guard(ar, "the task");
        return ar.toJSON();
      });
    });
    await withController(options, async (again) => {
      await onClient(again.clientInfo, async (client) => {
        const resumed = client.resume(saved!);
        assert.equal(await guard(resumed, "the resumed result"), 42);
        assert.equal(resumed.toJSON().historyId, saved!.historyId);
      });
    });
  });
});
