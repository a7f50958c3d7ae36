import assert from "node:assert/strict";
import { checkLauncherOptions, shellQuote } from "./launcher_options.ts";
import { ssh } from "./ssh.ts";
import { slurm } from "./slurm.ts";
import { mpi } from "./mpi.ts";
import { runCommand } from "./run_command.ts";

Deno.test("a shell reads a quoted word back as it was", async () => {
  const words = ["plain", "it's", "a b", "$HOME", "`x`", "{slot}", '"q"', ""];
  const line = `printf '%s\\n' ${words.map(shellQuote).join(" ")}`;
  const { code, stdout } = await runCommand("sh", ["-c", line]);
  assert.equal(code, 0);
  assert.deepEqual(stdout.split("\n").slice(0, -1), words);
});

Deno.test("misspelt or wrong launcher options are errors that name them", () => {
  assert.throws(
    () => slurm({ engines: 2, partiton: "x" } as never),
    /partiton/,
  );
  assert.throws(() => mpi({ engines: 1.5 }), RangeError);
  assert.throws(
    () => checkLauncherOptions("x", null as unknown as object, {}),
    TypeError,
  );
  assert.throws(
    () => slurm({ engines: 1, sbatch: ["mem=4G"] }),
    /sbatch options/,
  );
  assert.throws(() => slurm({ engines: 1, drainSeconds: -1 }), /drainSeconds/);
  assert.throws(() => ssh({ hosts: {} }), /at least one host/);
  assert.throws(() => ssh({ hosts: { "a@b:c:d": 1 } }), /cannot read the host/);
  assert.throws(() => ssh({ hosts: { "a@b": -1 } }), RangeError);
});

Deno.test("ssh counts the engines of every host", () => {
  const launcher = ssh({
    hosts: { "me@node1": 2, "node2:2222": 3, "[::1]": 1 },
  });
  assert.equal(launcher.engines, 6);
});
