/**
 * Sealed frames doing real work, and who decides to seal: process engines
 * run tasks, publications and 20 MB both ways over sealed frames; a client
 * listening off loopback seals unasked (a relay reads nothing); off
 * loopback, an engine refuses plain frames unless `--allow-plain`.
 */

import assert from "node:assert/strict";
import { publishData } from "../mod.ts";
import { isLoopback } from "../transport/loopback.ts";
import { startHandEngine } from "./hand_engine.ts";
import { guard, withClient } from "./helpers.ts";
import {
  contains,
  HANG_MS,
  helloOf,
  RESULT_MARKER,
  runMarked,
  SOURCE_MARKER,
  withTappedEngine,
} from "./tapped_engine.ts";

Deno.test("sealed: process engines do real work sealed (tasks, publications, 20 MB)", async () => {
  await withClient({ processes: 2, encrypt: true }, async (client) => {
    const dv = client.view();
    const big = new Float64Array(2_500_000).map((_, i) => i * 0.5); // 20 MB
    await guard(dv.push({ big }), "push 20 MB", HANG_MS);
    const pulled = await guard(dv.pull("big"), "pull 20 MB", HANG_MS);
    assert.deepEqual(pulled, [big, big]);
    const echoed = await guard(
      client.view(0).applyAsync((a: Float64Array) => a, big),
      "a 20 MB round trip",
      HANG_MS,
    );
    assert.deepEqual(echoed, big);
    const ar = dv.applyAsync((n: number) => {
      for (let i = 0; i < n; i++) publishData({ i });
      return n;
    }, 200);
    assert.deepEqual(await guard(ar, "publishing tasks", HANG_MS), [200, 200]);
    assert.deepEqual(ar.data, [{ i: 199 }, { i: 199 }]);
    const lv = client.loadBalancedView({ highWaterMark: 16 });
    const squares = await guard(
      lv.mapAsync(
        (x: number) => x * x,
        Array.from({ length: 500 }, (_, i) => i),
        {
          chunkSize: 1,
        },
      ),
      "a load-balanced map",
      HANG_MS,
    );
    assert.deepEqual(squares, Array.from({ length: 500 }, (_, i) => i * i));
  });
});

Deno.test("sealed: a client listening off loopback seals unasked", async () => {
  await withTappedEngine(
    { listen: { hostname: "0.0.0.0" } },
    async ({ client, relay }) => {
      assert.equal(helloOf(relay).sealed, true);
      await runMarked(client);
      assert.ok(!contains(relay.everything("toEngine"), SOURCE_MARKER));
      assert.ok(!contains(relay.everything("toClient"), RESULT_MARKER));
    },
  );
});

// ------------------------------------------------------ who decides sealing

const OFF_LOOPBACK = Deno.networkInterfaces().find((i) =>
  i.family === "IPv4" && !isLoopback(i.address)
)?.address;

Deno.test({
  name:
    "sealed: off loopback, an engine refuses plain frames unless --allow-plain",
  ignore: OFF_LOOPBACK === undefined,
  fn: async (t) => {
    const hostname = OFF_LOOPBACK!;
    await t.step("a client started with encrypt: false", async () => {
      const logs: string[] = [];
      await withClient({
        workers: 0,
        listen: { hostname },
        encrypt: false,
        log: (line) => logs.push(line),
      }, async (client) => {
        const { port, key } = client.connectionInfo;
        const refuses = startHandEngine(
          ["--connect", `${hostname}:${port}`],
          { TROUPE_KEY: key },
        );
        try {
          await refuses.waitForStderr(/--allow-plain/, "the engine's reason");
          assert.match(refuses.stderr(), /requires sealed/);
          assert.deepEqual(client.ids, []);
        } finally {
          await refuses.kill();
        }
        const allows = startHandEngine(
          ["--connect", `${hostname}:${port}`, "--allow-plain"],
          { TROUPE_KEY: key },
        );
        try {
          await guard(client.waitForEngines(1), "the plain engine", HANG_MS);
          await runMarked(client);
          await allows.waitForStderr(/\(frames plain\)/, "plain registration");
        } finally {
          await allows.kill();
        }
      });
    });

    await t.step(
      "processes of such a client are told --allow-plain",
      async () => {
        await withClient({
          processes: 1,
          listen: { hostname },
          encrypt: false,
        }, async (client) => {
          await runMarked(client);
        });
      },
    );

    await t.step("by default that client seals, and engines join", async () => {
      await withClient(
        { processes: 1, listen: { hostname } },
        async (client) => {
          await runMarked(client);
        },
      );
    });
  },
});
