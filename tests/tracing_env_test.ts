/**
 * Where tracing sends, and what it may: `tracing: true` takes the standard
 * OpenTelemetry variables (the options given winning), no endpoint anywhere
 * is a clear error, and the flags it needs (`--allow-net` for the
 * collector, `--allow-env` for the variables) are checked before anything
 * starts, in real `deno` scripts with narrow flags.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { Client } from "../mod.ts";
import { OTEL_VARIABLES as OTEL } from "../client/tracing_env.ts";
import { withCollector } from "./otlp_collector.ts";
import { CLIENT_SIDES } from "./client_sides.ts";
import { errorOf, guard, withClientOn, withTempDir } from "./helpers.ts";

const MOD = new URL("../mod.ts", import.meta.url).href;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;

/** Runs `body` with exactly the OTel variables `env` in this process. */
async function withOtelEnv(
  env: Record<string, string>,
  body: () => Promise<void>,
): Promise<void> {
  for (const name of OTEL) Deno.env.delete(name);
  for (const [name, value] of Object.entries(env)) Deno.env.set(name, value);
  try {
    await body();
  } finally {
    for (const name of OTEL) Deno.env.delete(name);
  }
}

for (const side of CLIENT_SIDES) {
  Deno.test(`tracing: true takes the OpenTelemetry variables (${side})`, async () => {
    const paths: string[] = [];
    await withCollector(async (collector) => {
      const base = collector.endpoint.replace("/v1/traces", "");
      await withOtelEnv({
        OTEL_EXPORTER_OTLP_ENDPOINT: `${base}/`,
        OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20s3cret,x-a=1",
        OTEL_EXPORTER_OTLP_TRACES_HEADERS: "x-a=2",
        OTEL_SERVICE_NAME: "env-service",
        OTEL_RESOURCE_ATTRIBUTES:
          "deployment.environment=ci%2Ftest,service.name=not-this",
      }, async () => {
        await withClientOn(side, { workers: 1, tracing: true }, async (c) => {
          assert.equal(await c.view(0).applyAsync(() => 1), 1);
        });
      });
      assert.equal(collector.spans.length, 4);
      assert.deepEqual([...new Set(paths)], ["/v1/traces"]);
      assert.equal(collector.headers?.get("authorization"), "Bearer s3cret");
      assert.equal(collector.headers?.get("x-a"), "2", "the traces' own win");
      assert.equal(collector.serviceName, "env-service");
      assert.equal(collector.resource["deployment.environment"], "ci/test");
    }, (request) => {
      paths.push(new URL(request.url).pathname);
      return new Response("{}");
    });
  });
}

Deno.test("tracing options given win over the variables; the traces endpoint is taken as it is", async () => {
  await withCollector(async (collector) => {
    await withOtelEnv({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: collector.endpoint,
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9",
      OTEL_EXPORTER_OTLP_HEADERS: "x-env=1",
      OTEL_SERVICE_NAME: "env-service",
    }, async () => {
      await withClientOn("embedded", {
        workers: 1,
        tracing: { serviceName: "mine", headers: { "x-mine": "1" } },
      }, async (client) => {
        assert.equal(await client.view(0).applyAsync(() => 1), 1);
      });
      // An endpoint given: the variables are not read at all.
      await withClientOn("embedded", {
        workers: 1,
        tracing: { endpoint: collector.endpoint.replace("/v1/traces", "/x") },
      }, async (client) => {
        assert.equal(await client.view(0).applyAsync(() => 1), 1);
      });
    });
    assert.equal(collector.spans.length, 8);
  }, (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/x") {
      assert.equal(request.headers.get("x-env"), null);
      return new Response("{}");
    }
    assert.equal(path, "/v1/traces");
    assert.equal(request.headers.get("x-mine"), "1");
    assert.equal(request.headers.get("x-env"), null, "headers given win");
    return new Response("{}");
  });
});

Deno.test("OTEL_TRACES_SAMPLER and its ARG give the sample ratio; a sampleRatio given wins", async () => {
  await withCollector(async (collector) => {
    const run = async (tracing: true | { sampleRatio: number }) => {
      await withClientOn("embedded", { workers: 1, tracing }, async (c) => {
        for (let i = 0; i < 5; i++) {
          assert.equal(await c.view(0).applyAsync(() => 1), 1);
        }
      });
    };
    const endpoint = { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: collector.endpoint };
    const samplers: Record<string, string>[] = [
      { OTEL_TRACES_SAMPLER: "parentbased_traceidratio" },
      { OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "0" },
      { OTEL_TRACES_SAMPLER: "always_off", OTEL_TRACES_SAMPLER_ARG: "1" },
    ];
    for (const sampler of samplers) {
      const before = collector.spans.length;
      await withOtelEnv({ ...endpoint, ...sampler }, () => run(true));
      // Without an ARG a ratio sampler takes 1, as the OTel SDKs do.
      const all = sampler.OTEL_TRACES_SAMPLER === "parentbased_traceidratio";
      assert.equal(collector.spans.length - before, all ? 20 : 0);
    }
    await withOtelEnv(
      { ...endpoint, OTEL_TRACES_SAMPLER: "always_off" },
      () => run({ sampleRatio: 1 }),
    );
    assert.equal(collector.spans.length, 40, "the option given wins");
  });
  const bad: [Record<string, string>, RegExp][] = [
    [
      { OTEL_TRACES_SAMPLER: "jaeger_remote" },
      /^OTEL_TRACES_SAMPLER is "jaeger_remote", which troupe does not have: give one of always_on, /,
    ],
    [
      { OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "2" },
      /^OTEL_TRACES_SAMPLER_ARG must be a ratio from 0 to 1 for traceidratio, got "2"/,
    ],
  ];
  for (const [env, message] of bad) {
    await withOtelEnv({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://127.0.0.1:4318/v1/traces",
      ...env,
    }, async () => {
      const error = await errorOf(Client.start({ workers: 1, tracing: true }));
      assert.match(error.message, message);
    });
  }
});

Deno.test("OTEL_TRACES_SAMPLER: the plain samplers decide under a traceparent too, the parentbased_ ones follow its flag", async () => {
  await withCollector(async (collector) => {
    const endpoint = { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: collector.endpoint };
    const trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    /** Spans a call under a traceparent flagged `flag` makes with `sampler`. */
    const spans = async (sampler: string, flag: "00" | "01") => {
      const before = collector.spans.length;
      await withOtelEnv(
        { ...endpoint, OTEL_TRACES_SAMPLER: sampler },
        () =>
          withClientOn("embedded", { workers: 1, tracing: true }, async (c) => {
            const traceparent = `00-${trace}-00f067aa0ba902b7-${flag}`;
            const view = c.view(0).with({ traceparent });
            assert.equal(await view.applyAsync(() => 1), 1);
          }),
      );
      return collector.spans.length - before;
    };
    assert.equal(await spans("always_off", "01"), 0, "always_off: nothing");
    assert.equal(await spans("always_on", "00"), 4, "always_on: traced");
    assert.equal(await spans("traceidratio", "00"), 4, "ratio 1 decides");
    assert.equal(await spans("parentbased_always_off", "01"), 4);
    assert.equal(await spans("parentbased_always_on", "00"), 0);
  });
});

Deno.test("parentBased: false lets sampleRatio decide a call under a traceparent; a non-boolean is refused", async () => {
  await withCollector(async (collector) => {
    const trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    for (const [ratio, flag, traced] of [[0, "01", 0], [1, "00", 4]] as const) {
      const before = collector.spans.length;
      await withClientOn("embedded", {
        workers: 1,
        tracing: {
          endpoint: collector.endpoint,
          sampleRatio: ratio,
          parentBased: false,
        },
      }, async (c) => {
        const traceparent = `00-${trace}-00f067aa0ba902b7-${flag}`;
        assert.equal(
          await c.view(0).with({ traceparent }).applyAsync(() => 1),
          1,
        );
      });
      assert.equal(collector.spans.length - before, traced);
    }
  });
  const error = await errorOf(Client.start({
    workers: 1,
    tracing: {
      endpoint: "http://127.0.0.1:9/v1/traces",
      parentBased: "no" as unknown as boolean,
    },
  }));
  assert.match(
    error.message,
    /^tracing\.parentBased must be true \(a traceparent's flag decides\) or false/,
  );
});

Deno.test("tracing with no endpoint anywhere, or a malformed variable, is a clear error before anything starts", async () => {
  await withOtelEnv({}, async () => {
    for (const tracing of [true, { serviceName: "x" }] as const) {
      const error = await errorOf(Client.start({ workers: 1, tracing }));
      assert.equal(error.name, "TypeError");
      assert.match(
        error.message,
        /^tracing names no collector: give tracing: \{ endpoint: "http:\/\/127\.0\.0\.1:4318\/v1\/traces" \}, or set OTEL_EXPORTER_OTLP_TRACES_ENDPOINT \(or OTEL_EXPORTER_OTLP_ENDPOINT, to which \/v1\/traces is added\)/,
      );
    }
    const connect = await errorOf(
      Client.connect({ hostname: "127.0.0.1", port: 9, key: "k" }, {
        tracing: true,
      }),
    );
    assert.match(
      connect.message,
      /^Client.connect's tracing names no collector/,
    );
  });
  await withOtelEnv(
    { OTEL_EXPORTER_OTLP_ENDPOINT: "127.0.0.1:4318" },
    async () => {
      const error = await errorOf(Client.start({ workers: 1, tracing: true }));
      assert.match(
        error.message,
        /^OTEL_EXPORTER_OTLP_ENDPOINT must be an http\(s\) URL such as http:\/\/127\.0\.0\.1:4318, got "127\.0\.0\.1:4318"/,
      );
    },
  );
  await withOtelEnv({
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://127.0.0.1:4318/v1/traces",
    OTEL_EXPORTER_OTLP_HEADERS: "authorization=s3cret,novalue-s3cret",
  }, async () => {
    const error = await errorOf(Client.start({ workers: 1, tracing: true }));
    assert.match(
      error.message,
      /^OTEL_EXPORTER_OTLP_HEADERS's entry 2 is not key=value .*headers are secrets/,
    );
    assert.ok(!error.message.includes("s3cret"), error.message);
  });
});

/** Runs `code` (with `Client` imported) in a script with `flags`; what it printed. */
async function runWith(
  code: string,
  flags: string[],
  env: Record<string, string> = {},
): Promise<string> {
  let said = "";
  await withTempDir(async (dir) => {
    const path = join(dir, "script.ts");
    await Deno.writeTextFile(
      path,
      `import { Client } from "${MOD}";
      try {
        ${code}
        console.log("started");
      } catch (error) {
        console.log(error.name + ": " + error.message);
      }`,
    );
    const { stdout, stderr } = await guard(
      new Deno.Command(Deno.execPath(), {
        args: ["run", "--no-prompt", `--config=${CONFIG}`, ...flags, path],
        env: { NO_COLOR: "1", ...env },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn().output(),
      "the script",
      60_000,
    );
    said = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  });
  return said;
}

Deno.test("tracing checks its flags up front: --allow-net for the collector, --allow-env for the variables", async () => {
  const endpoint = "http://localhost:4318/v1/traces";
  const start =
    `const client = await Client.start({ workers: 0, tracing: { endpoint: "${endpoint}" } });
    await client.close();`;
  const noNet = await runWith(start, ["--allow-net=127.0.0.1"]);
  assert.match(
    noNet,
    /^NotCapable: tracing sends spans to the collector at http:\/\/localhost:4318\/v1\/traces: run the script with --allow-net=localhost:4318 \(or -A\)/,
  );
  const connect =
    `await Client.connect({ hostname: "127.0.0.1", port: 9, key: "k" }, { tracing: { endpoint: "https://collector.invalid/v1/traces" } });`;
  assert.match(
    await runWith(connect, ["--allow-net=127.0.0.1"]),
    /^NotCapable: tracing sends spans to the collector at https:\/\/collector\.invalid\/v1\/traces: run the script with --allow-net=collector\.invalid:443/,
  );
  assert.match(
    await runWith(start, ["--allow-net=localhost:4318"]),
    /^started/,
  );

  const fromEnv =
    `const client = await Client.start({ workers: 0, tracing: true });
    await client.close();`;
  const env = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9" };
  assert.match(
    await runWith(fromEnv, ["--allow-net=127.0.0.1"], env),
    /^NotCapable: tracing without an endpoint reads the OpenTelemetry variable OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: run the script with --allow-env=OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,OTEL_EXPORTER_OTLP_ENDPOINT,OTEL_EXPORTER_OTLP_HEADERS,OTEL_EXPORTER_OTLP_TRACES_HEADERS,OTEL_SERVICE_NAME,OTEL_RESOURCE_ATTRIBUTES,OTEL_TRACES_SAMPLER,OTEL_TRACES_SAMPLER_ARG \(or -A\)/,
  );
  const allowEnv = `--allow-env=${OTEL.join(",")}`;
  assert.match(
    await runWith(fromEnv, ["--allow-net=127.0.0.1", allowEnv], env),
    /^started/,
  );
  // The endpoint from a variable is checked the same way.
  assert.match(
    await runWith(fromEnv, ["--allow-net=localhost", allowEnv], env),
    /^NotCapable: tracing sends spans to the collector at http:\/\/127\.0\.0\.1:9\/v1\/traces: run the script with --allow-net=127\.0\.0\.1:9/,
  );
});
