/**
 * `troupe start --db`: where the controller keeps its task history, as a
 * user names it (real `deno` processes, a `TROUPE_HOME` of the test's own).
 */

import assert from "node:assert/strict";
import { Client } from "../mod.ts";
import { configOf } from "../cli/controller_verb.ts";
import { readState, withCluster, withTroupeHome } from "./controller_rig.ts";
import { guard } from "./helpers.ts";

Deno.test("troupe start --db :memory: keeps the history in SQLite's memory: no file of that name, results still fetched", async () => {
  // The CLI runs in this process's folder: a resolved name would be here.
  const named = `${Deno.cwd()}/:memory:`;
  await assert.rejects(Deno.lstat(named), Deno.errors.NotFound);
  await withTroupeHome((home) =>
    withCluster(home, "mem", ["--workers", "1", "--db", ":memory:"], async ({
      state,
    }) => {
      assert.equal(state.db, ":memory:");
      assert.deepEqual(state.config, { workers: 1, db: ":memory:" });
      assert.equal((await readState(home, "mem")).db, ":memory:");
      const client = await Client.connect("mem");
      try {
        const ar = client.loadBalancedView().applyAsync(
          (x: number) => x + 1,
          41,
        );
        assert.equal(await guard(ar.get(), "a task"), 42);
        assert.deepEqual(
          await guard(client.getResult(ar.taskIds), "getResult from memory"),
          [42],
        );
      } finally {
        await client.close();
      }
    })
  );
  await assert.rejects(Deno.lstat(named), Deno.errors.NotFound);
});

Deno.test("a --db path is made absolute where it was given; :memory: is left as it is", () => {
  assert.equal(configOf({ db: ":memory:" }, undefined).db, ":memory:");
  assert.equal(configOf({}, { db: ":memory:" }).db, ":memory:");
  assert.equal(
    configOf({ db: "runs/h.sqlite" }, undefined).db,
    `${Deno.cwd()}/runs/h.sqlite`,
  );
});
