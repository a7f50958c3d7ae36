import assert from "node:assert/strict";
import { sampleState, withTroupeHome } from "../tests/controller_rig.ts";
import {
  type ClusterState,
  clusterStateDir,
  clusterStatePath,
  listClusterStates,
  readClusterState,
  removeClusterState,
  troupeHome,
  writeClusterState,
} from "./cluster_state.ts";

/** A state file with a config of flags to restart with. */
function stateOf(id: string): ClusterState {
  return sampleState(id, {
    config: { workers: 2, "sbatch-arg": ["--exclusive"] },
    startedAt: 1_700_000_000_000,
  });
}

Deno.test("a state file is written whole, 0600, in a 0700 folder, and read back by id or path", async () => {
  await withTroupeHome(async (home) => {
    assert.equal(troupeHome(), home);
    assert.equal(clusterStateDir(), `${home}/clusters`);
    const path = await writeClusterState(stateOf("sim"));
    assert.equal(path, `${home}/clusters/sim.json`);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(`${home}/clusters`)).mode! & 0o777, 0o700);
    assert.deepEqual(await readClusterState("sim"), stateOf("sim"));
    assert.deepEqual(await readClusterState(path), stateOf("sim"));
    // Written again (a restart): replaced, still 0600.
    await writeClusterState({ ...stateOf("sim"), port: 40003 });
    assert.equal((await readClusterState("sim")).port, 40003);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.deepEqual(
      Array.from(Deno.readDirSync(`${home}/clusters`), (e) => e.name),
      ["sim.json"],
    );
  });
});

Deno.test("a state folder others could enter is closed to them first", async () => {
  await withTroupeHome(async (home) => {
    await Deno.mkdir(`${home}/clusters`, { mode: 0o755 });
    await Deno.chmod(`${home}/clusters`, 0o755);
    await writeClusterState(stateOf("sim"));
    assert.equal((await Deno.stat(`${home}/clusters`)).mode! & 0o777, 0o700);
  });
});

Deno.test("a cluster with no state file is named with its file and troupe list", async () => {
  await withTroupeHome(async (home) => {
    await assert.rejects(readClusterState("nope"), (error: Error) => {
      assert.equal(
        error.message,
        `there is no cluster "nope": no state file ${home}/clusters/nope.json; ` +
          "troupe list shows the clusters there are, and troupe start --id " +
          "<id> starts one",
      );
      assert.ok(error.cause instanceof Deno.errors.NotFound);
      return true;
    });
    await assert.rejects(
      readClusterState(`${home}/x.json`),
      new RegExp(`^Error: there is no state file ${home}/x.json; troupe list`),
    );
  });
});

Deno.test("an id that could name another file is refused", async () => {
  await withTroupeHome(async () => {
    for (const id of ["..", "-x", "a b", "a\\b", ".hidden", ""]) {
      await assert.rejects(
        readClusterState(id),
        (error: Error) => {
          assert.ok(error instanceof TypeError, `${id}: ${error}`);
          assert.match(error.message, /cluster|troupe list/);
          return true;
        },
      );
    }
    assert.throws(() => clusterStatePath("../up"), /is not a cluster id/);
  });
});

Deno.test("a malformed state file is a clear error that names it", async () => {
  await withTroupeHome(async (home) => {
    const dir = `${home}/clusters`;
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(`${dir}/torn.json`, '{"version": 1, "id": "to');
    await assert.rejects(
      readClusterState("torn"),
      new RegExp(
        `^Error: ${dir}/torn.json is not a troupe state file \\(not JSON: `,
      ),
    );
    const { key: _, ...keyless } = stateOf("keyless");
    await Deno.writeTextFile(`${dir}/keyless.json`, JSON.stringify(keyless));
    await assert.rejects(
      readClusterState("keyless"),
      new RegExp(
        `^Error: ${dir}/keyless.json is not a troupe state file \\(no key\\)`,
      ),
    );
    await Deno.writeTextFile(
      `${dir}/future.json`,
      JSON.stringify({ ...stateOf("future"), version: 2 }),
    );
    await assert.rejects(readClusterState("future"), /\(version 2, not 1\)/);
    // The list leaves them out and keeps the good one.
    await writeClusterState(stateOf("good"));
    assert.deepEqual(
      (await listClusterStates()).map((s) => s.id),
      ["good"],
    );
  });
});

Deno.test("listClusterStates sorts by id; removeClusterState deletes, twice is fine", async () => {
  await withTroupeHome(async () => {
    assert.deepEqual(await listClusterStates(), []);
    await writeClusterState(stateOf("b"));
    await writeClusterState(stateOf("a"));
    assert.deepEqual((await listClusterStates()).map((s) => s.id), ["a", "b"]);
    await removeClusterState("a");
    await removeClusterState("a");
    assert.deepEqual((await listClusterStates()).map((s) => s.id), ["b"]);
  });
});

Deno.test("troupeHome: a relative TROUPE_HOME is made absolute; without it, ~/.troupe", () => {
  const before = Deno.env.get("TROUPE_HOME");
  try {
    Deno.env.set("TROUPE_HOME", "some/where");
    assert.equal(troupeHome(), `${Deno.cwd()}/some/where`);
    Deno.env.delete("TROUPE_HOME");
    assert.equal(troupeHome(), `${Deno.env.get("HOME")}/.troupe`);
  } finally {
    if (before === undefined) Deno.env.delete("TROUPE_HOME");
    else Deno.env.set("TROUPE_HOME", before);
  }
});
