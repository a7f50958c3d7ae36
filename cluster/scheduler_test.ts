/**
 * The scheduler on engine actors whose engines the test plays (`FakeLink`):
 * least-load choices and ties, high-water marks, target limits, engines
 * joining, retries after a death, timeouts, aborts, close, and tasks no
 * engine can run. Each engine finishes a task when the test says `done`.
 */

import assert from "node:assert/strict";
import {
  type ScheduledTask,
  Scheduler,
  type SchedulerHost,
} from "./scheduler.ts";
import { EngineActor } from "./engine_actor.ts";
import { handOut } from "./hand_out.ts";
import { Registry } from "./registry.ts";
import {
  ClientClosedError,
  EngineError,
  TaskAbortedError,
  TimeoutError,
} from "../protocol/errors.ts";
import { FakeLink, type FakeLinkOptions } from "../tests/fake_link.ts";
import { guard, sleep, until } from "../tests/helpers.ts";
import { MAX_ADAPTIVE_DEPTH } from "./adaptive_depth.ts";
import { doneMessage, TaskProbe } from "../tests/task_probe.ts";

/** A scheduler, the engines of its host, and how the test drives them. */
interface Rig {
  scheduler: Scheduler;
  /** The host's engines, in id order; `join` adds to them. */
  engines: EngineActor[];
  /** The current link of each engine. */
  link(engineId: number): FakeLink;
  /** A new engine on a FakeLink; ready unless `ready` is `false`. */
  join(
    engineId: number,
    options?: FakeLinkOptions & { ready?: boolean },
  ): EngineActor;
  /** Queues tasks; `taskId`s come from the probes. */
  enqueue(...tasks: ScheduledTask[]): void;
  /** Engine `engineId` finishes the task it runs. */
  finish(engineId: number): void;
}

/** How a rig's host behaves; the defaults are a client with no listener. */
interface RigOptions {
  highWaterMark?: number;
  mayGainEngines?: boolean;
  noEngineTimeoutMs?: number;
}

/**
 * Runs `body` with a scheduler whose host hands tasks to EngineActors on
 * FakeLinks, as the cluster does, and tells it of every engine event. Closes
 * the scheduler and stops the engines afterwards, whatever happened.
 */
async function withScheduler(
  options: RigOptions,
  body: (rig: Rig) => Promise<void> | void,
): Promise<void> {
  const registry = new Registry();
  const engines: EngineActor[] = [];
  const links = new Map<number, FakeLink>();
  const host: SchedulerHost = {
    engines: () => engines,
    mayGainEngines: () => options.mayGainEngines ?? false,
    noEngineTimeoutMs: options.noEngineTimeoutMs,
    submit: handOut,
  };
  const scheduler = new Scheduler(host, options.highWaterMark);
  const rig: Rig = {
    scheduler,
    engines,
    link: (engineId) => links.get(engineId)!,
    join(engineId, { ready = true, ...linkOptions } = {}) {
      const link = new FakeLink(linkOptions);
      links.set(engineId, link);
      const engine = new EngineActor(
        engineId,
        link,
        registry,
        () => scheduler.tell({ kind: "changed" }),
      );
      engines.push(engine);
      engines.sort((a, b) => a.engineId - b.engineId);
      if (ready) link.say({ t: "ready" });
      return engine;
    },
    enqueue: (...tasks) => scheduler.tell({ kind: "enqueue", tasks }),
    finish(engineId) {
      const engine = engines.find((e) => e.engineId === engineId)!;
      const taskId = engine.currentTaskId;
      assert.ok(taskId !== undefined, `engine ${engineId} runs no task`);
      links.get(engineId)!.say(doneMessage(taskId));
    },
  };
  try {
    await body(rig);
  } finally {
    scheduler.tell({ kind: "close" });
    await guard(
      Promise.all(engines.map((e) => e.stop("the test ended"))),
      "the engines to stop",
    );
  }
}

/** A load-balanced task for `probe`, with `retries` 0 unless told. */
function lb(
  probe: TaskProbe,
  options: Partial<Omit<ScheduledTask, "taskId" | "observer">> = {},
): ScheduledTask {
  const { taskId, fn, args } = probe.task();
  return { taskId, fn, args, observer: probe, retries: 0, ...options };
}

/** Probes for task ids `from`, `from + 1`, … (`n` of them). */
function probes(n: number, from = 1): TaskProbe[] {
  return Array.from({ length: n }, (_, i) => new TaskProbe(from + i));
}

Deno.test("each task goes to the engine with the fewest outstanding tasks; ties to the first", async () => {
  await withScheduler({ highWaterMark: 3 }, (rig) => {
    const [e0, e1] = [rig.join(0), rig.join(1), rig.join(2)];
    // Direct work the scheduler did not hand out still counts as load.
    for (const probe of probes(2, 101)) {
      e0.tell({ kind: "submit", task: probe.task() });
    }
    e1.tell({ kind: "submit", task: new TaskProbe(103).task() });
    assert.deepEqual(rig.engines.map((e) => e.load), [2, 1, 0]);

    const tasks = probes(6);
    for (const probe of tasks) rig.enqueue(lb(probe));
    // Loads 2 1 0 → engine 2; 2 1 1 → a tie, the first: engine 1;
    // 2 2 1 → engine 2; 2 2 2 → engine 0; 3 2 2 → engine 1; 3 3 2 → 2.
    assert.deepEqual(tasks.map((p) => p.engines), [[2], [1], [2], [0], [1], [
      2,
    ]]);
    assert.deepEqual(rig.engines.map((e) => e.load), [3, 3, 3]);
    assert.ok(tasks.every((p) => !p.settled));
  });
});

Deno.test("no engine gets more than highWaterMark; a task's own mark wins", async () => {
  await withScheduler({ highWaterMark: 1 }, (rig) => {
    rig.join(0);
    rig.join(1);
    const [a, b, c, d] = probes(4);
    rig.enqueue(lb(a), lb(b), lb(c));
    assert.deepEqual([a.engines, b.engines, c.engines], [[0], [1], []]);
    assert.equal(rig.scheduler.queued, 1);
    assert.equal(c.starts, 0);

    // A task that allows 2 outstanding tasks per engine could run now, but
    // first come, first served: it waits behind c.
    rig.enqueue(lb(d, { highWaterMark: 2 }));
    assert.deepEqual(d.engines, [], "d waits behind c");

    rig.finish(0);
    assert.equal(a.value(), 1);
    // c takes engine 0's free slot; d, allowed 2, ties between the engines
    // (1 each) and takes the first.
    assert.deepEqual([c.engines, d.engines], [[0], [0]]);
    assert.equal(rig.scheduler.queued, 0);
    assert.deepEqual(rig.engines.map((e) => e.load), [2, 1]);
  });
});

Deno.test("targets limit a task's engines; later tasks pass one whose engines are full", async () => {
  await withScheduler({ highWaterMark: 1 }, (rig) => {
    rig.join(0);
    rig.join(1);
    const [t0, t1, a, b, c] = probes(5);
    rig.enqueue(
      lb(t0, { targets: new Set([0]) }),
      lb(t1, { targets: new Set([1]) }),
    );
    assert.deepEqual([t0.engines, t1.engines], [[0], [1]]);

    rig.enqueue(lb(a, { targets: new Set([0]) }), lb(b), lb(c));
    assert.equal(rig.scheduler.queued, 3);
    rig.finish(1);
    // a's engine is full: b passes it; c, for any engine, finds none and
    // waits (first come, first served among tasks for any engine).
    assert.deepEqual([a.engines, b.engines, c.engines], [[], [1], []]);
    rig.finish(0);
    // a was first in line and gets its engine before c.
    assert.deepEqual([a.engines, c.engines], [[0], []]);
    rig.finish(1);
    assert.deepEqual(c.engines, [1]);
    assert.deepEqual([t0.value(), t1.value(), b.value()], [1, 2, 4]);
    assert.equal(rig.scheduler.queued, 0);
  });
});

Deno.test("an engine that joins takes queued work at once", async () => {
  await withScheduler({ mayGainEngines: true }, (rig) => {
    const [a, b] = probes(2);
    rig.enqueue(lb(a), lb(b));
    assert.equal(rig.scheduler.unrunnable(), undefined, "engines may join");
    assert.equal(rig.scheduler.queued, 2);
    const engine = rig.join(5, { ready: false });
    assert.deepEqual(a.engines, [], "a starting engine takes nothing");
    // Its `ready` is an engine event: the scheduler hears of it and hands
    // out work in the same turn, without waiting for a sweep.
    rig.link(5).say({ t: "ready" });
    assert.deepEqual([a.engines, b.engines], [[5], []]);
    assert.equal(a.starts, 1);
    assert.deepEqual(rig.link(5).sentOf("run").map((m) => m.taskId), [1]);
    rig.finish(5);
    assert.deepEqual(b.engines, [5]);
    assert.equal(engine.tasksDone, 1);
  });
});

Deno.test("a task whose engine dies runs elsewhere while retries last, then fails with EngineError", async () => {
  await withScheduler({}, (rig) => {
    rig.join(0);
    rig.join(1);
    rig.join(2);
    const [a, b] = probes(2);
    rig.enqueue(lb(a, { retries: 1 }));
    assert.deepEqual(a.engines, [0]);
    rig.link(0).exit("it crashed");
    assert.deepEqual(a.engines, [0, 1], "retried on another engine");
    assert.equal(a.settled, false);
    assert.equal(a.starts, 2);
    rig.link(1).exit("it crashed too");
    // No retry left: the death is the task's error.
    assert.deepEqual(a.engines, [0, 1]);
    const error = a.error();
    assert.ok(error instanceof EngineError, `${error.name}: ${error.message}`);
    assert.equal(error.engineId, 1);
    assert.equal(error.taskId, 1);
    assert.equal(error.reason, "it crashed too");

    // A task without retries fails with its engine's death at once.
    rig.enqueue(lb(b));
    assert.deepEqual(b.engines, [2]);
    rig.link(2).exit("it crashed as well");
    assert.ok(b.error() instanceof EngineError);
    assert.equal(rig.scheduler.queued, 0);
  });
});

Deno.test("timeoutMs fails a task that no engine took in time with TimeoutError", async () => {
  await withScheduler({ highWaterMark: 1 }, async (rig) => {
    rig.join(0);
    const [busy, late, now] = probes(3);
    // A deadline of 0 still gets a free engine: hand-out comes first.
    rig.enqueue(lb(busy, { timeoutMs: 0 }));
    assert.deepEqual(busy.engines, [0]);
    const queuedAt = performance.now();
    rig.enqueue(lb(late, { timeoutMs: 20 }), lb(now));
    await until(() => late.settled, "the timeout of a queued task");
    const waited = performance.now() - queuedAt;
    const error = late.error();
    assert.ok(error instanceof TimeoutError, `${error.name}: ${error.message}`);
    assert.equal(
      error.message,
      "task 2 did not start in time: no engine was free before its " +
        "timeoutMs ran out",
    );
    assert.ok(waited >= 19, `it timed out after ${waited} ms, before 20`);
    assert.deepEqual(late.engines, [], "it never ran");
    // The task behind it, without a deadline, still waits, and runs.
    assert.equal(now.settled, false);
    rig.finish(0);
    assert.deepEqual(now.engines, [0]);
  });
});

Deno.test("timeoutMs: each queued task expires by its own deadline, whatever its place in the queue and whenever it came", async () => {
  await withScheduler({ highWaterMark: 1 }, async (rig) => {
    rig.join(0);
    const [busy, long, short, later] = probes(4);
    rig.enqueue(lb(busy));
    rig.enqueue(lb(long, { timeoutMs: 60_000 }), lb(short, { timeoutMs: 20 }));
    await until(() => short.settled, "the short deadline behind a long one");
    assert.ok(short.error() instanceof TimeoutError);
    assert.equal(long.settled, false);
    // Queued after the queue was last looked through: its deadline, not
    // the long one's, is the next to watch for.
    rig.enqueue(lb(later, { timeoutMs: 20 }));
    await until(() => later.settled, "a deadline that came later");
    assert.ok(later.error() instanceof TimeoutError);
    assert.equal(long.settled, false);
    rig.finish(0);
    assert.deepEqual(long.engines, [0], "the long one still runs");
    assert.deepEqual([short.engines, later.engines], [[], []]);
  });
});

Deno.test("abort: a queued task fails before any engine; a running one is stopped on its engine", async () => {
  await withScheduler({ highWaterMark: 1 }, (rig) => {
    const worker = rig.join(0);
    rig.join(1, { interruptible: true });
    const [onWorker, onProcess, queued, after] = probes(4);
    rig.enqueue(
      lb(onWorker, { retries: 5 }),
      lb(onProcess),
      lb(queued),
      lb(after),
    );
    assert.deepEqual([onWorker.engines, onProcess.engines], [[0], [1]]);

    rig.scheduler.tell({ kind: "abort", taskIds: new Set([3]) });
    const error = queued.error();
    assert.ok(
      error instanceof TaskAbortedError,
      `${error.name}: ${error.message}`,
    );
    assert.equal(error.engineId, undefined);
    assert.equal(
      error.message,
      "task 3 was aborted before it reached an engine",
    );
    assert.deepEqual(queued.engines, []);

    // Running on a Worker-like engine: the abort ends the engine; though
    // its death is an engine's, the task is not retried.
    rig.scheduler.tell({ kind: "abort", taskIds: new Set([1, 2]) });
    assert.equal(rig.link(0).terminated, 1);
    assert.equal(worker.state, "restarting");
    const stopped = onWorker.error();
    assert.ok(stopped instanceof TaskAbortedError, stopped.message);
    assert.equal(stopped.engineId, 0);
    assert.deepEqual(onWorker.engines, [0], "not retried");

    // On a process-like engine the abort interrupts the task's thread.
    assert.equal(rig.link(1).interrupted, 1);
    assert.equal(onProcess.settled, false, "it ends when the engine says so");
    rig.link(1).say({ t: "reset", reason: "its task thread was replaced" });
    assert.ok(onProcess.error() instanceof TaskAbortedError);
    rig.link(1).say({ t: "ready" });
    assert.deepEqual(after.engines, [1]);

    // Ids that are unknown or done change nothing.
    rig.scheduler.tell({ kind: "abort", taskIds: new Set([1, 99]) });
    assert.equal(onWorker.outcomes.length, 1);
    assert.equal(after.settled, false);
  });
});

Deno.test("an aborted task is not run again, even if its engine then fails it as lost", async () => {
  await withScheduler({}, async (rig) => {
    const process = rig.join(0, { interruptible: true });
    rig.join(1);
    const probe = new TaskProbe(1);
    rig.enqueue(lb(probe, { retries: 5 }));
    assert.deepEqual(probe.engines, [0]);
    rig.scheduler.tell({ kind: "abort", taskIds: new Set([1]) });
    assert.equal(rig.link(0).interrupted, 1);
    // Stopped before it could confirm: the task is lost with its engine,
    // which would earn a retry, but it was aborted.
    await guard(process.stop("it was given up"), "engine 0 to stop");
    const error = probe.error();
    assert.ok(error instanceof EngineError, `${error.name}: ${error.message}`);
    assert.deepEqual(probe.engines, [0], "not run again");
    assert.equal(rig.engines[1].load, 0);
  });
});

Deno.test("close fails queued tasks and later ones with ClientClosedError; no retry after it", async () => {
  await withScheduler({ highWaterMark: 1 }, (rig) => {
    rig.join(0);
    const [running, a, b, late] = probes(4);
    rig.enqueue(
      lb(running, { retries: 3 }),
      lb(a),
      lb(b, { timeoutMs: 60_000 }),
    );
    assert.equal(rig.scheduler.queued, 2);

    rig.scheduler.tell({ kind: "close" });
    for (const probe of [a, b]) {
      const error = probe.error();
      assert.ok(
        error instanceof ClientClosedError,
        `${error.name}: ${error.message}`,
      );
      assert.equal(error.message, "cannot run a task: the client is closed");
      assert.deepEqual(probe.engines, []);
    }
    assert.equal(rig.scheduler.queued, 0);
    rig.enqueue(lb(late));
    assert.ok(late.error() instanceof ClientClosedError);

    // The running task is its engine's to end; closing spends no retries.
    assert.equal(running.settled, false);
    rig.link(0).exit("it was stopped");
    assert.ok(running.error() instanceof EngineError);
    assert.deepEqual(running.engines, [0]);
  });
});

Deno.test("unrunnable(): no engine and none can join; such tasks fail at once", async () => {
  await withScheduler({}, (rig) => {
    const why = rig.scheduler.unrunnable();
    assert.ok(why !== undefined);
    assert.match(
      why,
      /^no engine can run this task: this client has no engines and does not listen for any\. To get engines, start the client with some/,
    );
    const probe = new TaskProbe(1);
    rig.enqueue(lb(probe));
    assert.equal(probe.error().message, why);
    assert.equal(rig.scheduler.queued, 0);

    // An engine, even one not up yet, makes work runnable.
    rig.join(0, { ready: false });
    assert.equal(rig.scheduler.unrunnable(), undefined);
  });
});

Deno.test("tasks whose engines are down wait noEngineTimeoutMs; for engines given up they fail at once", async () => {
  await withScheduler({ noEngineTimeoutMs: 30 }, async (rig) => {
    rig.join(0);
    const gone = rig.join(1);
    rig.link(0).exit("it crashed");
    const [waiting, forGone] = probes(2);
    const queuedAt = performance.now();
    rig.enqueue(lb(waiting, { targets: new Set([0]) }));
    assert.equal(waiting.settled, false, "engine 0 may come back");

    await guard(gone.stop("it was given up"), "engine 1 to stop");
    rig.enqueue(lb(forGone, { targets: new Set([1]) }));
    // At the next look at the queue, not after noEngineTimeoutMs.
    await until(() => forGone.settled, "the task for an engine given up");
    const error = forGone.error();
    assert.ok(error instanceof EngineError, `${error.name}: ${error.message}`);
    assert.match(
      error.message,
      /^engine 1 died \(no engine this task may run on is left: engine 1 given up\)/,
    );

    await until(() => waiting.settled, "the wait for engine 0 to end");
    const waited = performance.now() - queuedAt;
    assert.ok(waited >= 29, `it failed after ${waited} ms, before 30`);
    const late = waiting.error();
    assert.ok(late instanceof EngineError, `${late.name}: ${late.message}`);
    assert.equal(late.engineId, 0);
    assert.equal(
      late.reason,
      "no engine this task may run on has been up for 30 ms " +
        "(noEngineTimeoutMs): engine 0 restarting; engine 0 last died " +
        "because it crashed",
    );
  });
});

Deno.test("by default the depth adapts: a fresh engine is refilled in one go, and nothing waits behind a task that has not finished", async () => {
  await withScheduler({}, async (rig) => {
    rig.join(0);
    rig.join(1);
    const [first, ...burst] = probes(2 * MAX_ADAPTIVE_DEPTH + 9);
    rig.enqueue(lb(first));
    // A round trip that is not zero, whatever this machine's clock: tiny
    // tasks are then worth sending several at a time.
    await sleep(2);
    rig.finish(0);
    assert.equal(first.settled, true);
    rig.enqueue(...burst.map((probe) => lb(probe)));
    // Neither engine just finished a task: one each, as highWaterMark 1.
    assert.deepEqual(rig.engines.map((e) => e.load), [1, 1]);
    // Engine 1 finishes: it gets its full depth in one pass; engine 0,
    // whose task has said nothing yet, gets nothing more.
    rig.finish(1);
    assert.deepEqual(rig.engines.map((e) => e.load), [1, MAX_ADAPTIVE_DEPTH]);
    assert.equal(rig.link(1).sentOf("run").length, 1 + MAX_ADAPTIVE_DEPTH);
    // Refilled once half is worked off, not at each done.
    const half = MAX_ADAPTIVE_DEPTH >> 1;
    for (let i = 0; i < half - 1; i++) rig.finish(1);
    assert.equal(rig.engines[1].load, half + 1);
    rig.finish(1);
    assert.equal(rig.engines[1].load, MAX_ADAPTIVE_DEPTH);
    assert.equal(rig.engines[0].load, 1, "nothing behind engine 0's task");
    assert.equal(
      rig.scheduler.queued,
      burst.length - 2 - MAX_ADAPTIVE_DEPTH - half,
    );
  });
});
