import assert from "node:assert/strict";
import { sampleState } from "../tests/controller_rig.ts";
import { until } from "../tests/helpers.ts";
import type { ClusterState } from "./cluster_state.ts";
import { controllerRuns, isAlive } from "./controller_liveness.ts";

function stateOf(id: string, pid: number): ClusterState {
  return sampleState(id, { pid });
}

Deno.test("isAlive: this process is, an exited one is not", async () => {
  assert.equal(isAlive(Deno.pid), true);
  assert.equal(isAlive(0), false);
  assert.equal(isAlive(-1), false);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "0"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const pid = child.pid;
  await child.status;
  assert.equal(isAlive(pid), false);
});

Deno.test("controllerRuns: a live pid counts only if it is that cluster's controller", async () => {
  // This test runner's pid is alive but no controller: a reused pid.
  assert.equal(controllerRuns(stateOf("sim", Deno.pid)), false);
  for (const idArgs of [["--id=sim"], ["--id", "sim"]]) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["eval", "setTimeout(() => {}, 60_000)", "controller", ...idArgs],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      // Its command line is empty until its exec is done.
      await until(
        () => Deno.readTextFileSync(`/proc/${child.pid}/cmdline`) !== "",
        "the child's exec",
      );
      assert.equal(controllerRuns(stateOf("sim", child.pid)), true);
      assert.equal(controllerRuns(stateOf("other", child.pid)), false);
    } finally {
      child.kill("SIGKILL");
      await child.status;
    }
    assert.equal(controllerRuns(stateOf("sim", child.pid)), false);
  }
});
