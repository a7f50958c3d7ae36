import assert from "node:assert/strict";
import { outputBlocks, type TaskOutput } from "./result_outputs.ts";

const tasks: TaskOutput[] = [
  { engineId: 2, stdout: "one\n", stderr: "warn 2\n" },
  { engineId: 0, stdout: "", stderr: "" },
  { engineId: 1, stdout: "a\nb", stderr: "\nstarts on a new line\nx\n" },
];

Deno.test("outputBlocks: headers, grouping, and ipyparallel's line rules", async (t) => {
  await t.step("by engine: each task's stdout, then its stderr", () => {
    assert.deepEqual(outputBlocks(tasks, false), [
      { name: "stdout", text: "[stdout:2] one" },
      { name: "stderr", text: "[stderr:2] warn 2" },
      // Several lines start on the line after the header.
      { name: "stdout", text: "[stdout:1]\na\nb" },
      // Text that starts with a newline already does.
      { name: "stderr", text: "[stderr:1] \nstarts on a new line\nx" },
    ]);
  });

  await t.step("by type: every stdout, then every stderr", () => {
    assert.deepEqual(
      outputBlocks(tasks, false, { groupBy: "type" }).map((b) => b.name),
      ["stdout", "stdout", "stderr", "stderr"],
    );
  });

  await t.step("a single-engine result has no header", () => {
    assert.deepEqual(outputBlocks([tasks[2]], true), [
      { name: "stdout", text: "a\nb" },
      { name: "stderr", text: "\nstarts on a new line\nx" },
    ]);
  });

  await t.step("bad options are clear errors", () => {
    assert.throws(
      () => outputBlocks(tasks, false, { groupBy: "engines" as never }),
      /groupBy must be "engine" or "type", not "engines"/,
    );
    assert.throws(
      () => outputBlocks(tasks, false, { group: "type" } as never),
      /unknown option "group" in displayOutputs options/,
    );
    assert.throws(
      () => outputBlocks(tasks, false, "type" as never),
      /displayOutputs takes an options object such as \{ groupBy: "type" \}, not "type"/,
    );
  });
});
