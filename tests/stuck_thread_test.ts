import assert from "node:assert/strict";
import { EngineError, engineId } from "../mod.ts";
import { errorOf, guard, sleep, withClient } from "./helpers.ts";

for (const kind of ["worker", "process"] as const) {
  const options = kind === "worker"
    ? { workers: 2, heartbeatMs: 100 }
    : { workers: 0, processes: 2, heartbeatMs: 100 };
  Deno.test(`a ${kind} engine stuck outside any task is taken for dead, never a hang`, async () => {
    await withClient(options, async (client) => {
      // The task returns, but leaves a timer that never gives the thread back.
      await client.view(1).applySync(() => {
        setTimeout(() => {
          // Stuck for the test, not for the rest of the run (deno#35657:
          // a terminated Worker that spins keeps spinning).
          const end = Date.now() + 20_000;
          while (Date.now() < end) { /* stuck */ }
        }, 0);
        return "returned";
      });
      await sleep(50); // The timer fires and takes the thread.
      const next = client.view(1).applyAsync(() => "never runs");
      const error = await errorOf(next, "the task behind the stuck timer");
      assert.ok(error instanceof EngineError, String(error));
      assert.match(error.reason, /stuck outside any task/);
      // The engine comes back under its id; the other never noticed.
      await guard(client.waitForEngines(2), "the restart");
      assert.deepEqual(
        await guard(client.view().applySync(() => engineId), "both engines"),
        [0, 1],
      );
    });
  });
}

Deno.test("a Worker running a task that never yields is not taken for dead", async () => {
  await withClient({ workers: 1, heartbeatMs: 100 }, async (client) => {
    const spins = await guard(
      client.view(0).applySync(() => {
        const end = Date.now() + 1000;
        let n = 0;
        while (Date.now() < end) n++;
        return n > 0;
      }),
      "a 1 s busy loop",
    );
    assert.equal(spins, true);
    assert.equal(client.engines()[0].restarts, 0);
  });
});
