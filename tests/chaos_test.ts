/**
 * Chaos: a load-balanced map with `retries` on Worker and process engines
 * while engine processes are killed with SIGKILL at random and Worker
 * engines exit or throw in timers at random. Every task settles exactly
 * once, with its right value or an `EngineError`, within a bound; then the
 * cluster works. The schedule is random from a seed, printed first (set
 * `TROUPE_CHAOS_SEED` to replay one); the assertions are not.
 */

import assert from "node:assert/strict";
import { CompositeError, EngineError, engineId } from "../mod.ts";
import { childPids } from "./hand_engine.ts";
import { rng } from "./frame_streams.ts";
import { guard, range, sleep, until, withClient } from "./helpers.ts";

const WORKERS = 2;
const PROCESSES = 2;
const ITEMS = 1200;

/**
 * One item of the map, shipped to the engines. On a Worker engine (ids
 * below `workers`) an item fated to end it does: `exit` ends the thread,
 * `throw` throws from a timer after the item's value is returned.
 */
async function item(
  [x, fate, workers]: [number, "live" | "exit" | "throw", number],
): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 4));
  if (engineId < workers && fate === "exit") Deno.exit(7);
  if (engineId < workers && fate === "throw") {
    setTimeout(() => {
      throw new Error("chaos: thrown in a timer");
    }, 0);
  }
  return x * x;
}

Deno.test("chaos: kill -9, exits and throws in timers under a retrying map", async () => {
  const seed = Number(
    Deno.env.get("TROUPE_CHAOS_SEED") ?? Date.now() % 2 ** 31,
  );
  console.log(`chaos seed ${seed} (TROUPE_CHAOS_SEED=${seed} replays it)`);
  // The same seed, the same chaos.
  const { next } = rng(seed);
  const fates = range(ITEMS).map(() => {
    const r = next();
    return r < 0.01 ? "exit" : r < 0.02 ? "throw" : "live";
  });
  await withClient(
    {
      workers: WORKERS,
      processes: PROCESSES,
      heartbeatMs: 250,
      // Chaos is not a reason to give engines up: they must all come back.
      restart: {
        maxRestarts: 10_000,
        withinMs: 60_000,
        backoffMs: 10,
        maxBackoffMs: 100,
      },
    },
    async (client) => {
      const lb = client.loadBalancedView({ retries: 1 });
      const ar = lb.mapAsync(
        item,
        range(ITEMS).map((x) => [x, fates[x], WORKERS]),
        { chunkSize: 1 },
      );
      // SIGKILLs at random moments to random engine processes, until done.
      let kills = 0;
      const killer = (async () => {
        while (!ar.ready() && kills < 12) {
          await sleep(150 + next() * 450);
          if (ar.ready()) break;
          const pids = await childPids();
          // pgrep takes a while: the map may have ended meanwhile, and a
          // kill after it would race the checks of the cluster below.
          if (ar.ready()) break;
          if (pids.length === 0) continue;
          try {
            Deno.kill(pids[Math.floor(next() * pids.length)], "SIGKILL");
            kills++;
          } catch {
            // Gone between pgrep and kill: its death is on its way anyway.
          }
        }
      })();
      let values: unknown[];
      try {
        values = await guard(ar, "the chaos map", 60_000);
      } catch (error) {
        assert.ok(
          error instanceof CompositeError,
          `the map failed with ${error}, not a CompositeError of lost tasks`,
        );
        for (const e of error.errors) {
          assert.ok(e instanceof EngineError, `${e.name}: ${e.message}`);
        }
        values = error.results;
      }
      await killer;
      // Each task settled once: progress counts each item once, and each
      // task's record holds one outcome, its right value or an EngineError.
      assert.equal(ar.progress, ITEMS);
      const metadata = ar.metadata;
      assert.equal(metadata.length, ITEMS);
      let lost = 0;
      for (const [x, m] of metadata.entries()) {
        if (m.status === "ok") assert.equal(values[x], x * x, `item ${x}`);
        else {
          lost++;
          assert.equal(m.status, "error", `item ${x}: ${m.status}`);
          assert.ok(m.error instanceof EngineError, `item ${x}: ${m.error}`);
          assert.equal(values[x], undefined);
        }
      }
      console.log(
        `chaos: ${kills} kills, ${
          fates.filter((f) => f !== "live").length
        } items fated to end a Worker, ${lost} of ${ITEMS} tasks lost`,
      );
      // The cluster works afterwards: every engine is back and takes work.
      await until(
        () => client.ids.length === WORKERS + PROCESSES,
        "every engine to be back",
        20_000,
      );
      assert.deepEqual(
        await guard(
          lb.mapAsync((x: number) => x + 1, range(200)),
          "a fresh map",
          20_000,
        ),
        range(200).map((x) => x + 1),
      );
      assert.deepEqual(
        await guard(
          client.view(range(WORKERS + PROCESSES)).applyAsync(() => engineId),
          "every engine",
        ),
        range(WORKERS + PROCESSES),
      );
    },
  );
});
