/**
 * How a Worker engine dies, against real Workers: every way an engine can
 * die is detected with its reason, its running and queued tasks fail with
 * it, nothing hangs, and it is restarted under its id while the others never
 * notice; `abort()` of a task that never yields restarts its engine
 * deliberately (not counted against the restart policy). The same on every
 * kind of engine: engine_kind_failures.case.ts.
 *
 * Waits are on events, never on the clock.
 */

import assert from "node:assert/strict";
import {
  CompositeError,
  EngineError,
  engineId,
  TaskAbortedError,
} from "../mod.ts";
import { engineErrorOf, EventLog } from "./event_log.ts";
import {
  errorOf,
  guard,
  latch,
  range,
  RESTART_AT_ONCE,
  withClient,
} from "./helpers.ts";
import {
  exitWith,
  forever,
  getX,
  setX,
  spin,
  waitUntilOpen,
} from "./supervision_tasks.ts";

// ------------------------------------------------------ ways of dying

/** One way for a task to end its engine. */
interface Death {
  name: string;
  /** The task that ends the engine, at once or through what it leaves. */
  kill: () => unknown;
  /**
   * How the killing task itself ends: normally (what it left behind kills
   * the engine later), with the engine's EngineError, or either (a race
   * inside Deno that is not troupe's to decide).
   */
  killer: "returns" | "fails" | "either";
  /** What the died event and the EngineErrors must say. */
  reason: RegExp;
}

const DEATHS: Death[] = [
  {
    name: "an uncaught exception in a timer the task left behind",
    kill: () => {
      setTimeout(() => {
        throw new Error("late");
      }, 10);
      return "returned";
    },
    killer: "returns",
    reason: /late/,
  },
  {
    name: "an unhandled rejection the task left behind",
    kill: () => {
      Promise.reject(new Error("rejected late"));
      return "returned";
    },
    killer: "returns",
    reason: /rejected late/,
  },
  {
    name: "an uncaught exception while the task awaits",
    kill: () =>
      new Promise(() => {
        setTimeout(() => {
          throw new Error("thrown while awaiting");
        }, 10);
      }),
    killer: "fails",
    reason: /thrown while awaiting/,
  },
  {
    name: "Deno.exit(3) in the task",
    kill: () => Deno.exit(3),
    killer: "fails",
    reason: /\b3\b/,
  },
  {
    name: "close() in the task",
    kill: () => {
      (globalThis as unknown as { close(): void }).close();
      return "returned";
    },
    killer: "either",
    reason: /exit|clos/i,
  },
  {
    name: "running out of memory in a synchronous loop",
    kill: () => {
      const hoard = [];
      while (true) {
        hoard.push({ x: new Array(1e4).fill(0).map((_, j) => ({ j })) });
      }
    },
    killer: "fails",
    reason: /memory/i,
  },
  {
    name: "running out of memory after an await (found by the heartbeat)",
    kill: async () => {
      await null;
      const hoard = [];
      while (true) {
        hoard.push({ x: new Array(1e4).fill(0).map((_, j) => ({ j })) });
      }
    },
    killer: "fails",
    reason: /memory/i,
  },
];

Deno.test("every way a Worker engine dies is detected, and nothing hangs", async (t) => {
  await withClient({
    workers: 3,
    maxHeapMb: 64,
    heartbeatMs: 200,
    restart: RESTART_AT_ONCE,
  }, async (client) => {
    const log = new EventLog(client);
    // Engine 2 looks on: a task that lasts the whole test and a global.
    await client.view(2).applySync(setX, "engine 2 keeps this");
    const gate = latch();
    const bystander = client.view(2).applyAsync(waitUntilOpen, gate.sab);

    try {
      for (const death of DEATHS) {
        await t.step(death.name, async () => {
          const view = client.view(0);
          const n = log.of(0, "died").length + 1;
          await view.applySync(setX, "before");
          assert.equal(await view.applySync(getX), "before");

          const killer = view.applyAsync(death.kill);
          // running when the engine dies (killer done) or queued behind it
          const pending = view.applyAsync(forever);
          const queued = view.applyAsync(() => "never runs");

          const died = await log.nth(0, "died", n);
          assert.match(died.reason, death.reason);
          assert.equal(died.deliberate, false);
          assert.ok(!died.ids.includes(0), `ids at death: ${died.ids}`);
          assert.ok(died.ids.includes(2), `ids at death: ${died.ids}`);
          assert.equal(died.engines[0].state, "restarting");
          assert.equal(died.engines[0].deathReason, died.reason);

          if (death.killer === "returns") {
            assert.equal(await guard(killer, "killer"), "returned");
          } else if (death.killer === "fails") {
            const e = await engineErrorOf(killer, "the killing task");
            assert.equal(e.reason, died.reason);
          } else {
            await guard(killer.wait(), "killer");
            if (!killer.successful()) {
              const e = await engineErrorOf(killer, "the killing task");
              assert.equal(e.reason, died.reason);
            }
          }
          for (const [what, ar] of Object.entries({ pending, queued })) {
            const e = await engineErrorOf(ar, `the ${what} task`);
            assert.equal(e.reason, died.reason);
            assert.equal(await guard(ar.wait(), `${what}.wait()`), true);
            assert.equal(ar.successful(), false);
            assert.equal(ar.metadata.status, "error");
          }

          const restarted = await log.nth(0, "restarted", n);
          assert.equal(restarted.restarts, n);
          assert.ok(restarted.at >= died.at);
          assert.ok(restarted.ids.includes(0));
          await guard(client.waitForEngines(3), "waitForEngines(3)");
          assert.deepEqual(client.ids, [0, 1, 2]);
          assert.equal(await view.applySync(getX), undefined, "globals lost");
          assert.equal(await view.applySync(() => engineId), 0, "same id");
          const status = client.engines()[0];
          assert.equal(status.restarts, n);
          assert.equal(status.state, "idle");
          assert.match(status.deathReason ?? "", death.reason);
        });
      }

      await t.step(
        "a multi-engine view where one engine dies: CompositeError keeps the other values",
        async () => {
          const n = log.of(1, "died").length + 1;
          const ar = client.view([0, 1]).applyAsync(() =>
            engineId === 1 ? Deno.exit(4) : `value of ${engineId}`
          );
          const e = await errorOf(ar, "the multi-engine result");
          assert.ok(e instanceof CompositeError, `${e.name}: ${e.message}`);
          assert.deepEqual(e.results, ["value of 0", undefined]);
          assert.equal(e.errors.length, 1);
          const [lost] = e.errors;
          assert.ok(lost instanceof EngineError, String(lost));
          assert.equal(lost.engineId, 1);
          assert.equal(lost.taskId, ar.taskIds[1]);
          assert.match(lost.reason, /\b4\b/);
          assert.deepEqual(ar.metadata.map((m) => m.status), ["ok", "error"]);
          assert.equal(await guard(ar.wait(), "ar.wait()"), true);
          assert.equal(ar.successful(), false);
          await log.nth(1, "restarted", n);
        },
      );

      await t.step("the other engines never noticed", async () => {
        gate.open();
        assert.equal(await guard(bystander, "the bystander"), "released");
        assert.equal(
          await client.view(2).applySync(getX),
          "engine 2 keeps this",
        );
        assert.deepEqual(log.of(2), []);
        assert.equal(client.engines()[2].restarts, 0);
        assert.equal(client.engines()[0].restarts, DEATHS.length);
        assert.deepEqual(
          log.typesOf(0),
          DEATHS.flatMap(() => ["died", "restarted"]),
        );
      });
    } finally {
      gate.open();
      await bystander.wait();
    }
  });
});

// ------------------------------------------------------------- abort

Deno.test("abort() of a task that never yields restarts its engine deliberately", async (t) => {
  await withClient({
    workers: 2,
    // One counted restart only: the deliberate ones must not use it up.
    restart: { maxRestarts: 1, withinMs: 60_000, backoffMs: 1 },
  }, async (client) => {
    const log = new EventLog(client);
    const gate = latch();
    const bystander = client.view(1).applyAsync(waitUntilOpen, gate.sab);
    const view = client.view(0);
    try {
      for (const n of [1, 2]) {
        await t.step(
          `abort #${n}: the task fails, the queue survives`,
          async () => {
            await view.applySync(setX, "before");
            const running = view.applyAsync(spin);
            const behind = view.applyAsync(getX);
            const behindToo = view.applyAsync(() => engineId);
            assert.equal(running.metadata.status, "running");
            assert.equal(client.engines()[0].currentTaskId, running.taskIds[0]);

            await guard(running.abort(), "abort() of a spinning task");
            assert.equal(running.ready(), true);
            const e = await errorOf(running, "the aborted task");
            assert.ok(e instanceof TaskAbortedError, `${e.name}: ${e.message}`);
            assert.equal(e.engineId, 0);
            assert.equal(e.taskId, running.taskIds[0]);
            assert.equal(running.metadata.status, "aborted");
            assert.ok(running.metadata.error instanceof TaskAbortedError);

            const died = await log.nth(0, "died", n);
            assert.equal(died.deliberate, true);
            assert.equal(typeof died.reason, "string");
            const restarted = await log.nth(0, "restarted", n);
            assert.equal(restarted.restarts, n);

            // queued behind it: kept, and run on the new engine
            assert.equal(
              await guard(behind, "a task queued behind"),
              undefined,
            );
            assert.equal(await guard(behindToo, "a task queued behind"), 0);
            assert.deepEqual(client.ids, [0, 1]);
            assert.equal(client.engines()[0].restarts, n);
            assert.deepEqual(
              log.typesOf(0),
              range(n).flatMap(() => ["died", "restarted"]),
            );
          },
        );
      }

      await t.step(
        "deliberate restarts did not count: a crash is still restarted once, then given up",
        async () => {
          const first = view.applyAsync(exitWith, 5);
          await engineErrorOf(first, "the first crash");
          const died = await log.nth(0, "died", 3);
          assert.equal(died.deliberate, false);
          assert.equal((await log.nth(0, "restarted", 3)).restarts, 3);
          assert.deepEqual(client.ids, [0, 1]);

          const second = view.applyAsync(exitWith, 6);
          await engineErrorOf(second, "the second crash");
          const gaveUp = await log.nth(0, "gaveUp", 1);
          assert.equal(typeof gaveUp.reason, "string");
          assert.deepEqual(client.ids, [1]);
          assert.deepEqual(log.of(1), [], "engine 1 noticed");
        },
      );
    } finally {
      gate.open();
      assert.equal(await guard(bystander, "the bystander"), "released");
    }
  });
});
