/**
 * A hand-started engine given up while it was away (past
 * `restart.withinMs`) that comes back as the same process gets its id
 * again: a pause (SIGSTOP, a laptop's sleep) is not a new engine.
 */

import assert from "node:assert/strict";
import type { EngineEvent } from "../mod.ts";
import { startHandEngine } from "./hand_engine.ts";
import { guard, until, withClient } from "./helpers.ts";

Deno.test("a hand-started engine paused past restart.withinMs and resumed comes back under its id, as a restart", async () => {
  const events: EngineEvent[] = [];
  await withClient({
    workers: 0,
    listen: true,
    heartbeatMs: 200,
    restart: { maxRestarts: 5, withinMs: 1000 },
    onEngineEvent: (event) => events.push(event),
    log: () => {},
  }, async (client) => {
    const { hostname, port, key } = client.connectionInfo!;
    const engine = startHandEngine(["--connect", `${hostname}:${port}`], {
      TROUPE_KEY: key,
    });
    let paused = false;
    try {
      await guard(client.waitForEngines(1), "the engine to join");
      Deno.kill(engine.pid, "SIGSTOP");
      paused = true;
      await until(
        () => client.engines()[0]?.state === "stopped",
        "the paused engine to be given up",
        20_000,
      );
      const gaveUp = events.find((e) => e.type === "gaveUp");
      assert.ok(gaveUp?.type === "gaveUp");
      assert.match(
        gaveUp.reason,
        new RegExp(
          `did not reconnect within 1000 ms \\(restart\\.withinMs\\) of its ` +
            `death; the same process \\(pid ${engine.pid} on .+\\) that ` +
            `comes back later gets its id again`,
        ),
      );
      Deno.kill(engine.pid, "SIGCONT");
      paused = false;
      await until(
        () => client.engines()[0]?.state === "idle",
        "the resumed engine to be back under id 0",
        20_000,
      );
      assert.deepEqual(client.engines().map((e) => e.engineId), [0]);
      assert.deepEqual(
        await client.view([0]).applySync(() => Deno.pid),
        [engine.pid],
        "the same process runs engine 0's tasks",
      );
      assert.ok(
        events.some((e) => e.type === "restarted" && e.engineId === 0),
        "its return is a restart",
      );
    } finally {
      if (paused) Deno.kill(engine.pid, "SIGCONT");
      await engine.kill();
    }
  });
});
