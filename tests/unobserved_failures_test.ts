import assert from "node:assert/strict";
import { Client, type ClientOptions } from "../mod.ts";
import { liveWorkerCount } from "../transport/worker_link.ts";
import { errorOf, latch, sleep, until } from "./helpers.ts";

/**
 * Runs `body` with a started client whose `log` lines are kept, closes the
 * client, and returns the lines logged up to and including the close: the
 * close is when unobserved failures that are still reachable are reported.
 */
async function logsOf(
  options: ClientOptions,
  body: (client: Client) => Promise<void>,
): Promise<string[]> {
  const lines: string[] = [];
  const client = await Client.start({ ...options, log: (l) => lines.push(l) });
  try {
    await body(client);
  } finally {
    await client.close();
    assert.equal(liveWorkerCount(), 0, "an engine thread outlived close()");
  }
  return lines;
}

function fail(): never {
  throw new Error("boom");
}

Deno.test("a failed result that nothing observed is reported once, when the client closes", async () => {
  let taskId = -1;
  const lines = await logsOf({ workers: 2 }, async (client) => {
    const ar = client.view(1).applyAsync(fail);
    taskId = ar.taskIds[0];
    await until(() => ar.ready(), "the failing task");
  });
  assert.equal(lines.length, 1, lines.join("\n"));
  assert.equal(
    lines[0],
    `troupe: task ${taskId} on engine 1 failed, and nothing awaited the ` +
      `AsyncResult: RemoteError: engine 1, task ${taskId}: Error: boom. ` +
      "Await it (await ar, ar.get()) to handle the error, or call " +
      "ar.catch(() => {}) to ignore it.",
  );
});

Deno.test("a result of several tasks names them all and counts the failures", async () => {
  const lines = await logsOf({ workers: 2 }, async (client) => {
    const ar = client.view().applyAsync(fail);
    await until(() => ar.ready(), "the failing tasks");
    const lb = client.loadBalancedView().mapAsync(
      (x: number) => {
        if (x > 0) throw new Error(`bad ${x}`);
        return x;
      },
      [0, 1, 2],
      { chunkSize: 1 },
    );
    await until(() => lb.ready(), "the failing map");
  });
  assert.equal(lines.length, 2, lines.join("\n"));
  assert.match(
    lines[0],
    /^troupe: tasks \d+, \d+ on engines 0, 1 failed, .*Error: boom \(and 1 more failed task\)\. Await it/,
  );
  assert.match(lines[1], /^troupe: tasks \d+, \d+ on engines? [\d, ]+ failed/);
  assert.match(lines[1], /Error: bad [12] \(and 1 more failed task\)/);
});

Deno.test("what counts as observing a failure: nothing is reported", async (t) => {
  const observers: [string, (ar: PromiseLike<unknown>) => Promise<unknown>][] =
    [
      ["await, well after it failed", (ar) => errorOf(ar)],
      ["ar.catch(() => {})", (ar) => (ar as Promise<unknown>).catch(() => {})],
      ["then(_, onRejected)", (ar) => Promise.resolve(ar.then(null, () => {}))],
    ];
  for (const [name, observe] of observers) {
    await t.step(name, async () => {
      const lines = await logsOf({ workers: 1 }, async (client) => {
        const ar = client.view(0).applyAsync(fail);
        await until(() => ar.ready(), "the failing task");
        await sleep(50); // Later than a grace timer would have waited.
        await observe(ar);
      });
      assert.deepEqual(lines, []);
    });
  }

  await t.step(
    "get(), wait(), successful(), metadata, for await, abort()",
    async () => {
      const lines = await logsOf({ workers: 1 }, async (client) => {
        const view = client.view(0);
        const results = Array.from({ length: 5 }, () => view.applyAsync(fail));
        await until(() => results.every((ar) => ar.ready()), "the tasks");
        await errorOf(results[0].get());
        await results[1].wait();
        assert.equal(results[2].successful(), false);
        assert.equal(results[3].metadata.status, "error");
        await errorOf((async () => {
          for await (const _ of results[4]) { /* throws */ }
        })());
        const gate = latch();
        const aborted = view.applyAsync((sab: SharedArrayBuffer) => {
          Atomics.wait(new Int32Array(sab), 0, 0, 10_000);
        }, gate.sab);
        await aborted.abort();
        gate.open();
      });
      assert.deepEqual(lines, []);
    },
  );

  await t.step("observed before it failed", async () => {
    const lines = await logsOf({ workers: 1 }, async (client) => {
      await errorOf(client.view(0).applyAsync(fail));
    });
    assert.deepEqual(lines, []);
  });

  await t.step("tasks that close() itself ends", async () => {
    const gate = latch();
    const lines = await logsOf({ workers: 1 }, async (client) => {
      client.view(0).applyAsync((sab: SharedArrayBuffer) => {
        Atomics.wait(new Int32Array(sab), 0, 0, 10_000);
      }, gate.sab);
      await until(() => client.engines()[0].state === "busy", "busy engine");
    });
    gate.open();
    assert.deepEqual(lines, []);
  });

  await t.step("push, pull and execute are awaited by the view", async () => {
    const lines = await logsOf({ workers: 1 }, async (client) => {
      await errorOf(client.view(0).pull("notThere"));
    });
    assert.deepEqual(lines, []);
  });
});
