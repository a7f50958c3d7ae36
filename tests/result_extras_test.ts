/**
 * ipyparallel's result extras on every engine kind and client side:
 * `ar.wallTime`, `ar.serialTime` (the engines' own run times, which cross
 * the controller's wire in each task's outcome), `ar.displayOutputs()`
 * (run in a subprocess, whose real stdout and stderr are read) and
 * `ar.waitInteractive()`'s result and bound.
 */

import assert from "node:assert/strict";
import { CLIENT_SIDES } from "./client_sides.ts";
import {
  eachEngineKind,
  ENGINE_KINDS,
  errorOf,
  guard,
  suiteKind,
} from "./helpers.ts";
import { fileLatch, holdUntilFile } from "./file_latch.ts";
import { runCommand } from "../launch/run_command.ts";

/** Busy for `ms` by the engine's clock: the run time is known to be more. */
function busy(ms: number): number {
  const end = performance.now() + ms;
  while (performance.now() < end);
  return ms;
}

/** The run times `metadata` says, to the millisecond its Dates keep. */
function metadataRunTimes(
  metadata: { started: Date | null; completed: Date | null }[],
): number {
  return metadata.reduce(
    (sum, m) => sum + (m.completed!.getTime() - m.started!.getTime()),
    0,
  );
}

eachEngineKind("wallTime and serialTime", 2, async ({ t, client, dir }) => {
  await t.step(
    "undefined until done, then the engines' run times",
    async () => {
      const ar = client.view().applyAsync(busy, 30);
      assert.equal(ar.wallTime, undefined);
      assert.equal(ar.serialTime, undefined);
      await guard(ar, "the busy tasks");
      // Each engine ran for 30 ms or more by its own clock.
      assert.ok(ar.serialTime! >= 60, `serialTime ${ar.serialTime}`);
      // The same times as metadata's, which keeps them to the millisecond.
      const fromMetadata = metadataRunTimes(ar.metadata);
      assert.ok(
        Math.abs(ar.serialTime! - fromMetadata) <= 2,
        `serialTime ${ar.serialTime} vs metadata's ${fromMetadata}`,
      );
      // From before the first submission to after the last end.
      assert.equal(ar.wallTime, ar.elapsed);
      assert.ok(ar.wallTime! >= 30, `wallTime ${ar.wallTime}`);
    },
  );

  await t.step("a load-balanced map sums its chunks", async () => {
    const ar = client.loadBalancedView().mapAsync(busy, [10, 10, 10, 10], {
      chunkSize: 1,
    });
    await guard(ar, "the map");
    assert.ok(ar.serialTime! >= 40, `serialTime ${ar.serialTime}`);
    assert.ok(
      Math.abs(ar.serialTime! - metadataRunTimes(ar.metadata)) <= 4,
    );
  });

  await t.step("a failed task's run counts too", async () => {
    const ar = client.view(0).applyAsync((ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end);
      throw new Error("after the work");
    }, 20);
    await errorOf(ar, "the failing task");
    assert.ok(ar.serialTime! >= 20, `serialTime ${ar.serialTime}`);
  });

  await t.step(
    "waitInteractive: false at its bound, true when done",
    async () => {
      const latch = fileLatch(dir, "extras");
      const ar = client.view(1).applyAsync(holdUntilFile, latch.path);
      assert.equal(await ar.waitInteractive({ timeoutMs: 50 }), false);
      assert.equal(ar.ready(), false);
      assert.equal(ar.wallTime, undefined);
      latch.open();
      assert.equal(
        await guard(ar.waitInteractive({ intervalMs: 20 }), "waitInteractive"),
        true,
      );
      assert.equal(await ar, "released");
      assert.ok(ar.wallTime! >= ar.serialTime!);
    },
  );

  await t.step("waitInteractive: bad options are clear errors", async () => {
    const ar = client.view(0).applyAsync(() => 1);
    await guard(ar, "the task");
    await assert.rejects(
      ar.waitInteractive({ timeoutMS: 10 } as never),
      /unknown option "timeoutMS" in waitInteractive options \(did you mean "timeoutMs"\?\)/,
    );
    await assert.rejects(
      ar.waitInteractive({ intervalMs: 0 }),
      /intervalMs must be a positive number of ms, not 0/,
    );
    await assert.rejects(
      ar.waitInteractive({ timeoutMs: -1 }),
      /timeoutMs must be a number of ms, 0 or more, not -1/,
    );
    await assert.rejects(
      ar.waitInteractive(5 as never),
      /waitInteractive takes an options object/,
    );
  });
});

const OUTPUTS = new URL("./fixtures/result_outputs.ts", import.meta.url)
  .pathname;

// What the fixture's tasks print (engine 0, then engine 1), grouped by
// engine: each task's stdout, then its stderr.
const BY_ENGINE_STDOUT = [
  "[stdout:0] one line from 0",
  "[stdout:1]",
  "two lines",
  "from 1",
].join("\n");
const BY_ENGINE_STDERR =
  "[stderr:0] a warning from 0\n[stderr:1] a warning from 1";

for (const side of CLIENT_SIDES) {
  for (const kind of ENGINE_KINDS) {
    Deno.test(`displayOutputs prints to stdout and stderr on 2 ${suiteKind(kind, side)} engines`, async () => {
      const run = await runCommand(Deno.execPath(), [
        "run",
        "-A",
        "--frozen",
        OUTPUTS,
        side,
        kind,
      ], { timeoutMs: 120_000 });
      assert.equal(
        run.code,
        0,
        `the fixture failed:\n${run.stdout}\n${run.stderr}`,
      );
      const out = run.stdout.trimEnd().split("\n--\n");
      const err = run.stderr.trimEnd().split("\n--\n");
      assert.deepEqual(out, [
        // groupBy "engine" (the default), in the direct view's order.
        BY_ENGINE_STDOUT,
        // groupBy "type": the same streams, stdout before stderr.
        BY_ENGINE_STDOUT,
        // A view of [1, 0]: its engine order.
        "[stdout:1] a\n[stdout:0] b",
        // A single-engine result has no header.
        "single\nresult",
        "nothing printed:",
      ]);
      assert.deepEqual(err, [
        BY_ENGINE_STDERR,
        BY_ENGINE_STDERR,
        "[stderr:1] w1",
        "its warning",
        `unknown option "groupby" in displayOutputs options (did you mean "groupBy"?); the known options are groupBy`,
      ]);
    });
  }
}
