/**
 * An authenticated engine that sends messages that do not fit the protocol:
 * a fake engine (a real socket, the real handshake with the key, then
 * hand-written frames) against a real client with a real Worker engine. The
 * client drops that engine as a death whose reason names the message, every
 * task it held fails with an `EngineError` saying so, and the other engine
 * goes on working.
 */

import assert from "node:assert/strict";
import { type Client, EngineError, type EngineEvent } from "../mod.ts";
import { EngineActor } from "../cluster/engine_actor.ts";
import type { TaskOutcome } from "../cluster/engine_types.ts";
import type { FromEngine, RunMessage, ToEngine } from "../protocol/messages.ts";
import { Registry } from "../cluster/registry.ts";
import { WorkerLink } from "../transport/worker_link.ts";
import { FramedConnection } from "../transport/framed_connection.ts";
import { joinClient } from "../transport/handshake.ts";
import { errorOf, guard, until, withClient } from "./helpers.ts";

/**
 * Joins `client` as an engine that says `ready` and answers pings, and
 * sends what `onRun` returns for the first task it is given.
 */
async function joinFakeEngine(
  client: Client,
  onRun: (run: RunMessage) => unknown,
) {
  const { hostname, port, key } = client.connectionInfo;
  const conn = new FramedConnection(await Deno.connect({ hostname, port }));
  const engineId = await guard(
    joinClient(conn, key, {}, 5000),
    "the fake engine's handshake",
  );
  let ran = false;
  conn.onValue = (value) => {
    const message = value as ToEngine;
    const reply = (m: unknown) => conn.send(m).catch(() => {});
    if (message.t === "init") reply({ t: "ready" });
    else if (message.t === "ping") reply({ t: "pong" });
    else if (message.t === "run" && !ran) {
      ran = true;
      reply(onRun(message));
    }
  };
  await until(() => client.ids.includes(engineId), "the fake to register");
  return { conn, engineId };
}

/** Each bad message, made from the first task it is sent, and its name. */
const BAD: [string, (run: RunMessage) => unknown, RegExp][] = [
  [
    'a stream named "done"',
    (run) => ({ t: "stream", taskId: run.taskId, name: "done", text: "x" }),
    /"stream" message whose name is "done"/,
  ],
  [
    'a stream named "outcome"',
    (run) => ({ t: "stream", taskId: run.taskId, name: "outcome", text: "x" }),
    /"stream" message whose name is "outcome"/,
  ],
  [
    "a cancelled naming the running task, unasked",
    (run) => ({ t: "cancelled", taskIds: [run.taskId] }),
    /"cancelled" message naming task \d+, which the client did not ask/,
  ],
  ["a null frame", () => null, /null instead of a message object/],
  [
    "taskIds: 5",
    () => ({ t: "cancelled", taskIds: 5 }),
    /"cancelled" message whose taskIds is 5/,
  ],
  [
    "a done whose error is not an object",
    (run) => ({
      t: "done",
      taskId: run.taskId,
      started: 1,
      completed: 2,
      ok: false,
      error: "boom",
    }),
    /"done" message whose error is "boom"/,
  ],
  [
    "a message of a type that engines do not send",
    () => ({ t: "run", taskId: 1 }),
    /a message of unknown type "run"/,
  ],
];

Deno.test("a malformed message from an engine drops it and fails its tasks", async (t) => {
  await withClient({ workers: 1, listen: true }, async (client) => {
    const deaths: string[] = [];
    client.onEngineEvent((e) => {
      if (e.type === "died") deaths.push(`${e.engineId}: ${e.reason}`);
    });
    for (const [what, bad, named] of BAD) {
      await t.step(what, async () => {
        const fake = await joinFakeEngine(client, bad);
        const view = client.view(fake.engineId);
        // The first runs (and gets the bad answer); the rest are sent ahead
        // or queued: every one of them must settle.
        const ars = [1, 2, 3].map((x) => view.applyAsync((v) => v, x));
        for (const ar of ars) {
          const e = await errorOf(ar, `task ${ar.taskIds[0]} on the fake`);
          assert.ok(e instanceof EngineError, `${e.name}: ${e.message}`);
          assert.equal(e.engineId, fake.engineId);
          assert.match(e.reason, /does not fit the protocol/);
          assert.match(e.reason, named);
        }
        await guard(fake.conn.closed, "the client to close the fake's socket");
        assert.ok(
          deaths.some((d) =>
            d.startsWith(`${fake.engineId}: `) && named.test(d)
          ),
          `no death of engine ${fake.engineId} naming the message: ${deaths}`,
        );
        assert.equal(client.engines()[fake.engineId].state, "restarting");
        // The Worker engine keeps working, directly and load-balanced.
        assert.equal(await guard(client.view(0).applyAsync(() => 7), "w"), 7);
        const lb = client.loadBalancedView([0]);
        assert.equal(await guard(lb.applyAsync(() => 8), "lb"), 8);
      });
    }
  });
});

Deno.test("an engine actor that crashes fails every task it held, and later ones", async () => {
  const registry = new Registry();
  const link = new WorkerLink<ToEngine, FromEngine>(
    new URL("../engine/worker.ts", import.meta.url),
    { name: "troupe test engine" },
  );
  const events: EngineEvent[] = [];
  const engine = new EngineActor(0, link, registry, (e) => events.push(e));
  const outcomes = new Map<number, Promise<TaskOutcome>>();
  const submit = (taskId: number, source: string, onStream?: () => void) => {
    const done = Promise.withResolvers<TaskOutcome>();
    outcomes.set(taskId, done.promise);
    engine.tell({
      kind: "submit",
      task: {
        taskId,
        fn: { kind: "source", source },
        args: [],
        observer: {
          started() {},
          stream: onStream ?? (() => {}),
          done: done.resolve,
        },
      },
    });
  };
  try {
    // A bug of ours, stood in for by an observer that throws: the actor
    // crashes while it handles the engine's message.
    submit(1, "() => console.log('hi')", () => {
      throw new Error("a bug in an observer");
    });
    submit(2, "() => 2");
    submit(3, "() => 3");
    for (const taskId of [1, 2, 3]) {
      const outcome = await guard(outcomes.get(taskId)!, `task ${taskId}`);
      assert.equal(outcome.ok, false, `task ${taskId} succeeded`);
      const { error } = outcome as { error: Error };
      assert.ok(
        error instanceof EngineError,
        `${error.name}: ${error.message}`,
      );
      assert.match(error.message, /actor for it crashed: a bug in an observer/);
    }
    assert.equal(engine.state, "stopped");
    assert.ok(events.some((e) => e.type === "gaveUp"));
    // Told after the crash: answered at once, not dropped.
    submit(4, "() => 4");
    const late = await guard(outcomes.get(4)!, "a task after the crash");
    assert.equal(late.ok, false);
  } finally {
    await guard(link.terminate(), "the engine thread to end");
    registry.tell({ kind: "close" });
  }
});

Deno.test("a Worker engine that posts a malformed message is dropped and restarted", async () => {
  await withClient({ workers: 2 }, async (client) => {
    // A task can reach its thread's port: the same check applies to it.
    const ar = client.view(0).applyAsync(async () => {
      const { parentPort } = await import("node:worker_threads");
      parentPort!.postMessage({ t: "cancelled", taskIds: 5 });
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      return "the client took a malformed message";
    });
    const e = await errorOf(ar, "the task of the Worker that misbehaved");
    assert.ok(e instanceof EngineError, `${e.name}: ${e.message}`);
    assert.equal(e.engineId, 0);
    assert.match(
      e.reason,
      /does not fit the protocol: a "cancelled" message whose taskIds is 5/,
    );
    await until(
      () => client.engines()[0].state === "idle",
      "engine 0 to be restarted",
    );
    assert.equal(client.engines()[0].restarts, 1);
    assert.deepEqual(
      await guard(client.view().applyAsync(() => 1), "both engines"),
      [1, 1],
    );
  });
});
