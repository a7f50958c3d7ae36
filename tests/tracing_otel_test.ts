/**
 * Tracing follows OpenTelemetry's conventions, as an OTel user expects
 * them in a real collector: successful spans leave the status unset, the
 * scope carries troupe's version and the resource the SDK's attributes,
 * scatter and gather are named so, a collector's error answer is said as
 * an answer, and a POST that fails at close() is tried once more.
 */

import assert from "node:assert/strict";
import { VERSION } from "../client/version.ts";
import { attribute, tasksOf, withCollector } from "./otlp_collector.ts";
import { guard, withClient } from "./helpers.ts";

Deno.test("VERSION is deno.json's version", async () => {
  const config = JSON.parse(
    await Deno.readTextFile(new URL("../deno.json", import.meta.url)),
  );
  assert.equal(VERSION, config.version);
});

Deno.test("spans follow OTel's conventions: status unset on success, scope and resource name troupe", async () => {
  await withCollector(async (collector) => {
    await withClient({
      workers: 1,
      tracing: {
        endpoint: collector.endpoint,
        resourceAttributes: { "deployment.environment": "test" },
      },
    }, async (client) => {
      assert.equal(await client.view(0).applyAsync(() => 1), 1);
    });
    assert.equal(collector.spans.length, 4);
    for (const span of collector.spans) {
      assert.equal(span.status, undefined, `${span.name}'s status`);
    }
    assert.deepEqual(collector.scope, {
      name: "@troupe/parallel",
      version: VERSION,
    });
    const { resource } = collector;
    assert.equal(resource["service.name"], "troupe");
    assert.equal(resource["telemetry.sdk.name"], "troupe");
    assert.equal(resource["telemetry.sdk.language"], "javascript");
    assert.equal(resource["telemetry.sdk.version"], VERSION);
    assert.equal(resource["process.runtime.name"], "deno");
    assert.equal(resource["process.runtime.version"], Deno.version.deno);
    // The test runs with -A: the host's name may be read.
    assert.equal(resource["host.name"], Deno.hostname());
    assert.match(String(resource["service.instance.id"]), /^[0-9a-f-]{36}$/);
    assert.equal(resource["deployment.environment"], "test");
  });
});

Deno.test("a direct view's scatter and gather are spans named troupe.scatter and troupe.gather", async () => {
  await withCollector(async (collector) => {
    await withClient(
      { workers: 2, tracing: { endpoint: collector.endpoint } },
      async (client) => {
        const dv = client.view();
        await dv.scatter("part", [1, 2, 3, 4]);
        assert.deepEqual(await dv.gather("part"), [1, 2, 3, 4]);
      },
    );
    const names = collector.spans.map((s) => s.name);
    assert.ok(!names.includes("troupe.push"), names.join());
    assert.ok(!names.includes("troupe.pull"), names.join());
    for (const name of ["troupe.scatter", "troupe.gather"]) {
      const calls = collector.spans.filter((s) => s.name === name);
      assert.equal(calls.length, 1, name);
      const tasks = tasksOf(collector.spans, calls[0]);
      assert.deepEqual(
        tasks.map((t) => attribute(t, "troupe.engine_id")).sort(),
        ["0", "1"],
      );
    }
  });
});

Deno.test("a collector that answers 404 is said to have answered, with the traces path to use", async () => {
  await withCollector(async (collector) => {
    const said: string[] = [];
    await withClient({
      workers: 1,
      log: (line) => said.push(line),
      tracing: { endpoint: collector.endpoint.replace("/v1/traces", "/") },
    }, async (client) => {
      assert.equal(await client.view(0).applyAsync(() => 1), 1);
    });
    const warnings = said.filter((line) => line.startsWith("tracing: "));
    assert.equal(warnings.length, 1, said.join("\n"));
    assert.match(
      warnings[0],
      /answered 404: OTLP\/HTTP traces go to the collector's \/v1\/traces path/,
    );
    assert.doesNotMatch(warnings[0], /cannot be reached/);
  }, () => new Response("not found", { status: 404 }));
});

Deno.test("a POST that fails at close() is tried once more within close()'s bound", async () => {
  let answers = 0;
  await withCollector(async (collector) => {
    let stats;
    await withClient({
      workers: 1,
      log: () => {},
      // Nothing is sent before close(): its POST is the first.
      tracing: { endpoint: collector.endpoint, flushMs: 600_000 },
    }, async (client) => {
      assert.equal(await client.view(0).applyAsync(() => 1), 1);
      await guard(client.close(), "close()", 10_000);
      stats = client.tracingStats();
    });
    assert.equal(collector.posts, 2);
    assert.deepEqual(stats, {
      exported: 4,
      dropped: 0,
      failedPosts: 1,
      queued: 0,
    });
    assert.equal(collector.spans.length, 4);
  }, () => new Response("busy", { status: answers++ === 0 ? 503 : 200 }));
});
