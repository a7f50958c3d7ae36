/**
 * How a controller starts, and fails to: its own engines given up fail its
 * start at once although its engine listener stays joinable; a signal
 * while it starts stops what it started.
 */

import assert from "node:assert/strict";
import { startController } from "../controller/controller.ts";
import { local } from "../launch/local.ts";
import { errorOf } from "./helpers.ts";

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
