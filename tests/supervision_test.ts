/**
 * Supervision of Worker engines, against real Workers: heartbeats spare busy
 * loops and find engines that stopped answering; the lifecycle is
 * observable (engines(), onEngineEvent) and a listener that throws stops
 * nothing; `close()` ends everything promptly. How engines die:
 * supervision_deaths_test.ts; the restart policy: restart_policy_test.ts.
 *
 * Waits are on events, never on the clock.
 */

import assert from "node:assert/strict";
import { type EngineEvent, engineId } from "../mod.ts";
import { liveWorkerCount } from "../transport/worker_link.ts";
import { engineErrorOf, EventLog } from "./event_log.ts";
import { guard, latch, withClient } from "./helpers.ts";
import { exitWith, spin, waitUntilOpen } from "./supervision_tasks.ts";

// --------------------------------------------------------- heartbeats

Deno.test("heartbeats: a busy loop is not death; an idle engine that stopped answering is", async () => {
  await withClient({ workers: 2, heartbeatMs: 200 }, async (client) => {
    const log = new EventLog(client);
    const busy = client.view(0).applyAsync((ms: number) => {
      const end = Date.now() + ms;
      let turns = 0;
      while (Date.now() < end) turns++;
      return turns > 0 ? "done" : "no turns";
    }, 2_500);

    // Engine 1 is idle from the client's view, but its thread is stuck in a
    // timer that its last task left behind: it stops answering.
    assert.equal(
      await client.view(1).applySync(() => {
        setTimeout(() => {
          let n = 0;
          for (;;) n++;
        }, 0);
        return "left a timer";
      }),
      "left a timer",
    );
    const died = await log.nth(1, "died", 1);
    assert.match(died.reason, /heartbeat/);
    assert.equal(died.deliberate, false);
    await log.nth(1, "restarted", 1);
    assert.equal(await client.view(1).applySync(() => engineId), 1);

    assert.equal(await guard(busy, "a 2.5 s busy loop"), "done");
    assert.deepEqual(log.of(0), [], "the busy engine was taken for dead");
    assert.equal(client.engines()[0].restarts, 0);
    assert.deepEqual(client.ids, [0, 1]);
  });
});

// ---------------------------------------------------------- lifecycle

Deno.test("the lifecycle is observable: engines() and onEngineEvent", async (t) => {
  await withClient({ workers: 2 }, async (client) => {
    await t.step("engines() at rest", () => {
      const snapshot = client.engines();
      assert.deepEqual(snapshot.map((s) => s.engineId), [0, 1]);
      for (const s of snapshot) {
        assert.equal(s.kind, "worker");
        assert.equal(s.state, "idle");
        assert.equal(s.restarts, 0);
        assert.equal(s.tasksDone, 0);
        assert.equal(s.currentTaskId, undefined);
        assert.equal(s.load, 0);
        assert.equal(s.deathReason, undefined);
      }
    });

    await t.step(
      "died and restarted, with an unsubscribed listener",
      async () => {
        const log = new EventLog(client);
        const heard: EngineEvent[] = [];
        const unsubscribe = client.onEngineEvent((e) => heard.push(e));
        unsubscribe();
        unsubscribe();

        const gate = latch();
        const running = client.view(0).applyAsync(waitUntilOpen, gate.sab);
        const queued = client.view(0).applyAsync(() => "queued");
        const busy = client.engines()[0];
        assert.equal(busy.state, "busy");
        assert.equal(busy.currentTaskId, running.taskIds[0]);
        assert.equal(busy.load, 2);

        const killer = client.view(1).applyAsync(exitWith, 7);
        const e = await engineErrorOf(killer, "the killing task");
        const died = await log.nth(1, "died", 1);
        assert.deepEqual(
          { type: died.type, engineId: died.engineId, reason: died.reason },
          { type: "died", engineId: 1, reason: e.reason },
        );
        assert.equal(died.deliberate, false);
        assert.match(died.reason, /\b7\b/);
        assert.deepEqual(died.ids, [0]);
        assert.equal(died.engines[1].state, "restarting");
        assert.equal(died.engines[1].deathReason, died.reason);
        assert.equal(died.engines[1].currentTaskId, undefined);
        assert.equal(died.engines[1].load, 0);

        const restarted = await log.nth(1, "restarted", 1);
        assert.deepEqual(
          {
            type: restarted.type,
            engineId: restarted.engineId,
            restarts: restarted.restarts,
          },
          { type: "restarted", engineId: 1, restarts: 1 },
        );
        assert.deepEqual(restarted.ids, [0, 1]);
        assert.equal(restarted.engines[1].state, "idle");
        assert.deepEqual(log.typesOf(1), ["died", "restarted"]);
        assert.deepEqual(log.of(0), []);

        gate.open();
        assert.equal(await guard(running, "running"), "released");
        assert.equal(await guard(queued, "queued"), "queued");
        const after = client.engines();
        assert.equal(after[0].tasksDone, 2);
        assert.equal(after[0].state, "idle");
        assert.equal(after[1].restarts, 1);
        assert.equal(after[1].deathReason, died.reason);
        assert.deepEqual(heard, [], "an unsubscribed listener was called");
        log.stop();
      },
    );
  });
});

Deno.test("a listener that throws does not stop supervision or the other listeners", async () => {
  // Whether the client reports the listener's error (reportError) or logs
  // it, the test must not die of it.
  const swallow = (e: Event) => e.preventDefault();
  globalThis.addEventListener("error", swallow);
  try {
    await withClient({ workers: 1 }, async (client) => {
      client.onEngineEvent(() => {
        throw new Error("a listener that throws");
      });
      const log = new EventLog(client);
      await engineErrorOf(client.view(0).applyAsync(exitWith, 5), "crash");
      await log.nth(0, "died", 1, 3_000);
      await log.nth(0, "restarted", 1, 3_000);
      assert.equal(
        await guard(client.view(0).applyAsync(() => engineId), "task"),
        0,
      );
    });
  } finally {
    globalThis.removeEventListener("error", swallow);
  }
});

// -------------------------------------------------------------- close

Deno.test("close() ends promptly: spinning engines, a pending backoff, waiters", async () => {
  await withClient({
    workers: 3,
    restart: { maxRestarts: 5, withinMs: 60_000, backoffMs: 60_000 },
  }, async (client) => {
    const log = new EventLog(client);
    // Engine 2 dies twice: its second restart waits a minute.
    const view2 = client.view(2);
    await engineErrorOf(view2.applyAsync(exitWith, 5), "crash #1");
    await log.nth(2, "restarted", 1);
    await engineErrorOf(view2.applyAsync(exitWith, 5), "crash #2");
    await log.nth(2, "died", 2);
    assert.equal(client.engines()[2].state, "restarting");
    const duringBackoff = view2.applyAsync(() => "never runs");
    const waiter = client.waitForEngines(3);
    waiter.catch(() => {}); // checked below; must not go unhandled meanwhile

    const spinning = client.view(0).applyAsync(spin);
    const behind = client.view(0).applyAsync(() => "never runs");
    const awaiting = client.view(1).applyAsync(() => {
      setInterval(() => {}, 1);
      return new Promise<never>(() => {});
    });
    assert.equal(client.engines()[0].state, "busy");

    await guard(client.close(), "close()");
    assert.equal(liveWorkerCount(), 0);
    for (const ar of [duringBackoff, spinning, behind, awaiting]) {
      const e = await engineErrorOf(ar, "a task of a closed client");
      assert.match(e.reason, /close/);
      assert.equal(await guard(ar.wait(), "wait()"), true);
    }
    assert.deepEqual(client.ids, []);
    for (const s of client.engines()) assert.equal(s.state, "stopped");
    // close() has resolved: the waiter must have settled too (3 s of slack)
    const e = await guard(
      waiter.then(() => undefined, (e: Error) => e),
      "waitForEngines(3) pending at close()",
      3_000,
    );
    assert.ok(e instanceof Error, "waitForEngines(3) resolved after close()");
    assert.match(e.message, /close/);
  });
});
