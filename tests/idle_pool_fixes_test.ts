// The idle pool as views and the client's queries see it: a stopped pool's
// first call is planned for the engines its start brings, and queueStatus
// and engines() do not grow with every stop.
import assert from "node:assert/strict";
import { engineId, publishData, UnmetDependencyError } from "../mod.ts";
import { CLIENT_SIDES } from "./client_sides.ts";
import {
  ENGINE_KINDS,
  engines,
  errorOf,
  guard,
  range,
  suiteKind,
  until,
  withClientOn,
} from "./helpers.ts";

/** Short, so that the pool stops between the cycles of a test. */
const IDLE_MS = 100;

for (const side of CLIENT_SIDES) {
  for (const kind of ENGINE_KINDS) {
    const name = `${suiteKind(kind, side)} idle pool`;
    const options = { ...engines(kind, 3), idleTimeoutMs: 30_000 };

    Deno.test(`${name}: imap's default maxOutstanding, read while no engine is up, is twice the engines a start brings`, async () => {
      await withClientOn(side, options, async (client) => {
        assert.deepEqual(client.ids, []);
        let inFlight = 0;
        let most = 0;
        function* items() {
          for (const i of range(12)) {
            inFlight++;
            most = Math.max(most, inFlight);
            yield i;
          }
        }
        const lv = client.loadBalancedView();
        const seen = await guard(
          (async () => {
            const ran: number[] = [];
            for await (
              const ranOn of lv.imap(async (_: number) => {
                await new Promise((r) => setTimeout(r, 300));
                return engineId;
              }, items())
            ) {
              inFlight--;
              ran.push(ranOn as number);
            }
            return ran;
          })(),
          "imap on the idle pool",
          120_000,
        );
        assert.equal(seen.length, 12);
        // Planned for one engine, one item would be in flight at a time.
        assert.equal(most, 6, `at most ${most} items were in flight`);
      });
    });

    Deno.test(`${name}: mapAsync's default chunks, planned while no engine is up, are for the engines a start brings`, async () => {
      await withClientOn(side, options, async (client) => {
        assert.deepEqual(client.ids, []);
        const lv = client.loadBalancedView();
        const ar = lv.mapAsync((x: number) => x, range(600));
        // 600 items over 3 engines, 8 chunks each: 24 tasks (8 for one).
        assert.equal(ar.taskIds.length, 24);
        assert.deepEqual(await guard(ar, "the map", 120_000), range(600));
      });
    });

    Deno.test(`${name}: stop after stop, engines() keeps the last two stopped sets and queueStatus lists no stopped engine`, async () => {
      const cycling = { ...engines(kind, 2), idleTimeoutMs: IDLE_MS };
      await withClientOn(side, cycling, async (client) => {
        const lv = client.loadBalancedView();
        for (const cycle of range(5)) {
          await guard(
            lv.applyAsync(() => publishData({ cycle: 1 })),
            `cycle ${cycle}'s task`,
            60_000,
          );
          // Engines stopped before the question: the idle timer may stop
          // the others while it is answered (and a connected client hears
          // of that later than its controller does).
          const stoppedBefore = new Set(
            client.engines().filter((e) => e.state === "stopped")
              .map((e) => e.engineId),
          );
          const status = await client.queueStatus();
          for (const id of Object.keys(status.engines).map(Number)) {
            assert.ok(!stoppedBefore.has(id), `queueStatus lists ${id}`);
          }
          await until(
            () =>
              client.ids.length === 0 &&
              client.engines().every((e) => e.state === "stopped"),
            `cycle ${cycle}'s engines to stop`,
            30_000,
          );
          assert.deepEqual((await client.queueStatus()).engines, {});
          // Two stopped sets and the one that just stopped, at most (a
          // connected client hears of a forgotten set with the next start).
          const kept = client.engines().length;
          assert.ok(kept <= 6, `engines() has ${kept} after ${cycle + 1}`);
          // Nor do the latest publications keep a forgotten engine's.
          await until(
            () => {
              const ids = new Set(client.engines().map((e) => e.engineId));
              return [...client.registry.snapshot().keys()]
                .every((id) => ids.has(id));
            },
            "the registry to forget what engines() forgot",
            10_000,
          );
        }
        // A direct view of a forgotten engine says why it is not there.
        assert.throws(
          () => client.view(0),
          /there is no engine 0 \(an idle pool forgets the engines of all but its last two stops\)/,
        );
        // Ids are never given out again: the fifth start had ids 8 and 9.
        assert.deepEqual(
          client.engines().map((e) => e.engineId).slice(-2),
          [8, 9],
        );
      });
    });
  }
}

for (const side of CLIENT_SIDES) {
  for (const kind of ENGINE_KINDS) {
    Deno.test(`${suiteKind(kind, side)} idle pool: scale(n) of Workers or processes is an error that says how the pool starts, and starts nothing`, async () => {
      const options = { ...engines(kind, 2), idleTimeoutMs: 30_000 };
      await withClientOn(side, options, async (client) => {
        const error = await errorOf(client.scale(2), "scale(2)", 30_000);
        assert.match(
          error.message,
          /no launcher to scale.*idle pool.* starts .*on its first load-balanced task or on await client\.waitForEngines\(n\)/,
        );
        assert.deepEqual(client.engines(), []);
        // The pool still starts as it says.
        await guard(
          client.waitForEngines(2, { timeoutMs: 60_000 }),
          "waitForEngines",
          60_000,
        );
        assert.deepEqual(client.ids, [0, 1]);
      });
    });
  }
}

for (const side of CLIENT_SIDES) {
  for (const kind of ENGINE_KINDS) {
    const name = `${suiteKind(kind, side)} idle pool`;
    const options = { ...engines(kind, 1), idleTimeoutMs: IDLE_MS };
    const unmet =
      /its dependency, task \d+, ran on engine 0, which (is being retired|has stopped for good) \(the pool was idle for 100 ms \(idleTimeoutMs\).*\).*: follow needs the engine that ran the task it follows/;

    Deno.test(`${name}: a follow of an engine the pool retires, or retired, is an UnmetDependencyError that says so`, async () => {
      await withClientOn(side, options, async (client) => {
        const lv = client.loadBalancedView();
        const first = lv.applyAsync(() => engineId);
        assert.equal(await guard(first, "the first task", 60_000), 0);
        // Submitted as the engine drains: it takes no new task.
        const { promise: submitted, resolve } = Promise.withResolvers<
          { ar: PromiseLike<unknown> }
        >();
        const off = client.onEngineEvent((event) => {
          if (event.type !== "draining" && event.type !== "retired") return;
          off();
          resolve({ ar: lv.with({ follow: [first] }).applyAsync(() => 1) });
        });
        const { ar } = await guard(submitted, "the pool to stop", 30_000);
        const draining = await errorOf(ar, "the follow as it stops", 30_000);
        assert.ok(draining instanceof UnmetDependencyError, draining.message);
        assert.match(draining.message, unmet);
        // It names the task it follows, not itself.
        assert.equal(draining.dependency, first.taskIds[0]);
        await until(
          () => client.engines().every((e) => e.state === "stopped"),
          "the engines to stop",
          30_000,
        );
        const later = await errorOf(
          lv.with({ follow: [first] }).applyAsync(() => 1),
          "the follow once stopped",
          30_000,
        );
        assert.ok(later instanceof UnmetDependencyError, later.message);
        assert.match(later.message, unmet);
        assert.equal(later.dependency, first.taskIds[0]);
      });
    });
  }
}
