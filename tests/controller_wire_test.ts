/**
 * The controller's server side over its real wire: a controller in this
 * process (`startController`, Worker engines) and raw clients that speak
 * remote/wire.ts over a FramedConnection after the client handshake, so
 * that what the controller sends is checked frame by frame.
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { startController } from "../controller/controller.ts";
import type { WireTaskEvent } from "../remote/wire.ts";
import { TASK_ID_BLOCK } from "../remote/wire.ts";
import { fromWireError } from "../remote/wire_errors.ts";
import { EngineError } from "../protocol/errors.ts";
import {
  HandshakeError,
  joinClient,
  joinPeer,
} from "../transport/handshake.ts";
import {
  errorOf,
  guard,
  until,
  withController,
  withTempDir,
} from "./helpers.ts";
import { assertHandshakeError } from "./handshake_servers.ts";
import { History } from "../controller/history.ts";
import { fileLatch } from "./file_latch.ts";
import { startDenoScript } from "./hand_engine.ts";
import { attach, dial, task } from "./raw_wire_client.ts";

/** The controller most of these tests talk to. */
const WIRE = { id: "wire", engines: { workers: 2 } };

const SLOW_TASK = `async (n) => {
  console.log("starting");
  publishData({ step: 0, engine: engineId });
  await new Promise((r) => setTimeout(r, n));
  publishData({ step: 1 });
  console.error("ending");
  return n * 2;
}`;

Deno.test("controller wire: a task's whole life reaches its client", async () => {
  await withController(WIRE, async (controller) => {
    const client = await attach(controller);
    const { attached } = client;
    assert.equal(attached.clusterId, "wire");
    assert.equal(attached.taskIdBase, attached.clientNo * TASK_ID_BLOCK);
    assert.deepEqual(attached.engines.map((e) => e.engineId), [0, 1]);
    assert.deepEqual(attached.connectionInfo, controller.engineInfo);
    assert.notEqual(attached.connectionInfo?.key, controller.clientInfo.key);
    assert.deepEqual(attached.launchers, []);
    assert.equal(controller.sessions, 1);

    const id = attached.taskIdBase + 1;
    await client.send({
      t: "submit",
      tasks: [task(id, SLOW_TASK, [20], { balanced: { retries: 0 } })],
    });
    const events = await client.finished(id, "the balanced task");
    const kinds = events.map((e) => e.kind);
    assert.equal(kinds[0], "assigned");
    assert.equal(kinds[1], "started");
    assert.equal(kinds.at(-1), "done");
    const done = events.at(-1) as Extract<WireTaskEvent, { kind: "done" }>;
    assert.deepEqual(done.outcome.ok && done.outcome.value, 40);
    const streams = events.filter((e) => e.kind === "stream");
    assert.deepEqual(
      streams.map((e) => [e.name, e.text.trim()]),
      [["stdout", "starting"], ["stderr", "ending"]],
    );
    const published = events.flatMap((e) =>
      e.kind === "publish" ? [e.publication.data] : []
    );
    assert.deepEqual(published.at(-1), { step: 1 });
    // Engine snapshots come as loads change; the last says it is idle.
    await until(
      () =>
        client.got.some((m) =>
          m.t === "engines" && m.engines.every((e) => e.load === 0) &&
          m.engines.some((e) => e.tasksDone === 1)
        ),
      "an engines snapshot after the task",
    );
    await client.close();
    await until(() => controller.sessions === 0, "the session's end");
  });
});

Deno.test("controller wire: follow mid-task and after the end", async () => {
  await withController(WIRE, async (controller) => {
    const first = await attach(controller);
    const second = await attach(controller);
    assert.notEqual(first.attached.clientNo, second.attached.clientNo);
    const id = first.attached.taskIdBase + 1;
    await first.send({ t: "submit", tasks: [task(id, SLOW_TASK, [300])] });
    await until(
      () => first.events(id).some((e) => e.kind === "publish"),
      "the first publication",
    );
    await second.send({ t: "follow", taskIds: [id] });
    const seen = await second.finished(id, "the follower");
    const kinds = seen.map((e) => e.kind);
    // The replay: its engine, its start, its output, its data so far.
    assert.deepEqual(kinds.slice(0, 4), [
      "assigned",
      "started",
      "stream",
      "publish",
    ]);
    assert.equal((seen[0] as { engineId: number }).engineId, 0);
    const data = seen.flatMap((e) =>
      e.kind === "publish" ? [e.publication.data] : []
    );
    assert.deepEqual(data[0], { step: 0, engine: 0 });
    const done = seen.at(-1) as Extract<WireTaskEvent, { kind: "done" }>;
    assert.equal(done.outcome.ok && done.outcome.value, 600);
    await first.finished(id, "the submitter");

    // After the end: the history's record, merged data and all.
    const late = await attach(controller);
    await late.send({ t: "follow", taskIds: [id] });
    const replay = await late.finished(id, "the late follower");
    assert.deepEqual(replay.map((e) => e.kind), [
      "assigned",
      "started",
      "stream",
      "stream",
      "publish",
      "done",
    ]);
    const merged = replay.find((e) => e.kind === "publish") as Extract<
      WireTaskEvent,
      { kind: "publish" }
    >;
    assert.deepEqual(merged.publication.data, { step: 1, engine: 0 });
    const lateDone = replay.at(-1) as Extract<WireTaskEvent, { kind: "done" }>;
    assert.equal(lateDone.outcome.ok && lateDone.outcome.value, 600);

    // A task the history never had.
    const unknown = 99 * TASK_ID_BLOCK + 5;
    await late.send({ t: "follow", taskIds: [unknown] });
    const [never] = await late.finished(unknown, "an unknown task");
    assert.equal(never.kind, "done");
    const outcome = (never as Extract<WireTaskEvent, { kind: "done" }>)
      .outcome;
    assert.ok(!outcome.ok);
    const error = fromWireError(outcome.error);
    assert.ok(error instanceof RangeError);
    assert.match(error.message, /not in cluster wire's history/);
    await Promise.all([first.close(), second.close(), late.close()]);
  });
});

Deno.test("controller wire: task ids outside the block or used are refused", async () => {
  await withController(WIRE, async (controller) => {
    const client = await attach(controller);
    const base = client.attached.taskIdBase;
    const outside = base + TASK_ID_BLOCK + 1;
    const other = base - TASK_ID_BLOCK + 1;
    const ok = base + 1;
    await client.send({
      t: "submit",
      tasks: [
        task(outside, "() => 1"),
        task(other, "() => 2"),
        task(ok, "() => 3"),
        task(ok, "() => 4"),
      ],
    });
    for (const id of [outside, other]) {
      const [done] = await client.finished(id, "a refused id");
      assert.ok(done.kind === "done" && !done.outcome.ok);
      const error = fromWireError(done.outcome.error);
      assert.ok(error instanceof RangeError);
      assert.match(error.message, /outside client \d+'s block/);
    }
    // The second use's refusal comes at once, the run's done when it ran:
    // either may be heard first.
    await until(
      () => client.events(ok).filter((e) => e.kind === "done").length >= 2,
      "the good id's run and its reuse's refusal",
    );
    const dones = client.events(ok).filter((e) => e.kind === "done");
    assert.equal(dones.length, 2);
    const outcomes = dones.map((e) =>
      (e as { outcome: { ok: boolean } }).outcome
    );
    // One ran; the second use of its id in the same batch was refused.
    assert.ok(outcomes.some((o) => o.ok));
    const refused = dones.find((e) => e.kind === "done" && !e.outcome.ok);
    assert.ok(refused?.kind === "done" && !refused.outcome.ok);
    assert.match(refused.outcome.error.message, /was used already/);
    // And again later, once it is in the history.
    await client.send({ t: "submit", tasks: [task(ok, "() => 5")] });
    await until(
      () => client.events(ok).filter((e) => e.kind === "done").length === 3,
      "the reuse's refusal",
    );
    // And after a purge: the history forgets the task, never its id.
    await client.send({
      t: "call",
      id: 1,
      call: { kind: "purge", filter: { taskIds: [ok] } },
    });
    const purged = await client.reply(1);
    assert.ok(purged.ok && purged.value === 1, JSON.stringify(purged));
    await client.send({ t: "submit", tasks: [task(ok, "() => 6")] });
    await until(
      () => client.events(ok).filter((e) => e.kind === "done").length === 4,
      "the refusal of a purged id",
    );
    const again = client.events(ok).filter((e) => e.kind === "done").at(-1);
    assert.ok(again?.kind === "done" && !again.outcome.ok);
    assert.match(again.outcome.error.message, /was used already/);
    // Ids only go up: one below the highest this client used is refused
    // too, though no task had it.
    const high = base + 10;
    await client.send({ t: "submit", tasks: [task(high, "() => 7")] });
    await client.finished(high, "a higher id");
    await client.send({ t: "submit", tasks: [task(base + 5, "() => 8")] });
    const [below] = await client.finished(base + 5, "an id below the highest");
    assert.ok(below.kind === "done" && !below.outcome.ok);
    assert.match(
      below.outcome.error.message,
      new RegExp(`task id ${base + 5} was used already .*nextTaskId\\(\\)`),
    );
    await client.close();
  });
});

Deno.test("controller wire: wrong keys and wrong purposes are refused", async () => {
  await withController(WIRE, async (controller) => {
    const wrongKey = await errorOf(
      attach(controller, "not the client key"),
      "a wrong client key",
    );
    assert.ok(wrongKey instanceof HandshakeError);
    assert.match(
      wrongKey.message,
      /the controller refused this client: it does not hold the client key/,
    );

    const engineKey = await errorOf(
      attach(controller, controller.engineInfo.key),
      "the engine key on the client port",
    );
    assert.ok(engineKey instanceof HandshakeError);
    assert.match(
      engineKey.message,
      /the controller refused this client: it does not hold the client key/,
    );

    // An engine at the client port is told where engines go.
    const asEngine = await dial(controller.clientInfo.port);
    const engineError = await errorOf(
      joinClient(asEngine, controller.clientInfo.key, {}, 5000),
      "an engine on the client port",
    );
    asEngine.close("test over");
    await asEngine.closed;
    assert.ok(engineError instanceof HandshakeError);
    assert.ok(engineError.refused);
    assert.match(
      engineError.message,
      /client port: engines connect to its engine port/,
    );

    // A client at the engine port is told where clients go.
    const asClient = await dial(controller.engineInfo.port);
    const clientError = await errorOf(
      joinPeer(asClient, controller.engineInfo.key, "client", {}, 5000),
      "a client on the engine port",
    );
    asClient.close("test over");
    await asClient.closed;
    assert.ok(clientError instanceof HandshakeError);
    assert.match(
      clientError.message,
      /engine port.*clients attach to a controller's client port/,
    );

    // None of them became a session; a real client still gets in.
    assert.equal(controller.sessions, 0);
    const client = await attach(controller);
    assert.equal(client.attached.clusterId, "wire");
    await client.close();
  });
});

Deno.test("controller wire: a malformed message closes only its session", async () => {
  await withController(WIRE, async (controller) => {
    const good = await attach(controller);
    const bad = await attach(controller);
    const id = good.attached.taskIdBase + 1;
    await good.send({
      t: "submit",
      tasks: [task(id, SLOW_TASK, [200], { engineId: 1 })],
    });
    await until(
      () => good.events(id).some((e) => e.kind === "started"),
      "the good session's task start",
    );
    await bad.conn.send({ t: "submit", tasks: [{ taskId: "one" }] });
    await until(() => bad.closedWith !== undefined, "the bad session's close");
    const closing = bad.got.find((m) => m.t === "closing");
    assert.ok(closing?.t === "closing");
    assert.match(closing.reason, /a "submit" message whose tasks is/);
    const events = await good.finished(id, "the good session's task");
    const done = events.at(-1) as Extract<WireTaskEvent, { kind: "done" }>;
    assert.equal(done.outcome.ok && done.outcome.value, 400);
    assert.equal(controller.sessions, 1);
    await good.close();
  });
});

Deno.test("controller wire: calls answer, and shutdown stops it", async () => {
  await withController(
    { id: "wire", engines: { workers: 1 }, log: () => {} },
    async (controller) => {
      const client = await attach(controller);
      const id = client.attached.taskIdBase + 1;
      await client.send({ t: "submit", tasks: [task(id, "() => 7")] });
      await client.finished(id, "a task");
      await client.send({ t: "call", id: 1, call: { kind: "history" } });
      const history = await client.reply(1);
      assert.ok(history.ok);
      assert.deepEqual(history.value, [id]);
      await client.send({
        t: "call",
        id: 2,
        call: { kind: "waitForEngines", n: 5, timeoutMs: 50 },
      });
      const timedOut = await client.reply(2);
      assert.ok(!timedOut.ok);
      assert.equal(timedOut.error.name, "TimeoutError");
      await client.send({
        t: "call",
        id: 3,
        call: { kind: "scale", n: 2, launcher: "slurm" },
      });
      const noLauncher = await client.reply(3);
      assert.ok(!noLauncher.ok);
      assert.match(noLauncher.error.message, /no launcher "slurm"/);

      await client.send({ t: "call", id: 4, call: { kind: "shutdown" } });
      const bye = await client.reply(4);
      assert.ok(bye.ok);
      await guard(controller.closed, "the controller's stop", 30_000);
      await until(() => client.closedWith !== undefined, "the session's end");
      const last = client.got.at(-1);
      assert.equal(last?.t, "closing");
    },
  );
});

Deno.test("controller wire: stop fails running tasks as their engines go", async () => {
  const controller = await guard(
    startController({ id: "wire", engines: { workers: 1 }, log: () => {} }),
    "startController",
    60_000,
  );
  const client = await attach(controller);
  const id = client.attached.taskIdBase + 1;
  await client.send({
    t: "submit",
    tasks: [task(id, "() => new Promise(() => {})")],
  });
  await until(
    () => client.events(id).some((e) => e.kind === "started"),
    "the endless task's start",
  );
  await guard(controller.stop(), "stop", 30_000);
  await until(() => client.closedWith !== undefined, "the session's end");
  // The task's end reached its client before the controller's goodbye.
  const done = client.events(id).at(-1);
  assert.ok(done?.kind === "done" && !done.outcome.ok);
  assert.ok(fromWireError(done.outcome.error) instanceof EngineError);
  assert.equal(client.got.at(-1)?.t, "closing");
  await client.close();
});

Deno.test("controller wire: bad options and a taken client port are clear errors", async () => {
  const misspelt = await errorOf(
    startController({ id: "x", clientKye: "k" } as never),
    "a misspelt option",
  );
  assert.ok(misspelt instanceof TypeError);
  assert.match(misspelt.message, /unknown option "clientKye".*clientKey/);
  const same = await errorOf(
    startController({ id: "x", clientKey: "k", engines: { key: "k" } }),
    "the same key twice",
  );
  assert.ok(same instanceof TypeError);
  assert.match(same.message, /client key and the engine key are the same/);
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const busy = await errorOf(
    startController({
      id: "x",
      engines: { workers: 1 },
      clientListen: { port: taken.addr.port },
    }),
    "a client port that is taken",
  );
  assert.ok(busy instanceof Deno.errors.AddrInUse);
  assert.match(
    busy.message,
    new RegExp(`client listener cannot bind 127.0.0.1:${taken.addr.port}`),
  );
  const noListen = await errorOf(
    startController({ id: "x", engines: { listen: false } }),
    "no engine listener",
  );
  assert.match(noListen.message, /always listens for engines/);
  for (
    const [name, bad] of [
      ["clientHeartbeatMs", 0],
      ["clientTimeoutMs", -5],
      ["maxUnsentBytes", -1],
      ["maxUnsentBytes", 1.5],
      ["clientHeartbeatMs", "1000"],
    ] as const
  ) {
    const error = await errorOf(
      startController({ id: "x", [name]: bad } as never),
      `${name}: ${bad}`,
    );
    assert.ok(
      error instanceof RangeError || error instanceof TypeError,
      `${name}: ${bad} gave ${error}`,
    );
    assert.match(error.message, new RegExp(`${name} must be a positive`));
  }
  // Refused before the history is touched: the last controller's
  // unfinished task is not failed as lost.
  await withTempDir(async (dir) => {
    const path = `${dir}/history.db`;
    const before = History.open({ path });
    const clientNo = before.nextClientNo();
    const taskId = clientNo * TASK_ID_BLOCK + 1;
    before.submitted(task(taskId, "() => 1"), clientNo, Date.now());
    before.close();
    await errorOf(
      startController({ id: "x", history: { path }, clientTimeoutMs: 0 }),
      "a bad clientTimeoutMs with a history",
    );
    const after = History.open({ path });
    try {
      assert.equal(after.get(taskId)?.state, "queued");
    } finally {
      after.close();
    }
  });
});

Deno.test("controller wire: tasks a killed controller left are failed as lost", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/history.db`;
    // What a controller killed mid-task leaves: a task running, one
    // queued, never to end (close() only flushes what was written).
    const before = History.open({ path });
    const clientNo = before.nextClientNo();
    const base = clientNo * TASK_ID_BLOCK;
    before.submitted(task(base + 1, "() => 1"), clientNo, Date.now());
    before.assigned(base + 1, 0);
    before.started(base + 1, Date.now());
    before.submitted(
      task(base + 2, "() => 2", [], { balanced: { retries: 0 } }),
      clientNo,
      Date.now(),
    );
    before.close();

    const lines: string[] = [];
    await withController({
      id: "wire",
      engines: { workers: 1 },
      history: { path },
      // As the CLI passes it from the stale state file.
      previousPid: 4242,
      log: (line) => lines.push(line),
    }, async (controller) => {
      assert.ok(
        lines.some((l) => /2 tasks of the history were unfinished/.test(l)),
      );
      const client = await attach(controller);
      assert.ok(client.attached.clientNo > clientNo, "a new client number");
      await client.send({ t: "follow", taskIds: [base + 1, base + 2] });
      const [running] = (await client.finished(base + 1, "the running one"))
        .filter((e) => e.kind === "done");
      assert.ok(running.kind === "done" && !running.outcome.ok);
      const lost = fromWireError(running.outcome.error);
      assert.ok(lost instanceof EngineError);
      assert.match(
        lost.message,
        new RegExp(
          `the controller stopped \\(pid 4242, killed or crashed\\) while task ` +
            `${base + 1} was running on engine 0; its result was lost`,
        ),
      );
      assert.equal(lost.engineId, 0);
      const [queued] = (await client.finished(base + 2, "the queued one"))
        .filter((e) => e.kind === "done");
      assert.ok(queued.kind === "done" && !queued.outcome.ok);
      assert.match(
        queued.outcome.error.message,
        new RegExp(
          `the controller stopped \\(pid 4242, killed or crashed\\) while ` +
            `task ${base + 2} was queued; its result was lost`,
        ),
      );
      // A task the killed controller took within its last flush interval
      // is in no row: the error says so, and what may have become of it.
      await client.send({ t: "follow", taskIds: [base + 3] });
      const [unwritten] = await client.finished(base + 3, "an unwritten one");
      assert.ok(unwritten.kind === "done" && !unwritten.outcome.ok);
      const missing = fromWireError(unwritten.outcome.error);
      assert.ok(missing instanceof RangeError);
      assert.equal(
        missing.message,
        `task ${base + 3} is not in cluster wire's history: it is above ` +
          `every task id of client ${clientNo}, a client of an earlier ` +
          "controller: if it was submitted, the controller it was submitted " +
          "to (pid 4242) was killed or crashed within 50 ms (the history's " +
          "flush interval) of receiving it, before it was written. It may " +
          "have run, and its end may have reached the client that submitted " +
          "it then, but nothing of it is known here: run it again if that " +
          "client has no result",
      );
      // This controller's own client's block: never submitted, as before.
      const own = client.attached.taskIdBase + 1;
      await client.send({ t: "follow", taskIds: [own] });
      const [never] = await client.finished(own, "a never submitted one");
      assert.ok(never.kind === "done" && !never.outcome.ok);
      assert.match(never.outcome.error.message, /or never submitted$/);
      await client.close();
    });
  });
});

Deno.test("controller wire: sealed client frames", async () => {
  await withController({
    id: "wire",
    engines: { workers: 1 },
    encryptClients: true,
    log: () => {},
  }, async (controller) => {
    const client = await attach(controller);
    assert.ok(client.conn.sealed);
    const id = client.attached.taskIdBase + 1;
    await client.send({
      t: "submit",
      tasks: [task(id, "(a) => a.length", [new Uint8Array(9)])],
    });
    const events = await client.finished(id, "a sealed task");
    const done = events.at(-1);
    assert.ok(done?.kind === "done" && done.outcome.ok);
    assert.equal(done.outcome.value, 9);
    await client.close();
  });
});

const STALLED_CLIENT = new URL(
  "./fixtures/stalled_wire_client.ts",
  import.meta.url,
).pathname;

Deno.test("controller wire: a client that takes nothing is let go, its tasks run on", async () => {
  await withTempDir(async (dir) => {
    const lines: string[] = [];
    const options = {
      id: "wire",
      engines: { workers: 2 },
      maxUnsentBytes: 4 * 2 ** 20,
      // What lets this client go is the bytes it does not take, not its
      // silence (tests/controller_heartbeat_test.ts has that).
      clientHeartbeatMs: 60_000,
      log: (line: string) => void lines.push(line),
    };
    await withController(options, async (controller) => {
      const go = fileLatch(dir, "go");
      const n = 48; // 48 MiB of results: far past what sockets buffer.
      const stalled = startDenoScript(
        STALLED_CLIENT,
        [String(controller.clientInfo.port), go.path, String(n)],
        { TROUPE_TEST_CLIENT_KEY: controller.clientInfo.key },
      );
      try {
        await stalled.waitForStderr(/submitted base=\d+/, "the submit");
        const base = Number(/base=(\d+)/.exec(stalled.stderr())![1]);
        Deno.kill(stalled.pid, "SIGSTOP");
        go.open();
        await until(
          () => lines.some((l) => /has not taken the last \d+ bytes/.test(l)),
          "the stalled session's end",
          60_000,
        );
        await until(() => controller.sessions === 0, "the session's close");
        // Its tasks ran on: another client gets every result.
        // (One at a time: this client takes what it is sent, but 48 MiB at
        // once would be past the 4 MiB this controller lets wait.)
        const other = await attach(controller);
        for (let id = base + 1; id <= base + n; id++) {
          await other.send({ t: "follow", taskIds: [id] });
          const done = (await other.finished(id, "a stalled client's task"))
            .at(-1);
          assert.ok(done?.kind === "done" && done.outcome.ok, `task ${id}`);
          assert.equal((done.outcome.value as string).length, 2 ** 20);
        }
        await other.close();
      } finally {
        Deno.kill(stalled.pid, "SIGCONT");
        await stalled.kill();
      }
    });
  });
});

Deno.test("controller wire: client numbers end where task ids would lose precision", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/history.db`;
    History.open({ path }).close();
    // The last client number whose block of ids is exact, as if that many
    // clients had attached.
    const db = new DatabaseSync(path);
    db.prepare("update meta set value = ? where key = 'nextClientNo'")
      .run(2 ** 21 - 1);
    db.close();
    await withController({
      id: "wire",
      engines: { workers: 1 },
      history: { path },
      log: () => {},
    }, async (controller) => {
      const last = await attach(controller);
      assert.equal(last.attached.clientNo, 2 ** 21 - 1);
      const id = last.attached.taskIdBase + TASK_ID_BLOCK - 1;
      assert.equal(id, Number.MAX_SAFE_INTEGER);
      await last.send({ t: "submit", tasks: [task(id, "() => 8")] });
      const done = (await last.finished(id, "the very last id")).at(-1);
      assert.ok(done?.kind === "done" && done.outcome.ok);
      const refused = await errorOf(attach(controller), "one client more");
      assertHandshakeError(
        refused,
        /the controller refused this client: cluster wire has given out every client number/,
        true,
      );
      await last.close();
    });
  });
});
