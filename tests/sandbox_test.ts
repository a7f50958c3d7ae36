/**
 * Sandboxed engines (`permissions`): real engine processes started with
 * exactly the Deno permissions given, embedded and connected (a controller
 * started with them), by `processes` and by each launcher. A task that
 * oversteps gets a `RemoteError` naming the permission (its class,
 * `NotCapable`, kept); troupe's own needs (the connection, its modules, a
 * restart of the task thread or of the engine) keep working. Worker
 * engines are refused. Launchers' engines: sandbox_launchers_test.ts.
 */

import assert from "node:assert/strict";
import { Client, type EnginePermissions, local } from "../mod.ts";
import { publishData } from "../engine/mod.ts";
import { parseArgs, UsageError } from "../cli/args.ts";
import { controllerPlan } from "../cli/cluster_config.ts";
import { flagsOf } from "../cli/flags.ts";
import { withCluster, withTroupeHome } from "./controller_rig.ts";
import { CLIENT_SIDES } from "./client_sides.ts";
import { assertRefused, readPasswd } from "./sandbox_checks.ts";
import {
  errorOf,
  guard,
  recordEvents,
  until,
  withClientOn,
  withTempDir,
} from "./helpers.ts";

for (const side of CLIENT_SIDES) {
  Deno.test(`a sandboxed engine process (${side}): refused what it was not given, allowed what it was, and troupe keeps working`, async (t) => {
    await withTempDir(async (dir) => {
      await Deno.writeTextFile(`${dir}/data.txt`, "given");
      // One port the engine is given, one it is not.
      const given = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const other = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const permissions: EnginePermissions = {
        read: [dir],
        net: [`127.0.0.1:${given.addr.port}`],
      };
      try {
        await withClientOn(side, { processes: 1, permissions }, async (c) => {
          const v = c.view(0);

          await t.step("workers default to 0: the engine is a process", () => {
            assert.deepEqual(c.engines().map((e) => e.kind), ["process"]);
          });

          await t.step("cannot read /etc/passwd", async () => {
            assertRefused(
              await errorOf(v.applySync(readPasswd)),
              "read",
              "/etc/passwd",
            );
          });

          await t.step("can read the folder it was given", async () => {
            assert.equal(
              await v.applySync(
                (path: string) => Deno.readTextFile(path),
                `${dir}/data.txt`,
              ),
              "given",
            );
          });

          await t.step("cannot write, inside the folder or out", async () => {
            for (const path of [`${dir}/out.txt`, "/tmp/troupe_sandbox_x"]) {
              assertRefused(
                await errorOf(v.applySync(
                  (p: string) => Deno.writeTextFile(p, "x"),
                  path,
                )),
                "write",
                path,
              );
            }
          });

          await t.step(
            "cannot connect to a port it was not given",
            async () => {
              const port = (other.addr as Deno.NetAddr).port;
              assertRefused(
                await errorOf(v.applySync(async (p: number) => {
                  (await Deno.connect({ hostname: "127.0.0.1", port: p }))
                    .close();
                }, port)),
                "net",
                `127.0.0.1:${port}`,
              );
            },
          );

          await t.step("can connect to the port it was given", async () => {
            const accepted = given.accept();
            const said = v.applySync(async (p: number) => {
              const conn = await Deno.connect({
                hostname: "127.0.0.1",
                port: p,
              });
              await conn.write(new TextEncoder().encode("hi"));
              conn.close();
              return "sent";
            }, given.addr.port);
            const conn = await guard(accepted, "the engine's connection");
            const bytes = new Uint8Array(2);
            let read = 0;
            while (read < 2) {
              const n = await conn.read(bytes.subarray(read));
              if (n === null) break;
              read += n;
            }
            conn.close();
            assert.equal(new TextDecoder().decode(bytes), "hi");
            assert.equal(await said, "sent");
          });

          await t.step(
            "the client's address was taken back; the given port was not",
            async () => {
              const query = (ports: number[]) =>
                ports.map((p) =>
                  Deno.permissions.querySync({
                    name: "net",
                    host: `127.0.0.1:${p}`,
                  }).state
                );
              assert.deepEqual(
                await v.applySync(query, [
                  c.connectionInfo.port,
                  given.addr.port,
                ]),
                ["prompt", "granted"],
              );
            },
          );

          await t.step("env, subprocesses and sys are denied", async () => {
            assertRefused(
              await errorOf(v.applySync(() => Deno.env.get("HOME"))),
              "env",
              "HOME",
            );
            assertRefused(
              await errorOf(
                v.applySync(() => new Deno.Command("true").output()),
              ),
              "run",
              "true",
            );
            assertRefused(
              await errorOf(v.applySync(() => Deno.hostname())),
              "sys",
              "hostname",
            );
          });

          await t.step("it still publishes", async () => {
            const ar = v.applyAsync(() => {
              publishData({ step: 1 });
              return "done";
            });
            assert.equal(await ar, "done");
            assert.deepEqual(ar.data, { step: 1 });
          });

          await t.step(
            "an aborted task's thread comes back, sandboxed",
            async () => {
              const ar = v.applyAsync(
                () => new Promise((resolve) => setTimeout(resolve, 20_000)),
              );
              await until(() => c.engines()[0].state === "busy", "the task");
              ar.abort();
              await errorOf(ar);
              assert.equal(await v.applySync(() => 1 + 1), 2);
              assertRefused(
                await errorOf(v.applySync(readPasswd)),
                "read",
                "/etc/passwd",
              );
            },
          );

          await t.step("a killed engine comes back, sandboxed", async () => {
            const rec = recordEvents(c);
            const pid = await v.applySync(() => Deno.pid);
            Deno.kill(pid, "SIGKILL");
            await until(
              () => rec.has("restarted", 0) && c.engines()[0].state === "idle",
              "engine 0's restart",
            );
            rec.stop();
            assert.notEqual(await v.applySync(() => Deno.pid), pid);
            assertRefused(
              await errorOf(v.applySync(readPasswd)),
              "read",
              "/etc/passwd",
            );
          });
        });
      } finally {
        given.close();
        other.close();
      }
    });
  });
}

Deno.test("permissions refuse Worker engines, and bad permissions, before anything starts", async () => {
  const refusal = async (options: Parameters<typeof Client.start>[0]) => {
    const error = await errorOf(Client.start(options));
    assert.ok(error instanceof TypeError, String(error));
    return error.message;
  };
  const asked = await refusal({ workers: 2, permissions: {} });
  assert.match(asked, /workers: 2 asks for Worker engines/);
  assert.match(
    asked,
    /Start the engines as processes instead: \{ processes: 2, permissions \}/,
  );
  assert.match(
    await refusal({ permissions: { read: ["/data"] } }),
    /workers defaults to one per core \(\d+\) when neither processes nor launch is given/,
  );
  assert.match(
    await refusal({ processes: 1, permissions: { read: ["a,b"] } }),
    /the permissions option\.read\[0\] must not contain a comma/,
  );
  assert.match(
    await refusal({ processes: 1, permissions: { network: true } as never }),
    /unknown option "network" in the permissions option/,
  );
  assert.throws(
    () => local({ engines: 1, permissions: { read: [""] } }),
    /local\(\) permissions\.read\[0\] must not be empty/,
  );
});

Deno.test("troupe start/controller: --sandbox and --engine-allow-NAME[=LIST] become the engines' permissions, and flags again", () => {
  const config = parseArgs([
    "start",
    "--processes",
    "2",
    "--engine-allow-read=/data,/more",
    "--engine-allow-net",
  ]).config;
  assert.deepEqual(controllerPlan("sim", config).engines.permissions, {
    read: ["/data", "/more"],
    net: true,
  });
  assert.deepEqual(flagsOf(config), [
    "--processes=2",
    "--engine-allow-read=/data,/more",
    "--engine-allow-net",
  ]);
  const bare = parseArgs(["controller", "--processes", "1", "--sandbox"]);
  assert.deepEqual(controllerPlan("sim", bare.config).engines.permissions, {});
  assert.deepEqual(flagsOf(bare.config), ["--processes=1", "--sandbox"]);
  assert.equal(
    controllerPlan("sim", { processes: 1 }).engines.permissions,
    undefined,
  );
  assert.throws(
    () =>
      controllerPlan(
        "sim",
        parseArgs(["start", "--engine-allow-read=data"]).config,
      ),
    (error: Error) =>
      error instanceof UsageError &&
      /--engine-allow-read=data: .*must be an absolute path/.test(
        error.message,
      ),
  );
});

Deno.test("troupe start --engine-allow-read=DIR: the detached controller's engine processes are sandboxed, and its config keeps it", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/data.txt`, "given");
    await withTroupeHome(async (home) => {
      const flags = ["--processes", "1", `--engine-allow-read=${dir}`];
      await withCluster(home, "sandboxed", flags, async ({ state }) => {
        assert.deepEqual(state.config, {
          processes: 1,
          "engine-allow-read": [dir],
        });
        const client = await guard(Client.connect("sandboxed"), "connect");
        try {
          const v = client.view(0);
          assertRefused(
            await errorOf(v.applySync(readPasswd)),
            "read",
            "/etc/passwd",
          );
          assert.equal(
            await v.applySync(
              (path: string) => Deno.readTextFile(path),
              `${dir}/data.txt`,
            ),
            "given",
          );
        } finally {
          await client.close();
        }
      });
    });
  });
});
