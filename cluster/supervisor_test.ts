/**
 * The supervisor on engines the test plays itself (`FakeLink`): restart
 * intensity and its window, backoff, ids kept across restarts, remote
 * engines adopted, close, a link factory that throws, and the order of the
 * events. Deterministic: a death is the test calling `exit`, readiness is
 * the test saying `ready`.
 */

import assert from "node:assert/strict";
import {
  type RestartPolicy,
  Supervisor,
  type SupervisorOptions,
} from "./supervisor.ts";
import { Registry } from "./registry.ts";
import type { EngineEvent } from "./engine_types.ts";
import type { LinkFactory } from "../protocol/engine_link.ts";
import {
  ClientClosedError,
  EngineError,
  TaskAbortedError,
} from "../protocol/errors.ts";
import { FakeLink } from "../tests/fake_link.ts";
import { guard, until } from "../tests/helpers.ts";
import { TaskProbe } from "../tests/task_probe.ts";

/** A supervisor whose engines are FakeLinks, and what it did with them. */
interface Rig {
  supervisor: Supervisor;
  /** Every engine event, in order. */
  events: EngineEvent[];
  /** When each event was heard (`performance.now()` ms). */
  heardAt: number[];
  /** Starts engines on FakeLinks, recording each link and when. */
  spawn: (engineId: number) => FakeLink;
  /** Every link started for `engineId`, oldest first. */
  linksOf(engineId: number): FakeLink[];
  /** When each link of `engineId` was started (`performance.now()` ms). */
  spawnedAt(engineId: number): number[];
  /** Waits until `engineId` has had `n` links. */
  started(engineId: number, n: number): Promise<FakeLink>;
}

/**
 * Runs `body` with a supervisor on FakeLinks, then closes it whatever
 * happened, so that no heartbeat or backoff timer outlives the test.
 */
async function withSupervisor(
  options: Partial<SupervisorOptions>,
  body: (rig: Rig) => Promise<void> | void,
): Promise<void> {
  const events: EngineEvent[] = [];
  const heardAt: number[] = [];
  const links = new Map<number, FakeLink[]>();
  const times = new Map<number, number[]>();
  const supervisor = new Supervisor({
    registry: new Registry(),
    onEvent: (event) => {
      heardAt.push(performance.now());
      events.push(event);
    },
    ...options,
  });
  const linksOf = (engineId: number) => links.get(engineId) ?? [];
  const rig: Rig = {
    supervisor,
    events,
    heardAt,
    spawn: (engineId) => {
      const link = new FakeLink();
      links.set(engineId, [...linksOf(engineId), link]);
      times.set(engineId, [...(times.get(engineId) ?? []), performance.now()]);
      return link;
    },
    linksOf,
    spawnedAt: (engineId) => times.get(engineId) ?? [],
    async started(engineId, n) {
      await until(
        () => linksOf(engineId).length >= n,
        `start ${n} of engine ${engineId}`,
      );
      return linksOf(engineId)[n - 1];
    },
  };
  try {
    await body(rig);
  } finally {
    await guard(supervisor.close("the test ended"), "supervisor.close()");
  }
}

/** The events, as short lines that read well in a failed assertion. */
function lines(events: EngineEvent[]): string[] {
  return events.map((e) => `${e.type} ${e.engineId}`);
}

/** Why the last event, a gaveUp, says the engine was given up. */
function gaveUpReason(rig: Rig): string {
  const last = rig.events.at(-1);
  assert.equal(last?.type, "gaveUp");
  return (last as EngineEvent & { type: "gaveUp" }).reason;
}

/** Kills the engine on `link` and waits for the supervisor to start it again. */
async function crashAndRestart(
  rig: Rig,
  engineId: number,
  reason: string,
): Promise<FakeLink> {
  const n = rig.linksOf(engineId).length;
  rig.linksOf(engineId)[n - 1].exit(reason);
  const link = await rig.started(engineId, n + 1);
  link.say({ t: "ready" });
  return link;
}

const PATIENT: RestartPolicy = { maxRestarts: 100, withinMs: 60_000 };

Deno.test("a restart keeps the engine id, its actor and its kind", async () => {
  await withSupervisor({ restart: PATIENT }, async (rig) => {
    const engine = rig.supervisor.startEngine(3, "worker", rig.spawn);
    const [first] = rig.linksOf(3);
    assert.equal(first.sentOf("init")[0].engineId, 3);
    assert.equal(engine.state, "starting");
    first.say({ t: "ready" });
    assert.equal(engine.state, "idle");
    assert.deepEqual(lines(rig.events), ["registered 3"]);

    first.exit("it crashed");
    assert.equal(engine.state, "restarting");
    assert.equal(engine.deathReason, "it crashed");
    const second = await rig.started(3, 2);
    assert.equal(second.sentOf("init")[0].engineId, 3, "the same id");
    second.say({ t: "ready" });

    assert.equal(rig.supervisor.get(3), engine, "the same actor");
    assert.deepEqual(rig.supervisor.all(), [engine]);
    assert.equal(rig.supervisor.kindOf(3), "worker");
    assert.equal(engine.state, "idle");
    assert.equal(engine.restarts, 1);
    assert.deepEqual(rig.events, [
      { type: "registered", engineId: 3 },
      {
        type: "died",
        engineId: 3,
        reason: "it crashed",
        cause: "other",
        deliberate: false,
      },
      { type: "restarted", engineId: 3, restarts: 1 },
    ]);
  });
});

Deno.test("all() lists engines in id order, whatever order they came in", async () => {
  await withSupervisor({}, (rig) => {
    rig.supervisor.startEngine(2, "worker", rig.spawn);
    rig.supervisor.adopt(7, new FakeLink());
    rig.supervisor.startEngine(0, "process", rig.spawn);
    assert.deepEqual(rig.supervisor.all().map((e) => e.engineId), [0, 2, 7]);
    // Kept in order as they join, handed out as a fresh array each time.
    rig.supervisor.all().pop();
    assert.deepEqual(rig.supervisor.all().map((e) => e.engineId), [0, 2, 7]);
    assert.deepEqual(
      [0, 2, 7, 9].map((id) => rig.supervisor.kindOf(id)),
      ["process", "worker", "remote", undefined],
    );
    assert.throws(
      () => rig.supervisor.startEngine(2, "worker", rig.spawn),
      /engine 2 exists already/,
    );
    assert.equal(rig.linksOf(2)[1].terminated, 1, "the second link is ended");
    assert.equal(rig.supervisor.get(2)?.state, "starting", "the first stays");
  });
});

Deno.test("past maxRestarts within withinMs the engine is given up and stopped", async () => {
  const restart = { maxRestarts: 2, withinMs: 60_000, backoffMs: 1 };
  await withSupervisor({ restart }, async (rig) => {
    const engine = rig.supervisor.startEngine(0, "process", rig.spawn);
    rig.linksOf(0)[0].say({ t: "ready" });
    await crashAndRestart(rig, 0, "crash 1");
    await crashAndRestart(rig, 0, "crash 2");
    rig.linksOf(0)[2].exit("crash 3");

    assert.equal(engine.state, "stopped");
    assert.equal(rig.linksOf(0).length, 3, "no fourth start");
    assert.deepEqual(lines(rig.events), [
      "registered 0",
      "died 0",
      "restarted 0",
      "died 0",
      "restarted 0",
      "died 0",
      "gaveUp 0",
    ]);
    assert.equal(
      gaveUpReason(rig),
      "given up after 2 restarts within 60000 ms; it last died because crash 3",
    );

    // A task for an engine given up fails at once, saying so.
    const probe = new TaskProbe(1);
    engine.tell({ kind: "submit", task: probe.task() });
    const error = probe.error();
    assert.ok(error instanceof EngineError, `${error.name}: ${error.message}`);
    assert.equal(error.engineId, 0);
    assert.match(error.message, /given up after 2 restarts/);
    assert.match(error.message, /will not come back/);
  });
});

Deno.test("deaths outside withinMs do not count against maxRestarts", async () => {
  await withSupervisor({
    restart: { maxRestarts: 1, withinMs: 20 },
  }, async (rig) => {
    const engine = rig.supervisor.startEngine(0, "worker", rig.spawn);
    rig.linksOf(0)[0].say({ t: "ready" });
    await crashAndRestart(rig, 0, "crash 1");
    // Past the window (a lower bound: waiting longer changes nothing).
    const t = performance.now();
    await until(() => performance.now() - t > 40, "the window to pass");
    // One restart allowed per 20 ms: the first death is out of the window.
    await crashAndRestart(rig, 0, "crash 2");
    assert.equal(engine.state, "idle");
    assert.equal(engine.restarts, 2);

    // The second death is counted: with a window that holds it, the next
    // death is one too many.
    rig.supervisor.policy = { maxRestarts: 1, withinMs: 60_000 };
    rig.linksOf(0)[2].exit("crash 3");
    assert.equal(engine.state, "stopped");
    assert.deepEqual(lines(rig.events).slice(-2), ["died 0", "gaveUp 0"]);
  });
});

Deno.test("restarts back off: at least backoffMs, doubling, up to maxBackoffMs", async () => {
  const restart = {
    maxRestarts: 5,
    withinMs: 60_000,
    backoffMs: 30,
    maxBackoffMs: 70,
  };
  await withSupervisor({ restart }, async (rig) => {
    rig.supervisor.startEngine(0, "worker", rig.spawn);
    rig.linksOf(0)[0].say({ t: "ready" });
    const waited: number[] = [];
    for (let i = 1; i <= 5; i++) {
      await crashAndRestart(rig, 0, `crash ${i}`);
      // From the death the supervisor heard to the start it made.
      const diedAt = rig.heardAt[
        rig.events.findLastIndex((e) => e.type === "died")
      ];
      waited.push(rig.spawnedAt(0)[i] - diedAt);
    }
    // The first restart in a period is immediate, then 30, 60, then capped.
    const least = [0, 30, 60, 70, 70];
    for (const [i, ms] of waited.entries()) {
      // 1 ms for timers that round to whole milliseconds.
      assert.ok(
        ms >= least[i] - 1,
        `restart ${i + 1} came after ${ms} ms, before its ${least[i]} ms`,
      );
    }
    assert.deepEqual(
      lines(rig.events).filter((l) => l.startsWith("restarted")).length,
      5,
    );
  });
});

Deno.test("maxBackoffMs caps the backoff", async () => {
  // Uncapped, the 16th restart would wait 2^14 ms and the run half a minute:
  // the hang guard of `started` would fail the test.
  const restart = {
    maxRestarts: 16,
    withinMs: 600_000,
    backoffMs: 1,
    maxBackoffMs: 2,
  };
  await withSupervisor({ restart }, async (rig) => {
    const engine = rig.supervisor.startEngine(0, "worker", rig.spawn);
    rig.linksOf(0)[0].say({ t: "ready" });
    for (let i = 1; i <= 16; i++) await crashAndRestart(rig, 0, `crash ${i}`);
    assert.equal(engine.restarts, 16);
    assert.equal(engine.state, "idle");
  });
});

Deno.test("aborting a running task restarts its engine at once, uncounted", async () => {
  await withSupervisor({
    restart: { maxRestarts: 0, withinMs: 60_000 },
  }, async (rig) => {
    const engine = rig.supervisor.startEngine(0, "worker", rig.spawn);
    rig.linksOf(0)[0].say({ t: "ready" });
    for (let i = 1; i <= 2; i++) {
      const probe = new TaskProbe(i);
      engine.tell({ kind: "submit", task: probe.task() });
      assert.equal(engine.state, "busy");
      // A Worker-like link (no interrupt) is ended to stop its task.
      engine.tell({ kind: "abort", taskIds: new Set([i]) });
      assert.equal(rig.linksOf(0)[i - 1].terminated, 1);
      assert.ok(probe.error() instanceof TaskAbortedError);
      const link = await rig.started(0, i + 1);
      link.say({ t: "ready" });
      assert.equal(engine.state, "idle");
    }
    assert.deepEqual(
      rig.events.filter((e) => e.type === "died").map((e) =>
        e.type === "died" && e.deliberate
      ),
      [true, true],
    );
    // A death of its own is past maxRestarts 0 at once.
    rig.linksOf(0)[2].exit("it crashed");
    assert.equal(engine.state, "stopped");
    assert.equal(rig.events.at(-1)?.type, "gaveUp");
  });
});

Deno.test("an engine that never says ready, or stops answering, is restarted", async () => {
  await withSupervisor({
    restart: PATIENT,
    heartbeatMs: 5,
    heartbeatMisses: 2,
    startTimeoutMs: 20,
  }, async (rig) => {
    // Every start but the first says ready as soon as it is attached, so
    // that no later start can miss the 20 ms however slow the machine.
    const readyAfterFirst: LinkFactory = (engineId) => {
      const link = rig.spawn(engineId);
      if (rig.linksOf(engineId).length > 1) {
        queueMicrotask(() => link.say({ t: "ready" }));
      }
      return link;
    };
    const engine = rig.supervisor.startEngine(0, "worker", readyAfterFirst);
    // Never ready: past startTimeoutMs it is taken for dead.
    const second = await rig.started(0, 2);
    assert.equal(rig.linksOf(0)[0].terminated, 1);
    assert.match(
      engine.deathReason ?? "",
      /did not say it was ready within 20 ms/,
    );
    // Ready, then silent: pinged, and dead after two silent periods.
    await rig.started(0, 3);
    assert.ok(second.sentOf("ping").length >= 1, "it was pinged");
    assert.equal(second.terminated, 1);
    assert.equal(engine.deathReason, "it missed 2 heartbeats in a row");
    // Never ready before, so its first ready is its registration.
    assert.deepEqual(lines(rig.events).slice(0, 3), [
      "died 0",
      "registered 0",
      "died 0",
    ]);
  });
});

Deno.test("adopt takes on a remote engine, which comes back by itself", async () => {
  await withSupervisor({
    restart: { maxRestarts: 0, withinMs: 60_000 },
  }, (rig) => {
    const first = new FakeLink({ answersWhileBusy: true, sharesMemory: false });
    const engine = rig.supervisor.adopt(5, first);
    assert.equal(rig.supervisor.kindOf(5), "remote");
    assert.equal(first.sentOf("init")[0].engineId, 5);
    assert.equal(first.sentOf("init")[0].acks, undefined, "no shared memory");
    first.say({ t: "ready" });

    // A remote engine restarts itself: the supervisor only waits for it,
    // and its deaths are not held against the restart policy.
    first.exit("the connection was lost");
    assert.equal(engine.state, "restarting");
    const second = new FakeLink({ sharesMemory: false });
    assert.equal(rig.supervisor.adopt(5, second), engine, "the same engine");
    second.say({ t: "ready" });
    assert.equal(engine.state, "idle");
    assert.equal(engine.restarts, 1);
    assert.deepEqual(lines(rig.events), [
      "registered 5",
      "died 5",
      "restarted 5",
    ]);

    // An id that is up is taken: the newcomer is turned away, ended.
    const third = new FakeLink();
    assert.throws(
      () => rig.supervisor.adopt(5, third),
      /engine 5 exists already/,
    );
    assert.equal(third.terminated, 1);
    assert.equal(engine.state, "idle");
  });
});

Deno.test("close stops every engine and fails its tasks with EngineError", async () => {
  const restart = { maxRestarts: 5, withinMs: 60_000, backoffMs: 60_000 };
  await withSupervisor({ restart }, async (rig) => {
    const { supervisor, spawn } = rig;
    // Engine 0 runs one task and holds another; engine 1 is still starting;
    // engine 2 waits a minute-long backoff; engine 3 is remote.
    const running = supervisor.startEngine(0, "worker", spawn);
    const starting = supervisor.startEngine(1, "worker", spawn);
    const backingOff = supervisor.startEngine(2, "worker", spawn);
    const remote = new FakeLink({ shutdownable: true, sharesMemory: false });
    const adopted = supervisor.adopt(3, remote);
    rig.linksOf(0)[0].say({ t: "ready" });
    rig.linksOf(2)[0].say({ t: "ready" });
    remote.say({ t: "ready" });
    rig.linksOf(2)[0].exit("crash 1"); // Restarted at once.
    (await rig.started(2, 2)).exit("crash 2"); // Restarted after the backoff.
    assert.equal(backingOff.state, "restarting");

    const probes = [1, 2, 3, 4].map((id) => new TaskProbe(id));
    running.tell({ kind: "submit", task: probes[0].task() });
    running.tell({ kind: "submit", task: probes[1].task() });
    starting.tell({ kind: "submit", task: probes[2].task() });
    adopted.tell({ kind: "submit", task: probes[3].task() });
    assert.equal(running.load, 2);
    const heard = rig.events.length;

    // With `shutdown`, remote engines are told to exit, not left waiting.
    await guard(
      supervisor.close("the client was closed", { shutdown: true }),
      "close()",
    );
    for (const [i, probe] of probes.entries()) {
      const error = probe.error();
      assert.ok(
        error instanceof EngineError,
        `${error.name}: ${error.message}`,
      );
      assert.equal(error.reason, "the client was closed");
      assert.equal(error.taskId, probe.taskId);
      assert.equal(error.engineId, [0, 0, 1, 3][i]);
    }
    assert.deepEqual(
      supervisor.all().map((e) => e.state),
      ["stopped", "stopped", "stopped", "stopped"],
    );
    assert.equal(rig.linksOf(0)[0].terminated, 1);
    assert.equal(rig.linksOf(1)[0].terminated, 1);
    assert.equal(remote.shutDown, 1);
    assert.equal(remote.terminated, 0);
    assert.equal(rig.linksOf(2).length, 2, "the pending restart never came");
    assert.equal(rig.events.length, heard, "closing is not giving up");

    // Nothing starts after close; the link handed in is ended.
    const late = new FakeLink();
    assert.throws(
      () => supervisor.startEngine(9, "worker", () => late),
      (e: unknown) =>
        e instanceof ClientClosedError &&
        e.message === "cannot start an engine: the client is closed",
    );
    assert.equal(late.terminated, 1);
    assert.throws(
      () => supervisor.adopt(10, new FakeLink()),
      ClientClosedError,
    );
    // withSupervisor closes it again: closing twice is harmless.
  });
});

Deno.test("a link factory that throws: no engine at first, given up at restart", async () => {
  await withSupervisor({ restart: PATIENT }, async (rig) => {
    assert.throws(
      () =>
        rig.supervisor.startEngine(0, "process", () => {
          throw new Error("deno is not installed");
        }),
      /deno is not installed/,
    );
    assert.equal(rig.supervisor.get(0), undefined);
    assert.deepEqual(rig.supervisor.all(), []);

    let calls = 0;
    const once: LinkFactory = (engineId) => {
      if (++calls > 1) throw new Error("no more processes");
      return rig.spawn(engineId);
    };
    const engine = rig.supervisor.startEngine(1, "process", once);
    rig.linksOf(1)[0].say({ t: "ready" });
    rig.linksOf(1)[0].exit("it crashed");
    await until(() => engine.state === "stopped", "engine 1 given up");
    assert.equal(calls, 2);
    assert.deepEqual(lines(rig.events), [
      "registered 1",
      "died 1",
      "gaveUp 1",
    ]);
    assert.equal(
      gaveUpReason(rig),
      "it could not be restarted: Error: no more processes",
    );
  });
});

Deno.test("the restart policy is checked, and a copy is handed out", async () => {
  await withSupervisor({}, (rig) => {
    assert.deepEqual(rig.supervisor.policy, {
      maxRestarts: 5,
      withinMs: 60_000,
    });
    const policy = rig.supervisor.policy;
    policy.maxRestarts = 99;
    assert.equal(rig.supervisor.policy.maxRestarts, 5);
    const bad: [RestartPolicy, RegExp][] = [
      [
        { maxRestarts: 1.5, withinMs: 1 },
        /^restart\.maxRestarts must be a whole number >= 0, got 1\.5$/,
      ],
      [{ maxRestarts: 1, withinMs: 0 }, /^restart\.withinMs must be > 0/],
      [
        { maxRestarts: 1, withinMs: 1, backoffMs: -1 },
        /^restart\.backoffMs must be >= 0, got -1$/,
      ],
      [
        { maxRestarts: 1, withinMs: 1, maxBackoffMs: NaN },
        /^restart\.maxBackoffMs must be >= 0, got NaN$/,
      ],
    ];
    for (const [policy, message] of bad) {
      assert.throws(() => (rig.supervisor.policy = policy), {
        name: "RangeError",
        message,
      });
    }
    assert.throws(
      () =>
        new Supervisor({
          registry: new Registry(),
          restart: { maxRestarts: -1, withinMs: 1 },
        }),
      RangeError,
    );
    assert.equal(rig.supervisor.policy.maxRestarts, 5, "unchanged");
  });
});
