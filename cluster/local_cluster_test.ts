/**
 * `LocalCluster` on engines the test plays itself (`FakeLink`): what the
 * seam adds to the core. An abort needs only task ids, whether the task is
 * on its engine (direct) or with the scheduler (balanced); a task's
 * publications reach its listener from submission until it is done, across
 * a retry, and not after; task ids are never reused. Deterministic: an
 * engine is ready, answers or dies when the test says so.
 */

import assert from "node:assert/strict";
import { LocalCluster } from "./local_cluster.ts";
import type { Placement, SubmittedTask } from "./cluster.ts";
import type { LinkFactory } from "../protocol/engine_link.ts";
import {
  ClientClosedError,
  EngineError,
  TaskAbortedError,
} from "../protocol/errors.ts";
import { FakeLink, type FakeLinkOptions } from "../tests/fake_link.ts";
import { errorOf, guard, range, until } from "../tests/helpers.ts";
import { doneMessage, TaskProbe } from "../tests/task_probe.ts";

/** A cluster whose engines are FakeLinks, and the links it started. */
interface Rig {
  cluster: LocalCluster;
  /** Every link started for `engineId`, oldest first. */
  linksOf(engineId: number): FakeLink[];
  /** The newest link of `engineId`. */
  link(engineId: number): FakeLink;
  /** Submits one task per placement; returns their probes. */
  submit(...placements: Placement[]): TaskProbe[];
}

/**
 * Runs `body` on a cluster with `engines` ready engines on FakeLinks, then
 * closes it whatever happened. The heartbeat is slow: the links do not
 * answer pings, and no test here is about them.
 */
async function withCluster(
  engines: number,
  body: (rig: Rig) => Promise<void> | void,
  linkOptions: FakeLinkOptions = {},
): Promise<void> {
  const links = new Map<number, FakeLink[]>();
  const linksOf = (engineId: number) => links.get(engineId) ?? [];
  const spawn: LinkFactory = (engineId) => {
    const link = new FakeLink(linkOptions);
    links.set(engineId, [...linksOf(engineId), link]);
    return link;
  };
  const cluster = new LocalCluster({ heartbeatMs: 60_000 });
  try {
    for (const engineId of range(engines)) {
      cluster.startEngine(engineId, "worker", spawn);
      linksOf(engineId)[0].say({ t: "ready" });
    }
    await guard(cluster.waitForEngines(engines), "the engines to be up");
    await body({
      cluster,
      linksOf,
      link: (engineId) => linksOf(engineId).at(-1)!,
      submit(...placements) {
        const tasks: SubmittedTask[] = placements.map((placement) => {
          const taskId = cluster.nextTaskId();
          return {
            taskId,
            fn: { kind: "source", source: `() => ${taskId}` },
            args: [],
            placement,
          };
        });
        const probes = tasks.map((task) => new TaskProbe(task.taskId));
        cluster.submit(tasks, (_, index) => probes[index]);
        return probes;
      },
    });
  } finally {
    await guard(cluster.close(), "the cluster to close");
  }
}

/** The ids of the tasks `link` was told to run. */
function runIds(link: FakeLink): number[] {
  return link.sentOf("run").map((m) => m.taskId);
}

/** What an engine says when task `taskId` publishes `data`. */
function pub(taskId: number, seq: number, data: Record<string, unknown>) {
  return { t: "pub" as const, taskId, seq, time: Date.now(), data };
}

const balanced = (retries = 0): Placement => ({ balanced: { retries } });

Deno.test("LocalCluster: nextTaskId never gives an id twice", async () => {
  await withCluster(1, ({ cluster, submit }) => {
    const ids = range(1000).map(() => cluster.nextTaskId());
    const probes = submit({ engineId: 0 }, balanced());
    const all = [...ids, ...probes.map((p) => p.taskId)];
    assert.equal(new Set(all).size, all.length, "an id was given twice");
    assert.deepEqual(all, [...all].sort((a, b) => a - b), "ids ascend");
  });
});

Deno.test("LocalCluster: abort by id reaches a direct task on its own engine", async () => {
  await withCluster(2, async ({ cluster, link, submit }) => {
    const [first, ahead, other] = submit(
      { engineId: 0 },
      { engineId: 0 },
      { engineId: 1 },
    );
    assert.deepEqual(runIds(link(0)), [first.taskId, ahead.taskId]);
    assert.deepEqual(runIds(link(1)), [other.taskId]);

    // Sent ahead on engine 0: only engine 0 is asked to drop it.
    cluster.abort([ahead.taskId]);
    assert.ok(ahead.error() instanceof TaskAbortedError);
    assert.deepEqual(link(0).sentOf("cancel"), [
      { t: "cancel", taskIds: [ahead.taskId] },
    ]);
    assert.deepEqual(link(1).sentOf("cancel"), []);
    assert.equal(link(1).terminated, 0);

    // A task that is done has no route: its id does nothing any more.
    link(0).say(doneMessage(first.taskId));
    link(0).say({ t: "cancelled", taskIds: [ahead.taskId] });
    assert.equal(first.value(), first.taskId);
    cluster.abort([first.taskId, 12345]);
    assert.equal(link(0).sentOf("cancel").length, 1);
    assert.equal(link(0).terminated, 0);

    // Running on engine 1, which cannot interrupt: it is ended, and only it.
    const oneLink = link(1);
    cluster.abort([other.taskId]);
    assert.equal(oneLink.terminated, 1);
    await until(() => other.settled, "the running task to fail");
    assert.ok(other.error() instanceof TaskAbortedError);
    assert.equal(link(0).terminated, 0);
  });
});

Deno.test("LocalCluster: abort by id reaches a balanced task in the scheduler and on its engine", async () => {
  await withCluster(1, async ({ cluster, link, submit }) => {
    // One engine, one task at a time: the second waits in the scheduler.
    const [running, waiting] = submit(balanced(3), balanced(3));
    assert.deepEqual(running.engines, [0]);
    assert.deepEqual(waiting.engines, []);
    assert.deepEqual(runIds(link(0)), [running.taskId]);

    cluster.abort([waiting.taskId]);
    assert.ok(waiting.error() instanceof TaskAbortedError);
    assert.deepEqual(waiting.engines, [], "it never reached an engine");

    // Handed out: the scheduler knows its engine; retries do not revive it.
    const engineLink = link(0);
    cluster.abort([running.taskId]);
    assert.equal(engineLink.terminated, 1);
    await until(() => running.settled, "the running task to fail");
    assert.ok(running.error() instanceof TaskAbortedError);
    assert.deepEqual(running.engines, [0]);
    assert.deepEqual(runIds(engineLink), [running.taskId]);
  });
});

Deno.test("LocalCluster: a task's publications reach it from submission until done, across a retry", async () => {
  await withCluster(2, async ({ link, submit }) => {
    const [task] = submit({ balanced: { targets: [0, 1], retries: 1 } });
    const [first] = task.engines;
    const firstLink = link(first);
    firstLink.say(pub(task.taskId, 1, { step: 1 }));
    firstLink.exit("it was killed");
    await until(() => task.engines.length === 2, "the retry");
    const second = task.engines[1];
    assert.notEqual(second, first);
    link(second).say(pub(task.taskId, 1, { step: 2 }));
    link(second).say(doneMessage(task.taskId, "ok"));
    assert.equal(task.value(), "ok");
    // After done, nothing routes to it: a stray publication is not its.
    link(second).say(pub(task.taskId, 2, { step: 3 }));
    assert.deepEqual(task.publications.map((p) => p.data), [
      { step: 1 },
      { step: 2 },
    ]);
  });
});

Deno.test("LocalCluster: a direct task's publications stop at done; a retry-less balanced task fails with the engine", async () => {
  await withCluster(1, async ({ cluster, link, submit }) => {
    const [direct] = submit({ engineId: 0 });
    link(0).say(pub(direct.taskId, 1, { a: 1 }));
    link(0).say(doneMessage(direct.taskId));
    link(0).say(pub(direct.taskId, 2, { a: 2 }));
    assert.deepEqual(direct.publications.map((p) => p.data), [{ a: 1 }]);
    assert.equal(cluster.registry.latest(0)?.data.a, 2, "the registry has it");

    const [lost] = submit(balanced(0));
    link(0).exit("it was killed");
    await until(() => lost.settled, "the lost task to fail");
    assert.ok(lost.error() instanceof EngineError);
  });
});

Deno.test("LocalCluster: a direct task for an engine it never had fails at once, naming the engines", async () => {
  await withCluster(1, ({ submit }) => {
    const [task] = submit({ engineId: 7 });
    const error = task.error();
    assert.ok(error instanceof RangeError);
    assert.match(error.message, /there is no engine 7; the engines are \[0\]/);
  });
});

Deno.test("LocalCluster: queries answer from the engines", async () => {
  await withCluster(1, ({ cluster }) => {
    assert.deepEqual(cluster.ids(), [0]);
    assert.equal(cluster.has(0), true);
    assert.equal(cluster.has(1), false);
    assert.equal(cluster.sharesMemory(0), false);
    assert.equal(cluster.sharesMemory(9), true, "unknown counts as true");
    assert.equal(cluster.unrunnable(), undefined);
    assert.equal(cluster.connectionInfo, undefined, "it does not listen");
    const [status] = cluster.engines();
    assert.equal(status.kind, "worker");
    assert.equal(status.state, "idle");
  }, { sharesMemory: false });
});

Deno.test("LocalCluster: waitForEngines refuses what can never be, and a closed cluster", async () => {
  await withCluster(1, async ({ cluster }) => {
    const never = await errorOf(cluster.waitForEngines(2), "waitForEngines(2)");
    assert.match(never.message, /2 engines can never be up/);
    const pending = cluster.waitForEngines(1);
    await guard(pending, "waitForEngines(1)");
    const closing = cluster.close();
    const closed = await errorOf(cluster.waitForEngines(1), "after close");
    assert.ok(closed instanceof ClientClosedError);
    await guard(closing, "the close");
  });
});

Deno.test("LocalCluster: a listener that cannot bind is an error, and nothing is left running", () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = taken.addr as Deno.NetAddr;
  assert.throws(
    () => new LocalCluster({ admission: { listen: { port } } }),
    (error) =>
      error instanceof Deno.errors.AddrInUse &&
      error.message.includes(`cannot bind 127.0.0.1:${port}`) &&
      error.message.includes("give listen another port"),
  );
});

Deno.test("LocalCluster: the scheduler hears that a direct task ended, and gives its engine the next balanced task", async () => {
  await withCluster(3, ({ link, submit }) => {
    const upTo3: Placement = { balanced: { retries: 0, highWaterMark: 3 } };
    const [d1, d2] = submit({ engineId: 0 }, { engineId: 0 });
    const [a, b] = submit(upTo3, upTo3);
    assert.deepEqual([a.engines, b.engines], [[1], [2]], "engine 0 holds 2");
    link(0).say(doneMessage(d1.taskId));
    link(0).say(doneMessage(d2.taskId));
    assert.equal(d2.value(), d2.taskId);
    // Engine 0 holds nothing now, engines 1 and 2 one each: the scheduler
    // keeps loads in order and reads 0's again because the cluster said so.
    const [c] = submit(upTo3);
    assert.deepEqual(c.engines, [0]);
  });
});
