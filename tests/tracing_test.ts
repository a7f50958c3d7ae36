/**
 * Tasks as OpenTelemetry spans: a real HTTP receiver on 127.0.0.1 stands in
 * for the collector, and the spans it is sent are checked for parentage,
 * attributes, status and time order, on Worker and process engines,
 * embedded and connected; a collector that fails or is away costs no task
 * and is said once; a client without tracing posts nothing.
 */

import assert from "node:assert/strict";
import { Client, type TracingOptions } from "../mod.ts";
import { attribute, tasksOf, withCollector } from "./otlp_collector.ts";
import { CLIENT_SIDES } from "./client_sides.ts";
import {
  ENGINE_KINDS,
  engines,
  errorOf,
  guard,
  RESTART_AT_ONCE,
  suiteKind,
  until,
  withClient,
  withClientOn,
  withController,
  withTempDir,
} from "./helpers.ts";

const USER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const USER_SPAN = "00f067aa0ba902b7";

for (const side of CLIENT_SIDES) {
  for (const kind of ENGINE_KINDS) {
    Deno.test(
      `an apply and a map of 3 (one failing) are traces on 2 ${
        suiteKind(kind, side)
      } engines`,
      async () => {
        await withCollector(async (collector) => {
          const tracing: TracingOptions = {
            endpoint: collector.endpoint,
            serviceName: "tracing-test",
            headers: { authorization: "Bearer s3cret" },
            flushMs: 20,
          };
          let applyId = -1;
          const mapIds: number[] = [];
          await withClientOn(
            side,
            { ...engines(kind, 2), tracing },
            async (client) => {
              const ar = client.view(0).applyAsync(function inc(x: number) {
                return x + 1;
              }, 1);
              assert.equal(await guard(ar, "the apply"), 2);
              applyId = ar.metadata.taskId;
              // Sent by the flush timer, not only by close().
              await until(
                () => collector.spans.length >= 4,
                "the apply's 4 spans",
              );
              const lv = client.loadBalancedView().with({
                traceparent: `00-${USER_TRACE}-${USER_SPAN}-01`,
              });
              const map = lv.mapAsync(
                function half(x: number) {
                  if (x === 2) throw new RangeError("no 2");
                  return x / 2;
                },
                [1, 2, 3],
                { chunkSize: 1 },
              );
              await errorOf(guard(map, "the map"));
              mapIds.push(...map.metadata.map((m) => m.taskId));
              assert.deepEqual(client.tracingStats()?.dropped, 0);
            },
          );
          // close() sent the rest: 4 spans for the apply, 10 for the map.
          assert.equal(collector.spans.length, 14);
          assert.equal(collector.serviceName, "tracing-test");
          assert.equal(
            collector.headers?.get("authorization"),
            "Bearer s3cret",
          );
          assert.equal(
            collector.headers?.get("content-type"),
            "application/json",
          );
          const spans = collector.spans;
          assert.equal(new Set(spans.map((s) => s.spanId)).size, 14);

          const apply = spans.find((s) => s.name === "troupe.apply")!;
          assert.equal(apply.parentSpanId, undefined, "a root");
          assert.equal(apply.kind, 3);
          assert.equal(apply.status, undefined, "a success leaves it unset");
          const [task] = tasksOf(spans, apply);
          assert.equal(attribute(task, "troupe.task_id"), String(applyId));
          assert.equal(attribute(task, "troupe.engine_id"), "0");
          assert.equal(attribute(task, "troupe.view"), "direct");
          assert.equal(attribute(task, "troupe.function"), "inc");
          assert.equal(attribute(task, "troupe.retries"), "0");
          assert.equal(attribute(task, "troupe.engine.kind"), kind);
          assert.equal(task.status, undefined);

          const map = spans.find((s) => s.name === "troupe.map")!;
          assert.equal(map.traceId, USER_TRACE);
          assert.equal(map.parentSpanId, USER_SPAN);
          assert.equal(map.status?.code, 2);
          assert.match(map.status?.message ?? "", /1 of 3 tasks failed/);
          const tasks = tasksOf(spans, map);
          assert.deepEqual(
            tasks.map((t) => Number(attribute(t, "troupe.task_id"))).sort(),
            [...mapIds].sort(),
          );
          for (const t of tasks) {
            assert.equal(attribute(t, "troupe.view"), "balanced");
            assert.equal(attribute(t, "troupe.function"), "half");
            assert.equal(attribute(t, "troupe.engine.kind"), kind);
          }
          const failed = tasks.filter((t) => t.status?.code === 2);
          assert.equal(failed.length, 1);
          assert.equal(attribute(failed[0], "error.type"), "RemoteError");
          assert.equal(
            attribute(failed[0], "troupe.remote_error"),
            "RangeError",
          );
          assert.match(failed[0].status?.message ?? "", /RangeError: no 2/);
          assert.equal(
            String(attribute(failed[0], "troupe.task_id")),
            String(mapIds[1]),
          );
        });
      },
    );
  }
}

Deno.test("an imap is one span over its items' tasks", async () => {
  await withCollector(async (collector) => {
    await withClient(
      { workers: 2, tracing: { endpoint: collector.endpoint } },
      async (client) => {
        const lv = client.loadBalancedView();
        const values: number[] = [];
        for await (const v of lv.imap((x: number) => x * 2, [1, 2, 3])) {
          values.push(v);
        }
        assert.deepEqual(values, [2, 4, 6]);
      },
    );
    const imap = collector.spans.filter((s) => s.name === "troupe.imap");
    assert.equal(imap.length, 1);
    assert.equal(tasksOf(collector.spans, imap[0]).length, 3);
    assert.equal(collector.spans.length, 1 + 3 * 3);
  });
});

/**
 * Runs 3 tasks on a client tracing to `endpoint` and closes it: tasks must
 * finish whatever the collector does, close() stays bounded, and every
 * span is dropped and counted with one warning; when `retried`, close()
 * comes after the failed batch was tried a second time.
 */
async function assertCollectorFailure(
  endpoint: string,
  tracing: Partial<TracingOptions> = {},
  retried = true,
  said: RegExp = /cannot be reached/,
): Promise<void> {
  const lines: string[] = [];
  await withClient({
    workers: 1,
    log: (line) => lines.push(line),
    tracing: {
      endpoint,
      flushMs: 10,
      headers: { "x-api-key": "s3cret" },
      ...tracing,
    },
  }, async (client) => {
    const lv = client.loadBalancedView();
    for (let i = 0; i < 3; i++) {
      assert.equal(
        await guard(lv.applyAsync((x: number) => x, i), "a task"),
        i,
      );
    }
    if (retried) {
      // The first POST and its one retry on the next flush, then the drop.
      await until(
        () => client.tracingStats()!.failedPosts >= 2,
        "the failed batch's retry",
      );
      // The client's dashboard counts them beside the core's metrics.
      const dashboard = await client.serveDashboard({ port: 0 });
      const metrics = await fetch(new URL("/metrics", dashboard.url));
      const text = await metrics.text();
      await dashboard.close();
      assert.match(text, /^troupe_engines\{/m, "the core's metrics");
      const dropped = /^troupe_trace_spans_dropped_total (\d+)$/m.exec(text);
      assert.ok(dropped && Number(dropped[1]) >= 1, text);
      assert.match(text, /^troupe_trace_export_failures_total [1-9]/m);
      // And so does client.metrics(), after the core's families.
      const names = (await client.metrics()).map((f) => f.name);
      assert.ok(names.includes("troupe_engines"));
      assert.ok(names.includes("troupe_trace_spans_dropped_total"));
    }
    await guard(client.close(), "close() with the collector failing", 10_000);
    const stats = client.tracingStats()!;
    assert.equal(stats.exported, 0);
    assert.equal(stats.dropped, 3 * 4, "every span dropped and counted");
    assert.equal(stats.queued, 0);
    assert.ok(stats.failedPosts >= 1);
  });
  const warnings = lines.filter((line) => line.startsWith("tracing: "));
  assert.equal(warnings.length, 1, lines.join("\n"));
  assert.match(warnings[0], said);
  assert.ok(!warnings[0].includes("s3cret"), "a header was logged");
}

Deno.test("a collector that answers 500: tasks finish, spans are dropped and counted, one warning", async () => {
  await withCollector(async (collector) => {
    // It was reached: the warning says what it answered.
    await assertCollectorFailure(
      collector.endpoint,
      {},
      true,
      /the collector at http:\/\/127\.0\.0\.1:\d+\/v1\/traces answered 500; /,
    );
    assert.ok(collector.posts >= 2, "a failed batch is tried again");
  }, () => new Response("down", { status: 500 }));
});

Deno.test("a collector that is not listening: tasks finish, close() is prompt, one warning", async () => {
  let endpoint = "";
  await withCollector((collector) => {
    endpoint = collector.endpoint;
    return Promise.resolve();
  });
  await assertCollectorFailure(endpoint); // its port closed now
});

Deno.test("a collector that never answers: close() aborts its POST within its bound", async () => {
  const hold = Promise.withResolvers<Response>();
  await withCollector(async (collector) => {
    try {
      await assertCollectorFailure(
        collector.endpoint,
        { timeoutMs: 60_000 },
        false,
      );
    } finally {
      hold.resolve(new Response("late"));
    }
  }, () => hold.promise);
});

Deno.test("a client without tracing posts nothing, traceparent or not", async () => {
  await withCollector(async (collector) => {
    await withClient({ workers: 1 }, async (client) => {
      const lv = client.loadBalancedView().with({
        traceparent: `00-${USER_TRACE}-${USER_SPAN}-01`,
      });
      assert.equal(await lv.applyAsync(() => 1), 1);
      assert.deepEqual(await client.view(0).mapAsync((x: number) => x, [1]), [
        1,
      ]);
      assert.equal(client.tracingStats(), undefined);
    });
    assert.equal(collector.posts, 0);
  }, () => {
    throw new Error("a client without tracing posted spans");
  });
});

Deno.test("tracing options are checked before anything starts", async () => {
  const bad: [unknown, RegExp][] = [
    [{ endpoint: "127.0.0.1:4318" }, /endpoint must be an http\(s\) URL/],
    [{ endpoint: "ftp://host/v1/traces" }, /endpoint must be an http\(s\) URL/],
    [{ endPoint: "http://127.0.0.1:4318" }, /endPoint/],
    [
      { endpoint: "http://h/", headers: { k: 7 } },
      /headers\["k"\] must be a string/,
    ],
    [{ endpoint: "http://h/", flushMs: 0 }, /flushMs must be a number of ms/],
    [
      { endpoint: "http://h/", maxQueue: 1.5 },
      /maxQueue must be a whole number/,
    ],
    ["http://127.0.0.1:4318", /must be an object/],
  ];
  for (const [tracing, message] of bad) {
    const error = await errorOf(
      Client.start({ workers: 1, tracing: tracing as TracingOptions }),
    );
    assert.match(error.message, message);
    const connect = await errorOf(
      Client.connect({ hostname: "127.0.0.1", port: 1, key: "k" }, {
        tracing: tracing as TracingOptions,
      }),
    );
    assert.match(connect.message, message);
  }
  // A header's value is a secret: never in the message.
  const secret = await errorOf(
    Client.start({
      workers: 1,
      tracing: { endpoint: "http://h/", headers: { k: "a\nb-s3cret" } },
    }),
  );
  assert.ok(!secret.message.includes("s3cret"), secret.message);
  const controller = await errorOf(
    withController({
      id: `tracing-${crypto.randomUUID()}`,
      engines: { workers: 0, tracing: { endpoint: "http://h/" } },
    }, () => Promise.resolve()),
  );
  assert.match(controller.message, /give tracing to Client\.connect/);
  await withClient({ workers: 1 }, (client) => {
    assert.throws(
      () => client.view(0).with({ traceparent: "00-abc-01" }),
      /traceparent in with options must be a W3C traceparent/,
    );
    return Promise.resolve();
  });
});

Deno.test("a task retried after its engine died counts its retries", async () => {
  await withTempDir(async (dir) => {
    await withCollector(async (collector) => {
      await withClient({
        workers: 1,
        restart: RESTART_AT_ONCE,
        tracing: { endpoint: collector.endpoint },
      }, async (client) => {
        const marker = `${dir}/died`;
        const lv = client.loadBalancedView({ retries: 1 });
        // Ends its engine the first time (a file: globals die with it).
        const ar = lv.applyAsync(function dieOnce(path: string) {
          try {
            Deno.statSync(path);
          } catch {
            Deno.writeTextFileSync(path, "died");
            Deno.exit(1);
          }
          return "second run";
        }, marker);
        assert.equal(await guard(ar, "the retried task", 30_000), "second run");
      });
      const [task] = collector.spans.filter((s) => s.name === "troupe.task");
      assert.equal(attribute(task, "troupe.retries"), "1");
      assert.equal(attribute(task, "troupe.function"), "dieOnce");
      assert.equal(task.status, undefined);
    });
  });
});

Deno.test("a direct view's push, pull and execute are spans of their kind", async () => {
  await withCollector(async (collector) => {
    await withClient(
      { workers: 2, tracing: { endpoint: collector.endpoint } },
      async (client) => {
        const dv = client.view();
        await dv.push({ a: 1 });
        await dv.execute("globalThis.b = a + 1");
        assert.deepEqual(await dv.pull("b"), [2, 2]);
      },
    );
    for (const kind of ["push", "execute", "pull"]) {
      const calls = collector.spans.filter((s) => s.name === `troupe.${kind}`);
      assert.equal(calls.length, 1, kind);
      const tasks = tasksOf(collector.spans, calls[0]);
      assert.deepEqual(
        tasks.map((t) => attribute(t, "troupe.engine_id")).sort(),
        ["0", "1"],
      );
    }
  });
});
