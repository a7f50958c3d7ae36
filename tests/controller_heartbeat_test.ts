/**
 * The heartbeat between connected clients and their controller
 * (remote/wire_heartbeat.ts): a controller process that is stopped with
 * its connections open fails its client's pending tasks with a
 * `ControllerLostError` instead of leaving them waiting, and a stopped
 * client process's session is closed, its tasks running on.
 */

import assert from "node:assert/strict";
import { Client, ControllerLostError } from "../mod.ts";
import { fileLatch, holdUntilFile } from "./file_latch.ts";
import { startDenoScript } from "./hand_engine.ts";
import {
  errorOf,
  guard,
  sleep,
  until,
  withController,
  withTempDir,
} from "./helpers.ts";
import { withCluster, withTroupeHome } from "./controller_rig.ts";

const STALLED_CLIENT =
  new URL("./fixtures/stalled_wire_client.ts", import.meta.url).pathname;

Deno.test(
  "a SIGSTOPped controller process: the client's waiting task fails with " +
    "ControllerLostError (no word from it), and the task runs on there",
  async () => {
    await withTroupeHome((home) =>
      withCluster(home, "beat", ["--workers", "1"], async ({ state }) => {
        const go = fileLatch(home, "go");
        const client = await Client.connect("beat", { log: () => {} });
        let stopped = false;
        try {
          const ar = client.view(0).applyAsync(holdUntilFile, go.path, 60_000);
          await until(() => ar.data.started === true, "the task's start");
          const saved = ar.toJSON();
          Deno.kill(state.pid, "SIGSTOP");
          stopped = true;
          // 10 silent periods of 1 s, and slack: well within.
          const lost = await errorOf(
            ar,
            "the stopped controller's task",
            30_000,
          );
          assert.ok(lost instanceof ControllerLostError, lost.stack);
          assert.match(lost.why, /^no word from the controller for 10 s$/);
          assert.match(lost.message, /lost the connection to controller beat/);
          Deno.kill(state.pid, "SIGCONT");
          stopped = false;
          // It was only stopped: the task ran on, and is resumed.
          const again = await Client.connect("beat", { log: () => {} });
          try {
            const resumed = again.resume(saved);
            go.open();
            assert.equal(await guard(resumed, "the resumed task"), "released");
          } finally {
            await again.close();
          }
        } finally {
          if (stopped) Deno.kill(state.pid, "SIGCONT");
          go.open();
          await client.close();
        }
      })
    );
  },
);

Deno.test(
  "a SIGSTOPped client process's session is closed for its silence; " +
    "its tasks run on",
  async () => {
    await withTempDir(async (dir) => {
      const lines: string[] = [];
      const options = {
        id: "beat",
        engines: { workers: 1 },
        clientHeartbeatMs: 200,
        clientTimeoutMs: 1000,
        log: (line: string) => void lines.push(line),
      };
      await withController(options, async (controller) => {
        const go = fileLatch(dir, "go");
        const client = startDenoScript(
          STALLED_CLIENT,
          [String(controller.clientInfo.port), go.path, "1"],
          { TROUPE_TEST_CLIENT_KEY: controller.clientInfo.key },
        );
        try {
          await client.waitForStderr(/submitted base=\d+/, "the submit");
          const base = Number(/base=(\d+)/.exec(client.stderr())![1]);
          // It beats: many periods go by and its session stays.
          await sleep(1500);
          assert.equal(controller.sessions, 1, lines.join("\n"));
          Deno.kill(client.pid, "SIGSTOP");
          await until(
            () => controller.sessions === 0,
            "the stopped client's session to close",
          );
          assert.ok(
            lines.some((l) =>
              new RegExp(
                `closed the session of client \\d+ \\(127\\.0\\.0\\.1:\\d+\\): ` +
                  "no word from it for 1 s: stopped, or cut off; its tasks " +
                  "run on",
              ).test(l)
            ),
            lines.join("\n"),
          );
          // Its task runs on: another client gets its result.
          go.open();
          const other = await Client.connect(controller.clientInfo, {
            log: () => {},
          });
          try {
            const [value] = await guard(
              other.getResult([base + 1]),
              "the stopped client's task",
            );
            assert.equal((value as string).length, 2 ** 20);
          } finally {
            await other.close();
          }
        } finally {
          Deno.kill(client.pid, "SIGCONT");
          await client.kill();
        }
      });
    });
  },
);
