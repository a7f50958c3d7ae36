/**
 * Supervision of Worker engines, against real Workers: every way an engine
 * can die is detected with its reason; nothing hangs; a dead engine is
 * restarted under its id (or given up) by the restart policy; `abort()` of a
 * running task restarts its engine deliberately; heartbeats spare busy loops;
 * `close()` ends everything; the lifecycle is observable.
 *
 * Waits are on events, never on the clock: the only timings asserted are
 * generous hang guards and lower bounds (backoff), plus an upper bound for
 * the backoff cap that has seconds of slack.
 */

import assert from "node:assert/strict";
import {
  type Client,
  CompositeError,
  EngineError,
  type EngineEvent,
  engineId,
  type EngineStatus,
  TaskAbortedError,
  TimeoutError,
} from "../mod.ts";
import { liveWorkerCount } from "../transport/worker_link.ts";
import { errorOf, guard, latch, range, sleep, withClient } from "./helpers.ts";

// ---------------------------------------------------------------- helpers

/**
 * How long an awaited engine event may take (never a speed test): the same
 * bound as the hang guards' default.
 */
const HANG_MS = 10_000;

/** The `EngineError` that `p` rejects with; checks engine and task. */
async function engineErrorOf(
  p: PromiseLike<unknown> & { taskIds: number[]; engineIds: number[] },
  what: string,
): Promise<EngineError> {
  const e = await errorOf(p, what);
  assert.ok(e instanceof EngineError, `${what}: ${e.name}: ${e.message}`);
  assert.equal(e.engineId, p.engineIds[0], what);
  assert.equal(e.taskId, p.taskIds[0], what);
  assert.equal(typeof e.reason, "string");
  assert.ok(e.reason.length > 0, `${what}: empty reason`);
  return e;
}

/** An engine event, when it was heard, and the client as it was then. */
type Logged<T extends EngineEvent["type"] = EngineEvent["type"]> =
  & Extract<EngineEvent, { type: T }>
  & { at: number; ids: number[]; engines: EngineStatus[] };

/**
 * Records every engine event of a client, with the time and a snapshot of
 * `client.ids` and `client.engines()` taken inside the listener, and lets a
 * test wait for the n-th event of a kind (events that already happened
 * count, so there is no race between an action and the wait for its event).
 */
class EventLog {
  readonly events: Logged[] = [];
  readonly stop: () => void;
  #wake = new Set<() => void>();

  constructor(client: Client) {
    this.stop = client.onEngineEvent((event) => {
      this.events.push({
        ...event,
        at: performance.now(),
        ids: client.ids,
        engines: client.engines(),
      });
      for (const wake of [...this.#wake]) wake();
    });
  }

  /** The events of one engine, optionally of one type, in order. */
  of<T extends EngineEvent["type"]>(id: number, type?: T): Logged<T>[] {
    return this.events.filter((e) =>
      e.engineId === id && (type === undefined || e.type === type)
    ) as Logged<T>[];
  }

  /** Types of one engine's events, in order. */
  typesOf(id: number): string[] {
    return this.of(id).map((e) => e.type);
  }

  /** Resolves with engine `id`'s `n`-th (1-based) event of `type`. */
  nth<T extends EngineEvent["type"]>(
    id: number,
    type: T,
    n: number,
    timeoutMs = HANG_MS,
  ): Promise<Logged<T>> {
    const { promise, resolve, reject } = Promise.withResolvers<Logged<T>>();
    const check = () => {
      const found = this.of(id, type)[n - 1];
      if (!found) return;
      this.#wake.delete(check);
      clearTimeout(timer);
      resolve(found);
    };
    const timer = setTimeout(() => {
      this.#wake.delete(check);
      reject(
        new Error(
          `hang guard: no ${type} event #${n} for engine ${id} in ` +
            `${timeoutMs} ms; its events: ${JSON.stringify(this.typesOf(id))}`,
        ),
      );
    }, timeoutMs);
    this.#wake.add(check);
    check();
    return promise;
  }
}

/** Engine-side globals used by the tasks of this file. */
type G = { x?: unknown };

const setX = (value: unknown) => {
  (globalThis as G).x = value;
};
const getX = () => (globalThis as G).x;

/** A task that never ends by itself, without blocking its engine. */
const forever = () => new Promise<never>(() => {});

/** A task that never yields to its event loop. */
const spin = () => {
  let n = 0;
  for (;;) n++;
};

/** A task that ends its engine's thread with `Deno.exit(code)`. */
const exitWith = (code: number) => Deno.exit(code);

/** Waits for the latch without blocking its engine (answers heartbeats). */
const waitUntilOpen = (sab: SharedArrayBuffer) =>
  new Promise<string>((resolve) => {
    const flag = new Int32Array(sab);
    const end = Date.now() + 30_000;
    const poll = () => {
      if (Atomics.load(flag, 0) === 1) resolve("released");
      else if (Date.now() > end) resolve("latch never opened");
      else setTimeout(poll, 2);
    };
    poll();
  });

/** Busy-waits for the latch, never yielding (capped at 30 s). */
const spinUntilOpen = (sab: SharedArrayBuffer) => {
  const flag = new Int32Array(sab);
  const end = Date.now() + 30_000;
  while (Atomics.load(flag, 0) === 0 && Date.now() < end) {
    // spin
  }
  return Atomics.load(flag, 0) === 1 ? "released" : "latch never opened";
};

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
    restart: {
      maxRestarts: 100,
      withinMs: 60_000,
      backoffMs: 1,
      maxBackoffMs: 5,
    },
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
            assert.deepEqual(log.typesOf(0), [
              "died",
              "restarted",
              "died",
              "restarted",
              "died",
              "gaveUp",
            ]);
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
    assert.deepEqual(log.typesOf(0), [
      "died",
      "restarted",
      "died",
      "restarted",
      "died",
      "gaveUp",
    ]);
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
