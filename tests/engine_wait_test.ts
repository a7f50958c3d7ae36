/**
 * Views with no engine to run on: load-balanced tasks for an engine that
 * was given up settle (never hang); with no engine and no listener, views
 * fail at once and say how to get engines; with a listener, load-balanced
 * tasks wait for engines to join.
 */

import assert from "node:assert/strict";
import {
  type AsyncResult,
  EngineError,
  engineId,
  TaskAbortedError,
} from "../mod.ts";
import { fileLatch } from "./file_latch.ts";
import { errorOf, guard, range, until, withClient } from "./helpers.ts";

/** How long anything that must not hang may take (never a speed test). */
const HANG_MS = 30_000;

Deno.test("LB tasks for an engine that was given up fail, never hang", async () => {
  const dir = await Deno.makeTempDir({ prefix: "troupe_views_" });
  try {
    await withClient({
      workers: 2,
      restart: { maxRestarts: 0, withinMs: 60_000 },
    }, async (client) => {
      const latch = fileLatch(dir, "then-exit");
      // engine 0 is busy, then exits and is given up (no restarts)
      const killer = client.view(0).applyAsync(async (wait: string) => {
        const end = Date.now() + 25_000;
        for (;;) {
          try {
            Deno.statSync(wait);
            break;
          } catch {
            if (Date.now() > end) break;
          }
          await new Promise((r) => setTimeout(r, 2));
        }
        Deno.exit(1);
      }, latch.path);
      await until(() => client.engines()[0].load > 0, "engine 0 busy", HANG_MS);
      const lv0 = client.loadBalancedView([0]);
      const queued = lv0.applyAsync(() => "ran");
      latch.open();
      const e = await errorOf(killer, "the task that exits", HANG_MS);
      assert.ok(e instanceof EngineError, String(e));
      await until(
        () => client.engines()[0].state === "stopped",
        "engine 0 given up",
        HANG_MS,
      );
      assert.deepEqual(client.ids, [1]);
      // untargeted work goes on on engine 1
      assert.equal(
        await client.loadBalancedView().applySync(() => engineId),
        1,
      );

      // queued for engine 0 before it was given up, or submitted after:
      // each settles (an error), neither waits forever
      const late = lv0.applyAsync(() => "ran");
      const settled = await Promise.all([
        guard(queued.wait(5_000), "queued.wait()", HANG_MS),
        guard(late.wait(5_000), "late.wait()", HANG_MS),
      ]);
      if (!queued.ready()) await queued.abort();
      if (!late.ready()) await late.abort();
      assert.deepEqual(
        settled,
        [true, true],
        "LB tasks for a given-up engine wait forever",
      );
      assert.equal(queued.successful(), false);
      assert.equal(late.successful(), false);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ------------------------------------------------------------- types

Deno.test("with no engine and no listener, views fail at once and say how to get engines", async () => {
  await withClient({ workers: 0 }, async (client) => {
    const lv = client.loadBalancedView();
    const submissions: [string, () => unknown][] = [
      ["lv.applyAsync", () => lv.applyAsync(() => 1)],
      ["lv.mapAsync", () => lv.mapAsync((x: number) => x, range(100))],
      ["dv.applyAsync", () => client.view().applyAsync(() => 1)],
    ];
    for (const [what, submit] of submissions) {
      let thrown: unknown;
      try {
        const ar = submit() as AsyncResult<unknown, boolean>;
        await ar.wait(1_000);
        await ar.abort();
      } catch (error) {
        thrown = error;
      }
      assert.ok(thrown instanceof Error, `${what} did not throw at once`);
      assert.ok(!(thrown instanceof EngineError), `${what}: ${thrown}`);
      const message = thrown.message;
      assert.match(message, /no engine/, what);
      assert.doesNotMatch(message, /died|maxRestarts/, what);
      assert.match(message, /workers: 4/, what);
      assert.match(message, /processes: 4/, what);
      assert.match(message, /listen: true/, what);
      assert.match(
        message,
        /deno run -A jsr:@troupe\/parallel\/engine --file conn\.json/,
        what,
      );
      assert.match(message, /waitForEngines/, what);
    }
  });
});

Deno.test("with no engine but a listener, load-balanced tasks wait for engines", async () => {
  await withClient({ workers: 0, listen: true }, async (client) => {
    const ar = client.loadBalancedView().applyAsync(() => 1);
    // Long enough for many scheduler sweeps: the task is still waiting.
    assert.equal(await ar.wait(300), false);
    assert.equal(ar.metadata.status, "queued");
    await ar.abort();
    assert.ok((await errorOf(ar)) instanceof TaskAbortedError);
  });
});
