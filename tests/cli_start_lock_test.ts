/**
 * `troupe start` is exclusive per cluster id (cli/start_lock.ts): two at
 * once run one controller, the other is refused and removes nothing; a
 * lock left by a SIGKILLed start does not block the next one. Real CLI
 * processes in a `TROUPE_HOME` of the test's own.
 */

import assert from "node:assert/strict";
import { processesMatching } from "./cluster_services.ts";
import {
  readState,
  troupe,
  withCluster,
  withTroupeHome,
} from "./controller_rig.ts";
import { until, withTempDir } from "./helpers.ts";
import { madeByStart } from "../cli/start_verb.ts";

/** The names in `home`'s clusters folder that belong to cluster `id`. */
async function filesOf(home: string, id: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(`${home}/clusters`)) {
    if (entry.name.startsWith(`${id}.`)) names.push(entry.name);
  }
  return names.sort();
}

Deno.test("two troupe starts of one id at once: one runs, the other is refused and deletes nothing of it", async () => {
  await withTroupeHome(async (home) => {
    const controllers = `controller --id=race --log=${home}/`;
    const start = () =>
      troupe(home, ["start", "--id", "race", "--workers", "1"], 60_000);
    try {
      const [a, b] = await Promise.all([start(), start()]);
      const results = [a, b].sort((x, y) => x.code - y.code);
      assert.deepEqual(
        results.map((r) => r.code),
        [0, 2],
        a.stdout + a.stderr + b.stdout + b.stderr,
      );
      assert.match(
        results[1].stderr,
        /^troupe start: cluster race is (being started or run by another troupe \(pid \d+, lock .*race\.lock\)|running \(pid \d+\): stop it first)/,
      );
      const state = await readState(home, "race");
      assert.deepEqual(await processesMatching(controllers), [state.pid]);
      assert.ok(
        (await filesOf(home, "race")).includes("race.sqlite"),
        "the running cluster's history is there",
      );
      const stopped = await troupe(home, ["stop", "race"]);
      assert.equal(stopped.code, 0, stopped.stderr);
      await until(
        async () => (await processesMatching(controllers)).length === 0,
        "no controller of race left",
        30_000,
      );
      assert.ok(
        !(await filesOf(home, "race")).includes("race.lock"),
        "the controller gave its lock back",
      );
      assert.ok((await filesOf(home, "race")).includes("race.sqlite"));
    } finally {
      for (const pid of await processesMatching(controllers)) {
        Deno.kill(pid, "SIGKILL");
      }
    }
  });
});

Deno.test("a start lock held by a live process refuses the start, naming it; nothing is made", async () => {
  await withTroupeHome(async (home) => {
    await Deno.mkdir(`${home}/clusters`, { mode: 0o700 });
    await Deno.writeTextFile(`${home}/clusters/held.lock`, `${Deno.pid}\n`);
    const refused = await troupe(home, ["start", "--id", "held"], 60_000);
    if (refused.code === 0) {
      // Not refused: the cluster it started must not outlive the test.
      await troupe(home, ["stop", "held"]);
    }
    assert.equal(refused.code, 2, refused.stdout + refused.stderr);
    assert.equal(
      refused.stderr.trim(),
      `troupe start: cluster held is being started or run by another troupe ` +
        `(pid ${Deno.pid}, lock ${home}/clusters/held.lock): wait for it, ` +
        "troupe list shows it once it runs; if that process is not " +
        "troupe's, remove the lock file",
    );
    assert.deepEqual(await filesOf(home, "held"), ["held.lock"]);
  });
});

Deno.test("a start lock left by a dead process (a SIGKILLed start) is taken over", async () => {
  await withTroupeHome(async (home) => {
    const gone = new Deno.Command("true").spawn();
    await gone.status;
    await Deno.mkdir(`${home}/clusters`, { mode: 0o700 });
    await Deno.writeTextFile(`${home}/clusters/stale.lock`, `${gone.pid}\n`);
    await withCluster(home, "stale", ["--workers", "1"], async () => {
      // The controller holds it for its life now, under its own pid.
      const state = await readState(home, "stale");
      const holder = Number(
        (await Deno.readTextFile(`${home}/clusters/stale.lock`)).trim(),
      );
      assert.equal(holder, state.pid, "the controller's, not the dead one's");
    });
  });
});

Deno.test("a failed start removes SQLite's journals only with a database it made", async () => {
  await withTempDir(async (dir) => {
    const log = `${dir}/c.log`;
    const db = `${dir}/c.sqlite`;
    assert.deepEqual(
      [...await madeByStart(log, db)].sort(),
      [db, `${db}-journal`, `${db}-shm`, `${db}-wal`, log].sort(),
      "a new cluster: everything is the start's",
    );
    // A cluster stopped cleanly leaves its database alone: a restart that
    // fails may have written the journals, which hold its frames.
    await Deno.writeTextFile(db, "");
    await Deno.writeTextFile(log, "");
    assert.deepEqual([...await madeByStart(log, db)], []);
    assert.deepEqual([...await madeByStart(log, ":memory:")], []);
  });
});
