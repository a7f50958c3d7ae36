/**
 * The restart policy of Worker engines, against real Workers: past
 * maxRestarts within withinMs an engine is given up and the others go on;
 * old restarts are forgotten; the policy changes at run time; backoff starts
 * immediate and doubles up to its cap.
 *
 * Waits are on events, never on the clock: the only timings asserted are
 * generous hang guards and lower bounds (backoff), plus an upper bound for
 * the backoff cap that has seconds of slack.
 */

import assert from "node:assert/strict";
import {
  CompositeError,
  EngineError,
  type EngineEvent,
  engineId,
  TimeoutError,
} from "../mod.ts";
import { engineErrorOf, EventLog } from "./event_log.ts";
import { errorOf, guard, latch, sleep, withClient } from "./helpers.ts";
import { exitWith, spinUntilOpen } from "./supervision_tasks.ts";

/**
 * What an engine that may be restarted twice goes through when it dies three
 * times: the events both policy tests expect of engine 0.
 */
const TWO_RESTARTS_THEN_GAVE_UP: EngineEvent["type"][] = [
  "died",
  "restarted",
  "died",
  "restarted",
  "died",
  "gaveUp",
];

/** The engine global that supervision_tasks.ts's setX and getX use. */
type G = { x?: unknown };

// ----------------------------------------------------- restart policy

Deno.test("past maxRestarts within withinMs an engine is given up; the others go on", async (t) => {
  const policy = { maxRestarts: 2, withinMs: 60_000, backoffMs: 10 };
  await withClient(
    { workers: 2, heartbeatMs: 200, restart: policy },
    async (client) => {
      assert.deepEqual(client.restartPolicy, policy);
      const log = new EventLog(client);
      // Engine 1 spins without yielding the whole time: heartbeats spare it.
      const gate = latch();
      const bystander = client.view(1).applyAsync(spinUntilOpen, gate.sab);
      // At each death of engine 0, someone waits for both engines.
      const waits: Promise<"up" | Error>[] = [];
      client.onEngineEvent((event) => {
        if (event.type === "died" && event.engineId === 0) {
          waits.push(
            client.waitForEngines(2).then(() => "up" as const, (e: Error) => e),
          );
        }
      });
      const view = client.view(0);

      try {
        await t.step("two deaths are restarted", async () => {
          for (const n of [1, 2]) {
            await engineErrorOf(view.applyAsync(exitWith, 5), `crash #${n}`);
            assert.equal((await log.nth(0, "restarted", n)).restarts, n);
            assert.equal(await guard(waits[n - 1], `waiter #${n}`), "up");
          }
          assert.deepEqual(client.ids, [0, 1]);
        });

        await t.step(
          "the third is given up; its tasks fail, nothing hangs",
          async () => {
            const killer = view.applyAsync(exitWith, 5);
            const queued = view.applyAsync(() => "never runs");
            const died = await log.nth(0, "died", 3);
            const gaveUp = await log.nth(0, "gaveUp", 1);
            assert.ok(gaveUp.at >= died.at);
            assert.match(
              gaveUp.reason,
              /5/,
              "the gaveUp reason says why it died",
            );
            assert.deepEqual(log.typesOf(0), TWO_RESTARTS_THEN_GAVE_UP);
            await engineErrorOf(killer, "the killing task");
            await engineErrorOf(queued, "a task queued behind it");
            assert.equal(await guard(queued.wait(), "queued.wait()"), true);

            // the waiter that started at this death does not wait forever
            const waited = await guard(waits[2], "waiter #3");
            assert.ok(
              waited instanceof Error,
              `waitForEngines(2) gave ${waited}`,
            );
            assert.ok(!(waited instanceof TimeoutError));
          },
        );

        await t.step(
          "a given-up engine is stopped and out of the ids",
          async () => {
            assert.deepEqual(client.ids, [1]);
            const status = client.engines()[0];
            assert.equal(status.state, "stopped");
            assert.equal(status.restarts, 2);
            assert.match(status.deathReason ?? "", /5/);
            assert.equal(client.engines()[1].state, "busy");

            const late = client.view(0).applyAsync(() => "never runs");
            const e = await engineErrorOf(
              late,
              "a task sent to a given-up engine",
            );
            assert.equal(e.engineId, 0);
            assert.equal(late.metadata.status, "error");

            // waitForEngines: at once, not after its timeout
            const w = await errorOf(
              client.waitForEngines(2, { timeoutMs: 60_000 }),
              "waitForEngines(2)",
            );
            assert.ok(!(w instanceof TimeoutError), w.message);
            await guard(client.waitForEngines(1), "waitForEngines(1)");

            // view() targets the live engines only; naming engine 0 fails
            // that part alone
            const all = client.view().applyAsync(() => engineId);
            assert.deepEqual(all.engineIds, [1]);
            const both = client.view([0, 1]).applyAsync(() => engineId);
            gate.open();
            assert.deepEqual(await guard(all, "view() after a give-up"), [1]);
            const c = await errorOf(both, "view([0, 1]) after a give-up");
            assert.ok(c instanceof CompositeError, `${c.name}: ${c.message}`);
            assert.deepEqual(c.results, [undefined, 1]);
            assert.ok(c.errors[0] instanceof EngineError);
          },
        );

        await t.step("the other engine never noticed", async () => {
          assert.equal(
            await guard(bystander, "the spinning bystander"),
            "released",
          );
          assert.deepEqual(log.of(1), []);
          assert.equal(client.engines()[1].restarts, 0);
          assert.equal(waits.length, 3);
        });
      } finally {
        gate.open();
        await bystander.wait();
      }
    },
  );
});

Deno.test("maxRestarts 0: the first death gives the engine up", async () => {
  await withClient({
    workers: 2,
    restart: { maxRestarts: 0, withinMs: 60_000 },
  }, async (client) => {
    const log = new EventLog(client);
    await engineErrorOf(client.view(0).applyAsync(exitWith, 5), "crash");
    const gaveUp = await log.nth(0, "gaveUp", 1);
    assert.equal(typeof gaveUp.reason, "string");
    assert.deepEqual(log.typesOf(0), ["died", "gaveUp"]);
    assert.deepEqual(client.ids, [1]);
    assert.deepEqual(await client.view().applySync(() => engineId), [1]);
    assert.deepEqual(log.of(1), []);
  });
});

Deno.test("restarts older than withinMs are forgotten; the policy changes at run time", async () => {
  await withClient({
    workers: 1,
    restart: { maxRestarts: 1, withinMs: 300, backoffMs: 1 },
  }, async (client) => {
    const log = new EventLog(client);
    const view = client.view(0);

    await engineErrorOf(view.applyAsync(exitWith, 5), "crash #1");
    await log.nth(0, "restarted", 1);
    // More than withinMs after the first death: it no longer counts.
    await sleep(400);
    await engineErrorOf(view.applyAsync(exitWith, 5), "crash #2");
    assert.equal((await log.nth(0, "restarted", 2)).restarts, 2);
    assert.deepEqual(client.ids, [0]);

    assert.throws(() => {
      client.restartPolicy = { maxRestarts: -1, withinMs: 1_000 };
    }, RangeError);
    assert.throws(() => {
      client.restartPolicy = { maxRestarts: 1, withinMs: 0 };
    }, RangeError);
    assert.equal(client.restartPolicy.withinMs, 300, "a bad policy was kept");

    const policy = { maxRestarts: 1, withinMs: 60_000 };
    client.restartPolicy = policy;
    assert.deepEqual(client.restartPolicy, policy);
    // Now death #2 is within the period: death #3 is one too many.
    await engineErrorOf(view.applyAsync(exitWith, 5), "crash #3");
    await log.nth(0, "gaveUp", 1);
    assert.deepEqual(log.typesOf(0), TWO_RESTARTS_THEN_GAVE_UP);
    assert.deepEqual(client.ids, []);
    assert.equal(client.engines()[0].state, "stopped");
  });
});

Deno.test("restart backoff: the first restart is immediate, then it doubles up to the cap", async () => {
  await withClient({
    workers: 1,
    restart: { maxRestarts: 20, withinMs: 60_000, backoffMs: 4_000 },
  }, async (client) => {
    const log = new EventLog(client);
    const view = client.view(0);
    const gaps: number[] = [];
    const crash = async (n: number) => {
      await engineErrorOf(view.applyAsync(exitWith, 5), `crash #${n}`);
      const died = await log.nth(0, "died", n);
      const restarted = await log.nth(0, "restarted", n, 15_000);
      assert.equal(restarted.restarts, n);
      gaps[n] = restarted.at - died.at;
    };

    // 1st: not delayed by the (long) backoff
    await crash(1);
    assert.ok(gaps[1] < 4_000, `the first restart waited ${gaps[1]} ms`);

    const backoffMs = 100;
    const maxBackoffMs = 200;
    client.restartPolicy = {
      maxRestarts: 20,
      withinMs: 60_000,
      backoffMs,
      maxBackoffMs,
    };

    // 2nd: waits backoffMs; a task sent meanwhile waits for the new engine
    await engineErrorOf(view.applyAsync(exitWith, 5), "crash #2");
    const died = await log.nth(0, "died", 2);
    assert.equal(client.engines()[0].state, "restarting");
    assert.deepEqual(client.ids, []);
    const meanwhile = view.applyAsync(() => [engineId, (globalThis as G).x]);
    const restarted = await log.nth(0, "restarted", 2);
    gaps[2] = restarted.at - died.at;
    assert.deepEqual(await guard(meanwhile, "a task sent during backoff"), [
      0,
      undefined,
    ]);

    // 3rd to 6th: 2 x backoffMs, then capped (uncapped: 400, 800, 1600 ms)
    for (const n of [3, 4, 5, 6]) await crash(n);

    assert.ok(gaps[2] >= backoffMs, `gap before restart 2: ${gaps[2]}`);
    for (const n of [3, 4, 5, 6]) {
      assert.ok(gaps[n] >= maxBackoffMs, `gap before restart ${n}: ${gaps[n]}`);
    }
    assert.ok(
      gaps[6] < backoffMs * 2 ** 4,
      `restart 6 waited ${
        gaps[6]
      } ms: maxBackoffMs ${maxBackoffMs} was not applied`,
    );
    assert.equal(client.engines()[0].restarts, 6);
  });
});
