/**
 * `Client.connect` checks its flags before it uses them, as `Client.start`
 * does: a script run without one stops with an error naming it, never a
 * prompt or Deno's own NotCapable about a file of troupe's. Real `deno`
 * scripts with narrow flags, a state file in a `TROUPE_HOME` of the test's.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { writeClusterState } from "../remote/cluster_state.ts";
import { sampleState, withTroupeHome } from "./controller_rig.ts";
import { guard } from "./helpers.ts";

const MOD = new URL("../mod.ts", import.meta.url).href;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;

/** Runs a script that connects to `target`, with `flags`; what it printed. */
async function connectWith(
  home: string,
  target: string | undefined,
  flags: string[],
): Promise<string> {
  const args = target === undefined
    ? ""
    : `${JSON.stringify(target)}, { timeoutMs: 5000 }`;
  const script = `
    import { Client } from "${MOD}";
    try {
      const client = await Client.connect(${args});
      await client.close();
      console.log("connected");
    } catch (error) {
      console.log(error.name + ": " + error.message);
    }
  `;
  // Loading modules needs no flag: the script has only `flags`.
  const path = join(home, "connect.ts");
  await Deno.writeTextFile(path, script);
  const { stdout, stderr } = await guard(
    new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", `--config=${CONFIG}`, ...flags, path],
      env: { TROUPE_HOME: home, NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn().output(),
    "the connecting script",
    60_000,
  );
  return new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
}

Deno.test("Client.connect checks its flags up front: env for an id, read of the state file, net to the controller", async () => {
  await withTroupeHome(async (home) => {
    // Nothing listens on port 9 (discard): the last step is the dial's
    // refusal, after every check passed.
    await writeClusterState(sampleState("sim", {
      pid: 999_999_999,
      port: 9,
      engine: { hostname: "127.0.0.1", port: 10, key: "engine key" },
      db: join(home, "clusters", "sim.sqlite"),
      startedAt: Date.now(),
    }));
    const dir = join(home, "clusters");
    const file = join(dir, "sim.json");
    const noEnv = await connectWith(home, "sim", []);
    assert.match(
      noEnv,
      /^NotCapable: Client.connect reads the cluster's state file, found through \$TROUPE_HOME \(or \$HOME\): run the script with --allow-env=TROUPE_HOME,HOME \(or -A\)/,
    );
    const noRead = await connectWith(home, "sim", [
      "--allow-env=TROUPE_HOME,HOME",
    ]);
    assert.match(
      noRead,
      new RegExp(
        `^NotCapable: Client.connect reads the cluster's state file ${file}: run the script with --allow-read=${dir} \\(or -A\\)`,
      ),
    );
    // By path: no env needed.
    const byPath = await connectWith(home, file, []);
    assert.match(byPath, /^NotCapable: .* --allow-read=/);
    const noNet = await connectWith(home, file, [`--allow-read=${dir}`]);
    assert.match(
      noNet,
      /^NotCapable: Client.connect dials the controller at 127\.0\.0\.1:9: run the script with --allow-net=127\.0\.0\.1 \(or -A\)/,
    );
    // With the README's flags, the checks pass: the dial is refused.
    const all = await connectWith(home, "sim", [
      "--allow-env=TROUPE_HOME,HOME",
      `--allow-read=${dir}`,
      "--allow-net=127.0.0.1",
    ]);
    assert.match(
      all,
      /^Error: no controller answers at 127\.0\.0\.1:9 for cluster sim/,
    );
    // No target: the cluster "default", which is not there.
    const none = await connectWith(home, undefined, [
      "--allow-env=TROUPE_HOME,HOME",
      `--allow-read=${dir}`,
    ]);
    assert.match(
      none,
      /^Error: there is no cluster "default": no state file .*\/clusters\/default\.json; troupe list/,
    );
  });
});
