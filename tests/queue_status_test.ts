/**
 * `client.queueStatus()` (ipyparallel's `queue_status()`) on both engine
 * kinds and both client sides: engines held by latch files, tasks queued
 * behind them on an engine and in the scheduler.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ClientClosedError, type QueueStatus } from "../mod.ts";
import {
  eachEngineKind,
  errorOf,
  guard,
  until,
  withClient,
} from "./helpers.ts";
import { fileLatch, holdUntilFile } from "./file_latch.ts";

eachEngineKind("client.queueStatus", 2, async ({ t, client, dir }) => {
  await t.step("idle engines count what they completed", async () => {
    await guard(client.view().applyAsync(() => 1), "a task on each engine");
    await guard(client.view(1).applyAsync(() => 2), "another on engine 1");
    const status = await guard(client.queueStatus(), "queueStatus");
    assert.deepEqual(Object.keys(status.engines), ["0", "1"]);
    assert.equal(status.unassigned, 0);
    for (const id of [0, 1]) {
      const { queued, running, completed } = status.engines[id];
      assert.deepEqual({ queued, running }, { queued: 0, running: 0 });
      assert.ok(completed >= id + 1, `engine ${id} completed ${completed}`);
    }
    // The same count as the engines' tasksDone (on a connected client, once
    // its mirror of the engines has heard).
    await until(
      () =>
        client.engines().every((e) =>
          e.tasksDone === status.engines[e.engineId].completed
        ),
      "tasksDone to match completed",
    );
  });

  await t.step(
    "held engines, tasks behind them and in the scheduler",
    async () => {
      const before = (await client.queueStatus()).engines;
      const go = fileLatch(dir, "go");
      const held = [
        client.view(0).applyAsync(holdUntilFile, go.path),
        client.view(1).applyAsync(holdUntilFile, go.path),
      ];
      // Two more for engine 0, behind its held task.
      const behind = [
        client.view(0).applyAsync(() => "behind"),
        client.view(0).applyAsync(() => "behind"),
      ];
      // One at a time per engine: these wait in the scheduler.
      const lv = client.loadBalancedView({ highWaterMark: 1 });
      const balanced = [1, 2, 3].map((x) => lv.applyAsync((y: number) => y, x));
      const expected: QueueStatus = {
        engines: {
          0: { queued: 2, running: 1, completed: before[0].completed },
          1: { queued: 0, running: 1, completed: before[1].completed },
        },
        unassigned: 3,
      };
      let last: QueueStatus | undefined;
      await until(
        async () => {
          last = await client.queueStatus();
          return Deno.inspect(last) === Deno.inspect(expected);
        },
        `the queues to be ${Deno.inspect(expected)} (last ${
          Deno.inspect(last)
        })`,
      );
      go.open();
      await guard(
        Promise.all([...held, ...behind, ...balanced]),
        "all",
        30_000,
      );
      const after = await client.queueStatus();
      assert.equal(after.unassigned, 0);
      const completed = [0, 1].map((id) => after.engines[id].completed);
      assert.equal(
        completed[0] + completed[1] - before[0].completed - before[1].completed,
        2 + 2 + 3,
        "every task counted once, on the engine it ran on",
      );
      for (const id of [0, 1]) {
        assert.deepEqual(
          { ...after.engines[id], completed: 0 },
          { queued: 0, running: 0, completed: 0 },
        );
      }
    },
  );

  await t.step("a task waiting for its dependency is unassigned", async () => {
    const go = fileLatch(dir, "dependency");
    const held = client.view(0).applyAsync(holdUntilFile, go.path);
    const lv = client.loadBalancedView().with({ after: [held] });
    const dependent = lv.applyAsync(() => "after");
    await until(async () => {
      const { engines, unassigned } = await client.queueStatus();
      return engines[0].running === 1 && unassigned === 1;
    }, "the dependent to wait, unassigned");
    go.open();
    assert.equal(await guard(dependent, "the dependent", 30_000), "after");
    assert.equal((await client.queueStatus()).unassigned, 0);
  });
});

Deno.test("client.queueStatus after close is a ClientClosedError", async () => {
  await withClient({ workers: 1 }, async (client) => {
    await client.close();
    const error = await errorOf(client.queueStatus(), "queueStatus");
    assert.ok(error instanceof ClientClosedError, String(error));
  });
});
