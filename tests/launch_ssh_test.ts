/**
 * The `ssh` launcher against the real sshd of `.ci/services.sh` (on
 * 127.0.0.1:2222, with its test key): the seed on engines started over
 * `ssh`, an engine whose remote process is killed mid-task coming back on
 * its host, the key on no command line, nothing left after `close()`, and
 * a host that refuses. Frames are sealed (`encrypt: true`), as across
 * hosts. Without the sshd the tests skip and say why.
 */

import assert from "node:assert/strict";
import { Client, EngineError, ssh } from "../mod.ts";
import {
  processesMatching,
  runCommand,
  skipWithout,
  SSH_OPTIONS,
  SSH_TARGET,
} from "./cluster_services.ts";
import { holdUntilFile } from "./file_latch.ts";
import {
  errorOf,
  recordEvents,
  stillWorks,
  until,
  withClient,
  withTempDir,
} from "./helpers.ts";
import {
  assertNothingLeft,
  assertSeedRuns,
  sshSessionsDialing,
} from "./launch_checks.ts";

const FILE = "launch_ssh_test.ts";
const skip = await skipWithout("ssh", FILE);

/** An ssh login and a deno start take a second or two; a busy machine more. */
const SSH_MS = 30_000;

Deno.test({
  name: "ssh: the seed on 2 engines of one host; a killed engine comes back " +
    "on it; the key on no command line; close() leaves nothing" +
    skip.because,
  ignore: skip.ignore,
  async fn(t) {
    await withTempDir(async (dir) => {
      let port = 0;
      await withClient({
        workers: 0,
        launch: ssh({ hosts: { [SSH_TARGET]: 2 }, sshArgs: [...SSH_OPTIONS] }),
        encrypt: true,
        startTimeoutMs: SSH_MS,
      }, async (client) => {
        port = client.connectionInfo.port;
        const rec = recordEvents(client);

        await t.step("engines() shows ssh and the host", async () => {
          assert.deepEqual(client.ids, [0, 1]);
          const status = client.engines();
          assert.deepEqual(status.map((e) => e.launcher), ["ssh", "ssh"]);
          // The sshd runs on this machine: the engines say its name.
          assert.deepEqual(status.map((e) => e.host), [
            Deno.hostname(),
            Deno.hostname(),
          ]);
          assert.deepEqual(
            await client.view().applySync(() => Deno.pid),
            status.map((e) => e.pid),
          );
          assert.equal(
            (await processesMatching(sshSessionsDialing(port))).length,
            2,
          );
        });

        await t.step("the key is on no command line", async () => {
          const { key } = client.connectionInfo;
          const ps = await runCommand("ps", ["-eo", "args"]);
          assert.equal(ps.code, 0, ps.stderr);
          const engineLines = ps.stdout.split("\n")
            .filter((line) => line.includes(`:${port} --spawned`));
          // The two ssh clients and the two remote engines (and a login
          // shell's, where it does not exec the command).
          assert.ok(engineLines.length >= 4, engineLines.join("\n"));
          assert.ok(!ps.stdout.includes(key), "the key is in ps -eo args");
        });

        await t.step(
          "the seed: publishIt and the simulation loop",
          () => assertSeedRuns(client, SSH_MS),
        );

        await t.step(
          "kill -9 of an engine mid-task: EngineError, back on its host",
          async () => {
            const before = client.engines()[0];
            const held = client.view(0).applyAsync(
              holdUntilFile,
              `${dir}/never`,
            );
            await until(
              () => held.data?.started === true,
              "the held task to start",
              SSH_MS,
            );
            const r = await runCommand("kill", ["-9", String(before.pid)]);
            assert.equal(r.code, 0, r.stderr);
            const error = await errorOf(held, "the held task", SSH_MS);
            assert.ok(error instanceof EngineError, String(error));
            await until(
              () => rec.has("restarted", 0) && client.ids.includes(0),
              "engine 0 to come back",
              SSH_MS,
            );
            const after = client.engines()[0];
            assert.equal(after.launcher, "ssh");
            assert.equal(after.host, before.host);
            assert.notEqual(after.pid, before.pid);
            assert.equal(after.restarts, 1);
            assert.ok(!rec.has("died", 1), "engine 1 died too");
            await stillWorks(client);
            // The killed engine's ssh session ended with it.
            assert.equal(
              (await processesMatching(sshSessionsDialing(port))).length,
              2,
            );
          },
        );
        rec.stop();
      });
      await assertNothingLeft({ port, patterns: [sshSessionsDialing(port)] });
    });
  },
});

Deno.test({
  name: "ssh: a host that refuses fails Client.start within its timeout, " +
    "says so, and leaves nothing" + skip.because,
  ignore: skip.ignore,
  async fn() {
    const [userHost] = SSH_TARGET.split(":");
    // Nothing listens on port 1 here: the connection is refused.
    const refusing = `${userHost}:1`;
    const error = await errorOf(
      Client.start({
        workers: 0,
        launch: ssh({ hosts: { [refusing]: 1 }, sshArgs: [...SSH_OPTIONS] }),
        encrypt: true,
        startTimeoutMs: 10_000,
      }),
      "Client.start on a refusing host",
      SSH_MS,
    );
    assert.match(error.message, /ssh to 127\.0\.0\.1 failed/);
    assert.match(
      error.message,
      /check that `ssh -p 1 root@127\.0\.0\.1 true` logs in without a prompt/,
    );
    assert.deepEqual(await processesMatching(`^\\S*ssh .* -p 1 root@`), []);
  },
});
