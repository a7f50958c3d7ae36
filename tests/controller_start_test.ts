/**
 * How a controller starts, and fails to: its own engines given up fail its
 * start at once although its engine listener stays joinable; a signal
 * while it starts stops what it started.
 */

import assert from "node:assert/strict";
import { startController } from "../controller/controller.ts";
import { local } from "../launch/local.ts";
import { Client } from "../mod.ts";
import { withCluster, withTroupeHome } from "./controller_rig.ts";
import { errorOf, guard } from "./helpers.ts";

Deno.test("a controller whose own engines are given up fails its start at once, its listener joinable", async () => {
  // A `deno` that exits at once: every start of every engine fails, and
  // the restart policy gives each up. The start timeout (10 min) is far
  // beyond the guard, so only the given-up engines can end the wait.
  const error = await errorOf(
    startController({
      id: "given-up",
      engines: {
        workers: 0,
        launch: local({ engines: 2, deno: "/bin/false" }),
        startTimeoutMs: 600_000,
        log: () => {},
      },
      log: () => {},
    }),
    "the start of a controller whose engines cannot start",
    60_000,
  );
  assert.match(
    error.message,
    /^2 engines can never be up: this client has [01] engines that are up or starting \(engine [01] was given up; it last died because /,
  );
});

Deno.test("troupe start --listen 0.0.0.0: the state file has an address to dial, this host's name or --advertise", async () => {
  await withTroupeHome(async (home) => {
    const flags = ["--processes", "1", "--listen", "0.0.0.0"];
    await withCluster(home, "wide", flags, async ({ state }) => {
      assert.equal(state.hostname, Deno.hostname());
      assert.equal(state.engine.hostname, Deno.hostname());
      // A client dials what the file says (sealed: it is off loopback).
      const client = await guard(Client.connect("wide"), "connect", 30_000);
      try {
        assert.deepEqual(
          await guard(client.view().applyAsync(() => 6 * 7), "a task", 30_000),
          [42],
        );
      } finally {
        await client.close();
      }
    });
    await withCluster(
      home,
      "named",
      [...flags, "--advertise", "127.0.0.1"],
      async ({ state }) => {
        assert.equal(state.hostname, "127.0.0.1");
        assert.equal(state.engine.hostname, "127.0.0.1");
        assert.equal(state.config.advertise, "127.0.0.1");
        const client = await guard(Client.connect("named"), "connect", 30_000);
        try {
          assert.deepEqual(client.ids, [0]);
        } finally {
          await client.close();
        }
      },
    );
  });
});
