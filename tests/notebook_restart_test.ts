/**
 * Runs examples/detached_cluster.ipynb in Deno's Jupyter kernel with a real
 * kernel restart in the middle (Python's `jupyter_client` drives the
 * kernel: tests/fixtures/controller/notebook_restart.py), and checks that
 * the restart lost nothing: the cells after it reconnect to the cluster,
 * resume the simulation from its saved JSON, show its data and its result
 * and find it in the history; the last cell stops the cluster, and nothing
 * of it is left. Skipped when Python's jupyter_client or the deno
 * kernelspec is missing: `.ci/install_notebook.sh` installs them.
 *
 * As in notebook_test.ts, Deno's kernel now and then publishes an output
 * after the cell's idle status; the driver waits a little for such late
 * outputs, and a run that still lacks one the checks need (but shows no
 * error) is run again, up to three runs in all.
 */

import assert from "node:assert/strict";
import { runCommand } from "../launch/run_command.ts";
import { isLive } from "./cluster_services.ts";
import { skipUnless, until } from "./helpers.ts";
import { findPython } from "./jupyter_kernel.ts";
import { statePath, stopLeftover, withTroupeHome } from "./controller_rig.ts";

const NOTEBOOK =
  new URL("../examples/detached_cluster.ipynb", import.meta.url).pathname;
const DRIVER =
  new URL("./fixtures/controller/notebook_restart.py", import.meta.url)
    .pathname;
const CLUSTER = "nb-demo";
const ATTEMPTS = 3;

interface Output {
  type: string;
  name?: string;
  text?: string;
  ename?: string;
  evalue?: string;
  traceback?: string[];
}

interface DriverResult {
  cells: { id: string; outputs: Output[] }[];
  restarted: boolean;
  state: { pid: number; id: string } | null;
}

const found = await findPython();
const skip = skipUnless(
  "notebook_restart_test.ts",
  found.missing,
  ".ci/install_notebook.sh installs what it needs",
);

// deno-lint-ignore no-control-regex
const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "");

/** Everything cell `id` printed or displayed, as plain text. */
function textOf(result: DriverResult, id: string): string {
  const cell = result.cells.find((c) => c.id === id);
  return plain((cell?.outputs ?? []).map((o) => o.text ?? "").join("\n"));
}

/** The outputs the checks read that this run lacks. */
function missing(result: DriverResult): string[] {
  const wanted: [string, RegExp][] = [
    ["reconnect", /step:\s*\d+/],
    ["live", /result \{ steps: 30, x: -?[\d.e-]+ \}/],
    ["history", /getResult \[/],
    ["stop", /stopped/],
  ];
  return wanted.filter(([id, re]) => !re.test(textOf(result, id)))
    .map(([id]) => `cell ${id}'s output`);
}

Deno.test({
  name: "examples/detached_cluster.ipynb loses nothing in a kernel restart" +
    skip.because,
  ignore: skip.ignore,
  async fn() {
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      let lost: string[] = [];
      await withTroupeHome(async (home) => {
        try {
          const run = await runCommand(found.python!, [
            DRIVER,
            NOTEBOOK,
            CLUSTER,
            "120",
          ], { env: { TROUPE_HOME: home, NO_COLOR: "1" }, timeoutMs: 600_000 });
          assert.equal(
            run.code,
            0,
            `the notebook driver failed:\n${run.stdout}\n${
              run.stderr.slice(-4000)
            }`,
          );
          const result: DriverResult = JSON.parse(run.stdout);
          assert.equal(result.restarted, true, "the kernel was not restarted");
          for (const cell of result.cells) {
            const error = cell.outputs.find((o) => o.type === "error");
            assert.ok(
              error === undefined,
              `cell ${cell.id} threw ${error?.ename}: ${error?.evalue}\n` +
                plain((error?.traceback ?? []).join("\n")),
            );
          }
          const codeCells = JSON.parse(await Deno.readTextFile(NOTEBOOK))
            .cells.filter((c: { cell_type: string }) => c.cell_type === "code");
          assert.equal(result.cells.length, codeCells.length, "cells skipped");

          // The controller the first kernel started has stopped with the
          // last cell, and left no state file.
          const pid = result.state?.pid;
          assert.equal(typeof pid, "number", Deno.inspect(result.state));
          await until(
            async () => !(await isLive(pid!)),
            `the controller (pid ${pid}) to exit after shutdown()`,
            30_000,
          );
          await assert.rejects(
            Deno.stat(statePath(home, CLUSTER)),
            Deno.errors.NotFound,
          );

          lost = missing(result);
          if (lost.length > 0) {
            console.log(
              `notebook run ${attempt}: missing ${lost.join(", ")}` +
                (attempt < ATTEMPTS ? "; running it again" : ""),
            );
            return;
          }
          const saved = JSON.parse(
            await Deno.readTextFile(`${home}/nb-demo-ar.json`),
          );
          const [taskId] = saved.taskIds as number[];
          const history = textOf(result, "history");
          assert.match(
            history,
            new RegExp(`history \\[[^\\]]*\\b${taskId}\\b`),
          );
          assert.match(history, new RegExp(`task ${taskId} ok on engine \\d`));
          assert.match(history, /getResult \[ \{ steps: 30, x: /);
          // The data after the restart is the simulation's.
          assert.match(textOf(result, "reconnect"), /x:\s*-?[\d.]/);
        } finally {
          if (await stopLeftover(home, CLUSTER)) {
            console.error("the notebook left its cluster running: stopped");
          }
        }
      });
      if (lost.length === 0) return;
    }
    assert.fail(`every run lost an output the checks need`);
  },
});
