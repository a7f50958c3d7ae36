/**
 * Misspelt options are errors: every public options object names its
 * unknown options, suggests the closest known one, and lists them all,
 * instead of silently applying a default.
 *
 * This file is type-checked: the `@ts-expect-error` lines are part of the
 * test (an unused one is a type error).
 */

import assert from "node:assert/strict";
import { Client, type ClientOptions, linePlotSpec } from "../mod.ts";
import type { OptionNames } from "../protocol/check_options.ts";
import { liveWorkerCount } from "../transport/worker_link.ts";
import { errorOf, withClient } from "./helpers.ts";

/**
 * Options as a caller without types builds them (from JSON, from a
 * JavaScript file): the type checker would refuse a misspelt literal.
 */
const untyped = (options: object): never => options as never;

/** Checks that `error` is the unknown-option TypeError for `name`. */
function assertUnknown(
  error: unknown,
  name: string,
  where: string,
  suggestion: string | undefined,
  known: string[],
): void {
  assert.ok(error instanceof TypeError, `not a TypeError: ${error}`);
  assert.match(
    error.message,
    new RegExp(`^unknown option "${name}" in ${where}`),
  );
  if (suggestion) {
    assert.match(error.message, new RegExp(`did you mean "${suggestion}"\\?`));
  } else {
    assert.doesNotMatch(error.message, /did you mean/);
  }
  assert.match(
    error.message,
    new RegExp(`the known options are ${known.join(", ")}$`),
  );
}

const CLIENT_NAMES = [
  "workers",
  "processes",
  "listen",
  "launch",
  "advertise",
  "key",
  "encrypt",
  "maxFrameBytes",
  "log",
  "restart",
  "heartbeatMs",
  "maxHeapMb",
  "onEngineEvent",
  "startTimeoutMs",
  "noEngineTimeoutMs",
  "idleTimeoutMs",
  "permissions",
  "tracing",
];
const RESTART_NAMES = ["maxRestarts", "withinMs", "backoffMs", "maxBackoffMs"];

Deno.test("Client.start refuses unknown options before starting any engine", async (t) => {
  const cases: [string, ClientOptions, string, string, string[]][] = [
    [
      "worker",
      untyped({ worker: 2 }),
      "Client.start options",
      "workers",
      CLIENT_NAMES,
    ],
    [
      "host",
      untyped({ workers: 0, listen: { host: "127.0.0.1" } }),
      "the listen option",
      "hostname",
      ["hostname", "port"],
    ],
    [
      "maxRestart",
      untyped({ workers: 0, restart: { maxRestart: 1, withinMs: 10 } }),
      "the restart option",
      "maxRestarts",
      RESTART_NAMES,
    ],
  ];
  for (const [name, options, where, suggestion, known] of cases) {
    await t.step(`${name} in ${where}`, async () => {
      const started = Client.start(options);
      let client: Client | undefined;
      try {
        client = await started;
      } catch (error) {
        assertUnknown(error, name, where, suggestion, known);
        assert.equal(liveWorkerCount(), 0, "an engine was started");
        return;
      } finally {
        await client?.close();
      }
      assert.fail(`Client.start(${Deno.inspect(options)}) was accepted`);
    });
  }
});

Deno.test("a client's methods and views refuse unknown options", async (t) => {
  await withClient({ workers: 1, listen: true }, async (client) => {
    await t.step("loadBalancedView({ retry })", () => {
      const error = (() => {
        try {
          client.loadBalancedView(untyped({ retry: 2 }));
        } catch (error) {
          return error;
        }
      })();
      assertUnknown(error, "retry", "loadBalancedView options", "retries", [
        "retries",
        "timeoutMs",
        "highWaterMark",
        "maxQueue",
      ]);
      assert.throws(
        () => client.loadBalancedView([0], untyped({ timeout: 10 })),
        /unknown option "timeout" .*did you mean "timeoutMs"/,
      );
    });

    await t.step("an unknown option far from any known one", () => {
      assert.throws(
        () => client.loadBalancedView(untyped({ bogus: 1 })),
        (error: Error) => {
          assertUnknown(error, "bogus", "loadBalancedView options", undefined, [
            "retries",
            "timeoutMs",
            "highWaterMark",
            "maxQueue",
          ]);
          return true;
        },
      );
    });

    await t.step("mapAsync(f, seq, { chunksize })", () => {
      const lv = client.loadBalancedView();
      assert.throws(
        () => lv.mapAsync((x: number) => x, [1, 2], untyped({ chunksize: 2 })),
        (error: Error) => {
          assertUnknown(error, "chunksize", "mapAsync options", "chunkSize", [
            "chunkSize",
            "ordered",
            "signal",
            "after",
            "follow",
            "onDependencyFailure",
            "traceparent",
          ]);
          return true;
        },
      );
    });

    await t.step("waitForEngines(n, { timeout })", async () => {
      const error = await errorOf(
        client.waitForEngines(1, untyped({ timeout: 1000 })),
        "waitForEngines",
      );
      assertUnknown(
        error,
        "timeout",
        "waitForEngines options",
        "timeoutMs",
        ["timeoutMs"],
      );
    });

    await t.step("writeConnectionFile(path, { host })", async () => {
      const dir = await Deno.makeTempDir({ prefix: "troupe_options_" });
      try {
        const path = `${dir}/conn.json`;
        const error = await errorOf(
          client.writeConnectionFile(path, untyped({ host: "10.0.0.5" })),
          "writeConnectionFile",
        );
        assertUnknown(
          error,
          "host",
          "writeConnectionFile options",
          "hostname",
          ["hostname"],
        );
        await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });

    await t.step("client.restartPolicy = { backof }", () => {
      const before = client.restartPolicy;
      assert.throws(
        () => {
          client.restartPolicy = untyped({
            maxRestarts: 1,
            withinMs: 10,
            backof: 5,
          });
        },
        (error: Error) => {
          assertUnknown(error, "backof", "restartPolicy", "backoffMs", [
            ...RESTART_NAMES,
          ]);
          return true;
        },
      );
      assert.deepEqual(client.restartPolicy, before, "the policy changed");
    });

    await t.step("serveDashboard({ updatems })", async () => {
      const error = await errorOf(
        client.serveDashboard(untyped({ updatems: 50 })),
        "serveDashboard",
      );
      assertUnknown(error, "updatems", "serveDashboard options", "updateMs", [
        "hostname",
        "port",
        "token",
        "updateMs",
      ]);
    });

    await t.step("known options still pass", async () => {
      const lv = client.loadBalancedView({ retries: 1, timeoutMs: 10_000 });
      assert.deepEqual(
        await lv.mapSync((x: number) => x + 1, [1, 2], { chunkSize: 1 }),
        [2, 3],
      );
      await client.waitForEngines(1, { timeoutMs: 10_000 });
    });
  });
});

Deno.test("linePlotSpec refuses unknown labels", () => {
  assert.throws(
    () =>
      linePlotSpec(
        [],
        untyped({ title: "t", x: "x", y: "y", integer: true }),
      ),
    (error: Error) => {
      assertUnknown(error, "integer", "linePlotSpec labels", "integerX", [
        "title",
        "x",
        "y",
        "integerX",
      ]);
      return true;
    },
  );
});

/**
 * Never called: `deno check` proves that a list of option names cannot
 * drift from its options type.
 */
function namesFollowTheirType(): void {
  interface Sizes {
    width?: number;
    height?: number;
  }
  const all: OptionNames<Sizes> = { width: true, height: true };
  // @ts-expect-error: a list that lacks a field of its type
  const lacking: OptionNames<Sizes> = { width: true };
  // @ts-expect-error: a list with a name its type lacks
  const extra: OptionNames<Sizes> = { width: true, height: true, depth: true };
  void [all, lacking, extra];
}

Deno.test("option lists are checked against their types", () => {
  // The checks are in namesFollowTheirType, which deno check has passed.
  assert.equal(typeof namesFollowTheirType, "function");
});
