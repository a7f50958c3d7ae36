/**
 * A connected client (`Client.connect`) on a controller in this process
 * (`startController`), with Worker engines and with process engines: the
 * same API as an embedded client through the seam, results that outlive
 * the client that submitted them (`toJSON` / `resume`, `getResult`), the
 * history, detach, shutdown, and a lost controller.
 */

import assert from "node:assert/strict";
import {
  Client,
  ClientClosedError,
  CompositeError,
  ControllerLostError,
  EngineError,
  type EngineEvent,
  local,
  RemoteError,
  TaskAbortedError,
  TimeoutError,
} from "../mod.ts";
import type { Controller } from "../controller/controller.ts";
import { dialController } from "../remote/connect.ts";
import { writeClusterState } from "../remote/cluster_state.ts";
import { RemoteCluster } from "../remote/remote_cluster.ts";
import type { TaskOutcome } from "../cluster/cluster.ts";
import { HandshakeError } from "../transport/handshake.ts";
import { liveWorkerCount } from "../transport/worker_link.ts";
import { TapRelay } from "./tap_relay.ts";
import { fileLatch, holdUntilFile, stepUntilFile } from "./file_latch.ts";
import {
  collect,
  ENGINE_KINDS,
  engines,
  errorOf,
  guard,
  RESTART_AT_ONCE,
  until,
  withController,
  withTempDir,
} from "./helpers.ts";

const quiet = { log: () => {} };

for (const kind of ENGINE_KINDS) {
  Deno.test(`a connected client on 2 ${kind} engines`, async (t) => {
    await withTempDir(async (dir) => {
      await withController({
        id: `connect-${kind}`,
        engines: { ...engines(kind, 2), restart: RESTART_AT_ONCE },
      }, async (controller) => {
        const client = await guard(
          Client.connect(controller.clientInfo, quiet),
          "Client.connect",
        );
        try {
          await steps(t, client, controller, dir, kind);
        } finally {
          await guard(client.close(), "the client to detach");
        }
      });
    });
  });
}

async function steps(
  t: Deno.TestContext,
  client: Client,
  controller: Controller,
  dir: string,
  kind: string,
): Promise<void> {
  await t.step("the engines, as the controller has them", async () => {
    await guard(client.waitForEngines(2, { timeoutMs: 20_000 }), "engines");
    assert.deepEqual(client.ids, [0, 1]);
    assert.equal(client.clusterId, `connect-${kind}`);
    assert.deepEqual(
      client.engines().map((e) => e.kind),
      [kind, kind],
    );
    const info = client.connectionInfo;
    assert.equal(info.port, controller.engineInfo.port);
  });

  await t.step("direct and load-balanced tasks, map", async () => {
    assert.deepEqual(
      await guard(client.view().applyAsync((x: number) => x * 2, 21), "apply"),
      [42, 42],
    );
    assert.equal(
      await guard(client.view(1).applyAsync(() => "one"), "apply on 1"),
      "one",
    );
    const lb = client.loadBalancedView();
    assert.equal(await guard(lb.applyAsync((a, b) => a + b, 2, 3), "lb"), 5);
    assert.deepEqual(
      await guard(lb.mapAsync((x: number) => x * x, [1, 2, 3, 4]), "lb map"),
      [1, 4, 9, 16],
    );
    assert.deepEqual(
      await guard(
        client.view().mapAsync((x: number) => x + 1, [1, 2, 3]),
        "direct map",
      ),
      [2, 3, 4],
    );
  });

  await t.step("push and pull", async () => {
    await guard(
      client.view().push({ a: 7, typed: new Float64Array([1.5]) }),
      "push",
    );
    assert.deepEqual(await guard(client.view().pull("a"), "pull"), [7, 7]);
    const typed = await guard(client.view(0).pull("typed"), "pull typed");
    assert.deepEqual(typed, new Float64Array([1.5]));
  });

  await t.step("ar.data is live while a task publishes", async () => {
    const go = fileLatch(dir, `steps-${kind}`);
    const ar = client.view(0).applyAsync(stepUntilFile, go.path, 20);
    const seen = client.registry.updates();
    await until(
      () => typeof ar.data.step === "number" && (ar.data.step as number) >= 2,
      "two steps in ar.data",
    );
    assert.equal(ar.ready(), false);
    assert.ok(client.registry.latest(0)?.data.step !== undefined);
    const publications = collect(ar.publications());
    go.open();
    const last = await guard(ar, "the stepping task");
    assert.equal(ar.data.step, last);
    const published = await guard(publications, "publications()");
    assert.ok(published.every((p) => p.engineId === 0));
    // The registry's stream goes on: it is the client's, not the task's.
    const iterator = seen[Symbol.asyncIterator]();
    const first = await guard(iterator.next(), "registry.updates()");
    assert.equal(first.value?.engineId, 0);
    await iterator.return?.();
  });

  await t.step("a RemoteError keeps its class and remote stack", async () => {
    const error = await errorOf(
      client.view(0).applyAsync(function fails() {
        throw new TypeError("boom on the engine");
      }),
    );
    assert.ok(error instanceof RemoteError, `${error}`);
    assert.equal(error.remoteName, "TypeError");
    assert.equal(error.remoteMessage, "boom on the engine");
    assert.match(error.remoteStack, /boom on the engine/);
  });

  await t.step("an engine that dies: EngineError, and it is back", async () => {
    const events: EngineEvent[] = [];
    const stop = client.onEngineEvent((e) => events.push(e));
    try {
      const error = await errorOf(
        client.view(1).applyAsync(() => Deno.exit(3)),
        "the dying task",
        20_000,
      );
      assert.ok(error instanceof EngineError, `${error}`);
      assert.equal(error.engineId, 1);
      await until(
        () => events.some((e) => e.type === "restarted" && e.engineId === 1),
        "engine 1 restarted",
        20_000,
      );
      assert.ok(events.some((e) => e.type === "died" && e.engineId === 1));
      await guard(client.waitForEngines(2, { timeoutMs: 20_000 }), "engines");
      await until(() => client.ids.length === 2, "both engines up", 20_000);
      assert.equal(
        await guard(client.view(1).applyAsync(() => "back"), "engine 1"),
        "back",
      );
    } finally {
      stop();
    }
  });

  await t.step("abort", async () => {
    const held = fileLatch(dir, `never-${kind}`);
    const ar = client.view(0).applyAsync(holdUntilFile, held.path);
    await until(() => ar.data.started === true, "the held task to start");
    await guard(ar.abort(), "abort");
    const error = await errorOf(ar);
    assert.ok(error instanceof TaskAbortedError, `${error}`);
    await guard(client.waitForEngines(2, { timeoutMs: 20_000 }), "engines");
  });

  await t.step("waitForEngines that cannot be met times out", async () => {
    const error = await errorOf(
      client.waitForEngines(5, { timeoutMs: 300 }),
      "waitForEngines(5)",
    );
    assert.ok(error instanceof TimeoutError, `${error}`);
  });

  await t.step("toJSON, then resume in a second client", async () => {
    const go = fileLatch(dir, `resume-${kind}`);
    const ar = client.view(1).applyAsync(stepUntilFile, go.path, 20);
    await until(() => ar.data.step !== undefined, "a first step");
    const saved = JSON.stringify(ar);
    const json = JSON.parse(saved);
    assert.equal(json.troupe, "AsyncResult");
    assert.equal(json.cluster, `connect-${kind}`);
    assert.equal(json.single, true);
    const second = await guard(
      Client.connect(controller.clientInfo, quiet),
      "connect",
    );
    try {
      const resumed = second.resume(saved);
      await until(
        () =>
          typeof (resumed.data as Record<string, unknown>).step === "number",
        "the resumed result's data",
      );
      go.open();
      const value = await guard(ar, "the original");
      assert.equal(await guard(resumed, "the resumed"), value);
      assert.deepEqual(resumed.taskIds, ar.taskIds);
      assert.deepEqual(resumed.engineIds, [1]);
      assert.deepEqual(
        await guard(second.getResult(ar.taskIds), "getResult"),
        [value],
      );
      // One task twice: each place hears it once (its stdout not doubled).
      const printed = client.view(0).applyAsync(() => {
        console.log("once");
        return 1;
      });
      await guard(printed, "a task that prints");
      const twice = second.getResult([...printed.taskIds, ...printed.taskIds]);
      assert.deepEqual(await guard(twice, "getResult twice"), [1, 1]);
      assert.deepEqual(twice.stdout, ["once\n", "once\n"]);
    } finally {
      await second.close();
    }
  });

  await t.step("a map's JSON resumes to the same shape", async () => {
    const ar = client.view().mapAsync((x: number) => x * 10, [1, 2, 3, 4, 5]);
    const lb = client.loadBalancedView().mapAsync(
      (x: number) => x + 1,
      [1, 2, 3],
      { ordered: false },
    );
    await guard(Promise.all([ar, lb]), "the maps");
    const second = await guard(
      Client.connect(controller.clientInfo, quiet),
      "connect",
    );
    try {
      const again = second.resume(JSON.parse(JSON.stringify(ar)));
      assert.deepEqual(await guard(again, "the resumed map"), [
        10,
        20,
        30,
        40,
        50,
      ]);
      assert.deepEqual(again.toJSON().items, ar.toJSON().items);
      assert.equal(again.progress, 5);
      const unordered = second.resume(lb.toJSON());
      assert.equal(lb.toJSON().unordered, true);
      assert.deepEqual(
        (await guard(unordered, "the resumed unordered map") as number[])
          .toSorted(),
        [2, 3, 4],
      );
    } finally {
      await second.close();
    }
  });

  await t.step("history, query, purge", async () => {
    const ar = client.loadBalancedView().mapAsync((x: number) => x, [1, 2]);
    await guard(ar, "two tasks");
    const ids = await guard(client.history(), "history");
    for (const id of ar.taskIds) {
      assert.ok(ids.includes(id), `${id} in history`);
    }
    const [summary] = await guard(
      client.query({ taskIds: [ar.taskIds[0]], full: true }),
      "query",
    );
    assert.equal(summary.state, "ok");
    assert.equal(summary.taskId, ar.taskIds[0]);
    assert.ok(summary.engineId === 0 || summary.engineId === 1);
    assert.ok(summary.completed! >= summary.submitted);
    const failed = await guard(client.query({ state: "error" }), "errors");
    assert.ok(failed.length >= 1, "the RemoteError and EngineError tasks");
    const typeError = await errorOf(
      client.query({ stat: "ok" } as never),
      "a misspelt query",
    );
    assert.ok(typeError instanceof TypeError);
    assert.match(typeError.message, /state/);
    assert.equal(
      await guard(client.purge({ taskIds: ar.taskIds }), "purge"),
      2,
    );
    const gone = await errorOf(client.getResult([ar.taskIds[0]]), "purged");
    // A result of a list of tasks: its failures come in a CompositeError.
    assert.ok(gone instanceof CompositeError, `${gone}`);
    assert.ok(gone.errors[0] instanceof RangeError, `${gone.errors[0]}`);
    assert.match(gone.errors[0].message, /not in cluster connect-/);
  });

  await t.step("a value that cannot cross fails its task alone", async () => {
    const lb = client.loadBalancedView();
    const results = [
      lb.applyAsync((x: unknown) => typeof x, new SharedArrayBuffer(8)),
      lb.applyAsync(() => "fine"),
    ];
    const error = await errorOf(results[0], "the SharedArrayBuffer task");
    assert.match(error.message, /SharedArrayBuffer/);
    assert.equal(await guard(results[1], "the fine task"), "fine");
    // A typed array over one crosses as a copy: no memory is shared with a
    // connected client (API.md, "Client.connect").
    const shared = new Float64Array(new SharedArrayBuffer(16));
    const seen = await guard(
      lb.applyAsync(
        (x: Float64Array) => [x.length, x.buffer instanceof SharedArrayBuffer],
        shared,
      ),
      "a typed array over a SharedArrayBuffer",
    );
    assert.deepEqual(seen, [2, false]);
  });

  await t.step(
    "close() detaches: the task finishes for another client",
    async () => {
      const go = fileLatch(dir, `detach-${kind}`);
      const leaving = await guard(
        Client.connect(controller.clientInfo, quiet),
        "connect",
      );
      const ar = leaving.view(0).applyAsync(stepUntilFile, go.path, 20);
      await until(() => ar.data.step !== undefined, "a first step");
      const json = ar.toJSON();
      const pending = errorOf(ar, "the detached result");
      await guard(leaving.close(), "detach");
      const error = await pending;
      assert.ok(error instanceof ClientClosedError, `${error}`);
      assert.match(error.message, /runs on in controller/);
      assert.match(error.message, /resume/);
      const [taskId] = json.taskIds;
      assert.equal(
        error.message,
        `this client detached (close()) before task ${taskId} ended; the ` +
          `task runs on in controller ${controller.id}: ` +
          `Client.connect(${JSON.stringify(controller.id)}) and ` +
          `client.resume(ar.toJSON()) (or client.getResult([${taskId}])) ` +
          `to get it`,
      );
      // Asked after close(), a task never reaches the controller.
      const followed = await errorOf(
        leaving.getResult([taskId]),
        "a getResult after close()",
      );
      assert.ok(followed instanceof CompositeError, `${followed}`);
      const [inner] = followed.errors;
      assert.ok(inner instanceof ClientClosedError, `${inner}`);
      assert.equal(
        inner.message,
        `cannot follow task ${taskId}: the client is closed`,
      );
      // Through a view: the embedded client's ClientClosedError, saying
      // the task was not sent (no "runs on", no resume advice).
      for (
        const late of [
          leaving.view(0).applyAsync(() => 1),
          leaving.loadBalancedView().applyAsync(() => 1),
        ]
      ) {
        const refused = await errorOf(late, "a task run after close()");
        assert.ok(refused instanceof ClientClosedError, `${refused}`);
        assert.equal(
          refused.message,
          `cannot run task ${late.taskIds[0]}: the client is closed; the ` +
            `task was not sent`,
        );
      }
      const resumed = client.resume(json);
      go.open();
      assert.equal(typeof await guard(resumed, "the resumed task"), "number");
    },
  );
}

Deno.test("scale by the controller's launcher name", async () => {
  await withController({
    id: "connect-scale",
    engines: { workers: 0, launch: local({ engines: 1 }) },
  }, async (controller) => {
    const client = await guard(
      Client.connect(controller.clientInfo, quiet),
      "connect",
    );
    try {
      assert.equal(client.ids.length, 1);
      await guard(
        client.scale(2, "local", { timeoutMs: 30_000 }),
        "scale up",
        40_000,
      );
      await until(() => client.ids.length === 2, "two engines", 20_000);
      await guard(client.scale(1), "scale down", 40_000);
      await until(() => client.ids.length === 1, "one engine", 20_000);
      const refused = await errorOf(
        client.scale(2, local({ engines: 1 })),
        "a Launcher object",
      );
      assert.ok(refused instanceof TypeError);
      assert.match(refused.message, /"local"/);
    } finally {
      await client.close();
    }
  });
});

Deno.test("scale on a cluster without a launcher says how to start one with a launcher", async () => {
  await withController(
    { id: "connect-no-launcher", engines: { workers: 1 } },
    async (controller) => {
      const client = await guard(
        Client.connect(controller.clientInfo, quiet),
        "connect",
      );
      try {
        const refused = await errorOf(client.scale(3), "scale(3)");
        assert.match(
          refused.message,
          /^cluster connect-no-launcher has no launcher to scale: .*troupe start --id connect-no-launcher --engines N --launcher local/,
        );
        assert.doesNotMatch(refused.message, /Client\.start/);
        assert.deepEqual(client.ids, [0]);
      } finally {
        await client.close();
      }
    },
  );
});

Deno.test("getResult and resume refuse a task id the controller would refuse, and the client keeps working", async () => {
  await withController(
    { id: "connect-bad-ids", engines: { workers: 1 } },
    async (controller) => {
      const client = await guard(
        Client.connect(controller.clientInfo, quiet),
        "connect",
      );
      try {
        const ar = client.view(0).applyAsync(() => 1);
        assert.equal(await guard(ar, "a first task"), 1);
        for (const id of [0, -1]) {
          assert.throws(
            () => client.getResult([id]),
            (e: Error) =>
              e instanceof RangeError &&
              e.message.includes(`getResult: ${id} (at [0]) is not a task id`),
            `getResult([${id}])`,
          );
        }
        const edited = { ...ar.toJSON(), taskIds: [0] };
        assert.throws(
          () => client.resume(JSON.stringify(edited)),
          (e: Error) =>
            e instanceof TypeError && /has task id 0, not a task id/.test(
              e.message,
            ),
          "resume of an edited JSON",
        );
        // Nothing reached the controller: the session lives on.
        assert.equal(
          await guard(client.view(0).applyAsync(() => 2), "a task after"),
          2,
        );
        assert.deepEqual(
          await guard(client.getResult(ar.taskIds), "the first again"),
          [1],
        );
      } finally {
        await client.close();
      }
    },
  );
});

Deno.test("shutdown() stops the controller", async () => {
  const options = { id: "connect-shutdown", engines: { workers: 1 } };
  await withController(options, async (controller) => {
    const client = await guard(
      Client.connect(controller.clientInfo, quiet),
      "connect",
    );
    assert.equal(await guard(client.view(0).applyAsync(() => 1), "a task"), 1);
    await guard(client.shutdown(), "shutdown", 30_000);
    await guard(controller.closed, "the controller's end", 30_000);
    assert.equal(liveWorkerCount(), 0);
  });
});

Deno.test(
  "a lost connection ends each pending task once, with ControllerLostError; the tasks run on",
  async () => {
    await withTempDir(async (dir) => {
      await withController(
        { id: "connect-lost", engines: { workers: 1 } },
        async (controller) => {
          const relay = new TapRelay(controller.clientInfo);
          const via = { ...controller.clientInfo, port: relay.port };
          const client = await guard(Client.connect(via, quiet), "connect");
          // A cluster of its own too, to count each listener's `done`.
          const { conn, attached } = await dialController(via, {}, 10_000);
          const raw = new RemoteCluster(conn, attached, quiet);
          const go = fileLatch(dir, "go");
          const ar = client.view(0).applyAsync(holdUntilFile, go.path);
          const dones: TaskOutcome[][] = [[], []];
          raw.submit(
            [0, 1].map(() => ({
              taskId: raw.nextTaskId(),
              fn: { kind: "source", source: String(holdUntilFile) },
              args: [go.path],
              placement: { balanced: { retries: 0 } },
            })),
            (_, i) => ({
              assigned() {},
              started() {},
              stream() {},
              publish() {},
              done: (outcome) => void dones[i].push(outcome),
            }),
          );
          await until(() => ar.data.started === true, "the held task");
          const waiting = errorOf(
            client.waitForEngines(3, { timeoutMs: 20_000 }),
            "a waiter",
          );
          const pending = errorOf(ar, "the pending result");
          await guard(relay.close(), "the cut");
          const error = await pending;
          assert.ok(error instanceof ControllerLostError, `${error}`);
          assert.match(error.message, /controller connect-lost/);
          assert.match(error.message, /Client\.connect\("connect-lost"\)/);
          assert.ok((await waiting) instanceof ControllerLostError);
          await until(
            () => dones.every((d) => d.length > 0),
            "both raw tasks ended",
          );
          for (const [outcome] of dones) {
            assert.ok(
              !outcome.ok && outcome.error instanceof ControllerLostError,
            );
          }
          assert.deepEqual(client.ids, []);
          assert.ok(client.engines().length > 0, "the last snapshot stays");
          assert.ok(client.engines().every((e) => e.state === "stopped"));
          assert.throws(
            () => client.loadBalancedView().applyAsync(() => 1),
            /connect-lost/,
          );
          // Asked after the loss, a task was never sent: no "the tasks run
          // on there" for it.
          const cut = "lost the connection to controller connect-lost " +
            `(${(error as ControllerLostError).why})`;
          assert.throws(() => client.loadBalancedView().applyAsync(() => 1), {
            message: `${cut}: this task was not sent; none can be until a ` +
              `client reconnects with Client.connect("connect-lost")`,
          });
          const late = client.view(0).applyAsync(() => 1);
          const unsent = await errorOf(late, "a task run after the loss");
          assert.ok(unsent instanceof ControllerLostError, `${unsent}`);
          assert.equal(
            unsent.message,
            `${cut} before task ${late.taskIds[0]} was sent: it was not ` +
              `sent, so it does not run there; reconnect with ` +
              `Client.connect("connect-lost") and submit it again`,
          );
          assert.doesNotMatch(unsent.message, /run on there/);
          const notFollowed = await errorOf(
            client.getResult([...ar.taskIds]),
            "a getResult after the loss",
          );
          assert.ok(notFollowed instanceof CompositeError, `${notFollowed}`);
          assert.equal(
            notFollowed.errors[0].message,
            `${cut} before this client asked to follow task ` +
              `${ar.taskIds[0]}; it runs on there if it was: reconnect with ` +
              `Client.connect("connect-lost") and client.resume(ar.toJSON()) ` +
              `(or client.getResult([${ar.taskIds[0]}]))`,
          );
          // The tasks ran on: another client gets their values.
          const other = await guard(
            Client.connect(controller.clientInfo, quiet),
            "connect again",
          );
          go.open();
          assert.deepEqual(
            await guard(other.getResult([...ar.taskIds]), "getResult", 20_000),
            ["released"],
          );
          await other.close();
          await client.close();
          await raw.close();
          assert.deepEqual(dones.map((d) => d.length), [1, 1]);
        },
      );
    });
  },
);

Deno.test("stop() while a client waits: its tasks and waiters end once", async () => {
  await withTempDir(async (dir) => {
    let client: Client | undefined;
    await withController(
      { id: "connect-stop", engines: { workers: 1 } },
      async (controller) => {
        client = await guard(
          Client.connect(controller.clientInfo, quiet),
          "connect",
        );
        const ar = client.view(0).applyAsync(holdUntilFile, `${dir}/never`);
        await until(() => ar.data.started === true, "the held task");
        const waiting = errorOf(
          client.waitForEngines(3, { timeoutMs: 20_000 }),
          "a waiter",
        );
        const pending = errorOf(ar, "the pending result");
        await guard(controller.stop(), "the controller to stop", 30_000);
        const error = await pending;
        // The engine stopped under it (EngineError), or the connection went
        // first (ControllerLostError): never a value.
        assert.ok(
          error instanceof EngineError || error instanceof ControllerLostError,
          `${error}`,
        );
        assert.ok(await waiting);
        await until(() => client!.ids.length === 0, "no engine up");
      },
    );
    await client?.close();
  });
});

Deno.test("Client.connect: clear errors", async (t) => {
  await t.step("no controller there", async () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const { port } = listener.addr;
    listener.close();
    const error = await errorOf(
      Client.connect({ hostname: "127.0.0.1", port, key: "k" }),
    );
    assert.match(
      error.message,
      new RegExp(`no controller answers at 127\\.0\\.0\\.1:${port}`),
    );
  });

  await t.step("a misspelt option", async () => {
    const error = await errorOf(
      Client.connect(
        { hostname: "127.0.0.1", port: 1, key: "k" },
        { timeoutMS: 5 } as never,
      ),
    );
    assert.ok(error instanceof TypeError);
    assert.match(error.message, /timeoutMs/);
  });

  await t.step("a wrong key, and the engine key", async () => {
    await withController(
      { id: "connect-keys", engines: { workers: 0 } },
      async (controller) => {
        const { hostname, port } = controller.clientInfo;
        for (const key of ["wrong", controller.engineInfo.key]) {
          const error = await errorOf(Client.connect({ hostname, port, key }));
          assert.ok(error instanceof HandshakeError, `${error}`);
          assert.match(error.message, /cannot attach to the controller at/);
          // Who refused whom, which key is lacking, and where the right one is.
          assert.match(
            error.message,
            /the controller refused this client: it does not hold the client key: the client key is the "key" of the cluster's state file \(\$TROUPE_HOME\/clusters\/<id>\.json; `troupe list` lists the clusters\)/,
          );
          assert.doesNotMatch(error.message, /refused this engine/);
        }
        const client = await Client.connect(controller.clientInfo, quiet);
        assert.equal(client.clusterId, "connect-keys");
        await client.close();
      },
    );
  });

  await t.step("an embedded client has no history", async () => {
    const client = await Client.start({ workers: 1 });
    try {
      const error = await errorOf(client.history());
      assert.match(error.message, /the history lives in a controller/);
      await errorOf(client.query(), "query");
      await errorOf(client.purge({ all: true }), "purge");
      assert.throws(() => client.getResult([1]), /Client\.connect/);
      const ar = client.view(0).applyAsync(() => 1);
      await guard(ar, "an embedded task");
      assert.equal(ar.toJSON().cluster, null);
      assert.throws(
        () =>
          client.resume({
            troupe: "AsyncResult",
            version: 1,
            cluster: "x",
            taskIds: [1],
            engineIds: [0],
            single: true,
          }),
        /Client\.connect/,
      );
      assert.equal(client.clusterId, undefined);
    } finally {
      await client.close();
    }
  });

  await t.step("resume refuses another cluster's result", async () => {
    await withController(
      { id: "connect-other", engines: { workers: 0 } },
      async (controller) => {
        const client = await Client.connect(controller.clientInfo, quiet);
        try {
          assert.throws(
            () =>
              client.resume({
                troupe: "AsyncResult",
                version: 1,
                cluster: "elsewhere",
                taskIds: [1],
                engineIds: [0],
                single: true,
              }),
            /cluster "elsewhere"/,
          );
          assert.throws(() => client.resume("{}"), TypeError);
        } finally {
          await client.close();
        }
      },
    );
  });
});

Deno.test("Client.connect by cluster id and by state file; what a connected client serves and writes", async () => {
  await withTempDir(async (home) => {
    const before = Deno.env.get("TROUPE_HOME");
    Deno.env.set("TROUPE_HOME", home);
    try {
      await withController(
        { id: "connect-state", engines: { workers: 1 } },
        async (controller) => {
          const { hostname, port, key } = controller.clientInfo;
          const path = await writeClusterState({
            version: 1,
            id: "connect-state",
            pid: Deno.pid,
            hostname,
            port,
            key,
            engine: controller.engineInfo,
            db: ":memory:",
            config: { workers: 1 },
            startedAt: Date.now(),
          });
          for (const target of ["connect-state", path]) {
            const client = await guard(
              Client.connect(target, quiet),
              `connect ${target}`,
            );
            try {
              assert.equal(client.clusterId, "connect-state");
              assert.equal(
                await guard(client.view(0).applyAsync(() => 2), "task"),
                2,
              );
            } finally {
              await client.close();
            }
          }
          // A state file with a stale key: the error names that file.
          const stale = await writeClusterState({
            version: 1,
            id: "connect-stale-key",
            pid: Deno.pid,
            hostname,
            port,
            key: "a stale key",
            engine: controller.engineInfo,
            db: ":memory:",
            config: { workers: 1 },
            startedAt: Date.now(),
          });
          const staleKey = await errorOf(
            Client.connect("connect-stale-key", quiet),
            "a stale key",
          );
          assert.ok(
            staleKey.message.includes(
              `it does not hold the client key: the client key is the "key" ` +
                `of the cluster's state file (${stale}; \`troupe list\``,
            ),
            staleKey.message,
          );
          const client = await Client.connect("connect-state", quiet);
          try {
            // The engine listener, with the engine key: hand-started engines join.
            const file = `${home}/conn.json`;
            await client.writeConnectionFile(file);
            const info = JSON.parse(await Deno.readTextFile(file));
            assert.deepEqual(info, controller.engineInfo);
            assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
            // The dashboard reads the seam: engines and publications.
            const dashboard = await client.serveDashboard({ port: 0 });
            const response = await guard(
              fetch(dashboard.url),
              "the dashboard page",
            );
            assert.equal(response.status, 200);
            await response.body?.cancel();
            await dashboard.close();
            // The restart policy is the controller's: a second client sees it.
            const policy = { maxRestarts: 7, withinMs: 30_000 };
            client.restartPolicy = policy;
            assert.equal(client.restartPolicy.maxRestarts, 7);
            await until(async () => {
              const other = await Client.connect("connect-state", quiet);
              const seen = other.restartPolicy.maxRestarts;
              await other.close();
              return seen === 7;
            }, "the controller's restart policy to change");
          } finally {
            await client.close();
          }
        },
      );
      // Nothing answers there now: the error names the cluster and its file.
      const error = await errorOf(Client.connect("connect-state", quiet));
      assert.match(
        error.message,
        /no controller answers at 127\.0\.0\.1:\d+ for cluster connect-state \(state file .*connect-state\.json\)/,
      );
      assert.match(error.message, /deno task troupe start --id connect-state/);
      assert.match(error.message, /troupe stop connect-state/);
      const missing = await errorOf(Client.connect("no-such-cluster", quiet));
      assert.match(missing.message, /no-such-cluster/);
    } finally {
      if (before === undefined) Deno.env.delete("TROUPE_HOME");
      else Deno.env.set("TROUPE_HOME", before);
    }
  });
});
