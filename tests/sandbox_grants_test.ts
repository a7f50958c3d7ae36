/**
 * Sandboxed engines, after review: what a grant gives works for real (a
 * write into the granted folder, a granted variable, command, sys kind,
 * import host), what troupe added closes what Deno's defaults leave open
 * (remote imports, the client's environment, troupe's own keys), and what
 * would silently widen or mislead is refused (a symlink grant, a launcher
 * that drops the sandbox's flags, a module task's folder not granted).
 */

import assert from "node:assert/strict";
import {
  Client,
  type EnginePermissions,
  HostProcess,
  type Launcher,
  local,
  moduleFunction,
  RemoteError,
  slurm,
} from "../mod.ts";
import { parseArgs, UsageError } from "../cli/args.ts";
import { controllerPlan } from "../cli/cluster_config.ts";
import { errorOf, withClient, withClientOn, withTempDir } from "./helpers.ts";
import { CLIENT_SIDES } from "./client_sides.ts";
import { withTroupeHome } from "./controller_rig.ts";

/**
 * The error `Client.start(options)` rejects with; a client it started
 * after all is closed before the test fails, so nothing is left behind.
 */
async function startRefused(
  options: Parameters<typeof Client.start>[0],
  ms = 10_000,
): Promise<Error> {
  let client: Client | undefined;
  const error = await errorOf(
    Client.start(options).then((c) => (client = c)),
    "Client.start",
    ms,
  ).finally(() => client?.close());
  return error;
}

/** A module server on 127.0.0.1: `GET /m.js` is a module saying `name`. */
function moduleServer(name: string): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () =>
      new Response(`export const name = ${JSON.stringify(name)};`, {
        headers: { "content-type": "application/javascript" },
      }),
  );
}

Deno.test("a sandboxed engine's grants work for real: write in its folder, a granted variable, command, sys kind and import host", async () => {
  await withTempDir(async (dir) => {
    const granted = moduleServer("granted");
    const other = moduleServer("other");
    Deno.env.set("TROUPE_SANDBOX_GRANTED", "yes");
    Deno.env.set("TROUPE_SANDBOX_SECRET", "client's");
    const permissions: EnginePermissions = {
      read: [dir],
      write: [`${dir}/out`],
      env: ["TROUPE_SANDBOX_GRANTED"],
      run: ["true", "env"],
      sys: ["osRelease"],
      import: [`127.0.0.1:${granted.addr.port}`],
    };
    try {
      await Deno.mkdir(`${dir}/out`);
      await withClient({ processes: 1, permissions }, async (c) => {
        const v = c.view(0);
        await v.applySync(
          (path: string) => Deno.writeTextFile(path, "written"),
          `${dir}/out/f.txt`,
        );
        assert.equal(await Deno.readTextFile(`${dir}/out/f.txt`), "written");
        assert.equal(
          await v.applySync(() => Deno.env.get("TROUPE_SANDBOX_GRANTED")),
          "yes",
        );
        assert.equal(
          await v.applySync(async () =>
            (await new Deno.Command("true").output()).code
          ),
          0,
        );
        // node:dns says only EPERM: the engine says what it means.
        const lookup = await errorOf(v.applySync(async () => {
          const dns = await import("node:dns");
          return await dns.promises.lookup("example.com");
        }));
        assert.match(
          lookup.message,
          /EPERM.*the engine's permissions do not allow the net access this lookup needs \(it runs sandboxed/,
        );
        // Its environment was cleared but for what Deno needs and what
        // env grants: a child it may run sees no secret of the client's.
        const seen = await v.applySync(async () =>
          new TextDecoder().decode(
            (await new Deno.Command("env").output()).stdout,
          )
        );
        assert.match(seen, /^TROUPE_SANDBOX_GRANTED=yes$/m);
        assert.match(seen, /^PATH=/m);
        assert.doesNotMatch(seen, /TROUPE_SANDBOX_SECRET/);
        assert.equal(
          await v.applySync(() => typeof Deno.osRelease()),
          "string",
        );
        assert.equal(
          await v.applySync(
            async (url: string) => (await import(url)).name,
            `http://127.0.0.1:${granted.addr.port}/m.js`,
          ),
          "granted",
        );
        // Another host is not granted: Deno's own default list is not
        // either (it would let a task send data out in a URL).
        for (
          const [url, host] of [
            [
              `http://127.0.0.1:${other.addr.port}/m.js`,
              `127.0.0.1:${other.addr.port}`,
            ],
            ["https://esm.sh/is-number@7.0.0", "esm.sh:443"],
          ]
        ) {
          const error = await errorOf(
            v.applySync(async (u: string) => (await import(u)).name, url),
          );
          assert.ok(error instanceof RemoteError, String(error));
          assert.match(
            error.message,
            new RegExp(
              `TypeError: the engine's permissions do not allow import access to "${host}": it runs sandboxed`,
            ),
          );
        }
      });
      // The local launcher's engines too.
      await withClient({
        workers: 0,
        launch: local({ engines: 1, permissions: { run: ["env"] } }),
      }, async (c) => {
        const seen = await c.view(0).applySync(async () =>
          new TextDecoder().decode(
            (await new Deno.Command("env").output()).stdout,
          )
        );
        assert.match(seen, /^PATH=/m);
        assert.doesNotMatch(seen, /TROUPE_SANDBOX_/);
      });
    } finally {
      Deno.env.delete("TROUPE_SANDBOX_GRANTED");
      Deno.env.delete("TROUPE_SANDBOX_SECRET");
      await granted.shutdown();
      await other.shutdown();
    }
  });
});

for (const side of CLIENT_SIDES) {
  Deno.test(`a sandboxed engine (${side}): a remote import needs permissions.import, and its environment is the engine's own`, async () => {
    const granted = moduleServer("granted");
    const other = moduleServer("other");
    Deno.env.set("TROUPE_SANDBOX_SECRET", "client's");
    const importFrom = (url: string) =>
      import(url).then((module) => module.name);
    try {
      await withClientOn(side, {
        processes: 1,
        permissions: {
          import: [`127.0.0.1:${granted.addr.port}`],
          env: ["TROUPE_SANDBOX_SECRET"],
        },
      }, async (c) => {
        const v = c.view(0);
        assert.equal(
          await v.applySync(
            importFrom,
            `http://127.0.0.1:${granted.addr.port}/m.js`,
          ),
          "granted",
        );
        const error = await errorOf(v.applySync(
          importFrom,
          `http://127.0.0.1:${other.addr.port}/m.js`,
        ));
        assert.ok(error instanceof RemoteError, String(error));
        assert.match(error.message, /do not allow import access/);
        // Granted by name: there, since this process (or the controller
        // it started in) had it when the engine started.
        assert.equal(
          await v.applySync(() => Deno.env.get("TROUPE_SANDBOX_SECRET")),
          "client's",
        );
      });
    } finally {
      Deno.env.delete("TROUPE_SANDBOX_SECRET");
      await granted.shutdown();
      await other.shutdown();
    }
  });
}

Deno.test("read: true and write: true do not reach troupe's keys, code or home, and the engine still runs", async () => {
  await withTroupeHome(async (home) => {
    await Deno.mkdir(`${home}/clusters`);
    await Deno.writeTextFile(`${home}/clusters/c.json`, '{"key":"k"}');
    const checkout = new URL("../", import.meta.url).pathname;
    await withClient(
      { processes: 1, permissions: { read: true, write: true } },
      async (c) => {
        const v = c.view(0);
        const outcome = await v.applySync(
          async (h: string, code: string) => {
            const tries = async (run: () => Promise<unknown>) => {
              try {
                await run();
                return "allowed";
              } catch (error) {
                return (error as Error).name;
              }
            };
            return {
              readKeys: await tries(() =>
                Deno.readTextFile(`${h}/clusters/c.json`)
              ),
              writeHome: await tries(() => Deno.writeTextFile(`${h}/x`, "x")),
              writeCode: await tries(() =>
                Deno.writeTextFile(`${code}sandbox_probe.txt`, "x")
              ),
              readPasswd: await tries(() => Deno.readTextFile("/etc/passwd")),
            };
          },
          home,
          checkout,
        );
        // Were it allowed, it must not stay in the checkout.
        await Deno.remove(`${checkout}sandbox_probe.txt`).catch(() => {});
        assert.deepEqual(outcome, {
          readKeys: "NotCapable",
          writeHome: "NotCapable",
          writeCode: "NotCapable",
          readPasswd: "allowed",
        });
      },
    );
  });
});

Deno.test("a sandboxed module task: its folder not granted says so and what to add; granted, it runs", async () => {
  const tasks = new URL("./fixtures/tasks.ts", import.meta.url);
  const addOffset = moduleFunction<(x: number) => number>(tasks, "addOffset");
  await withClient({ processes: 1, permissions: {} }, async (c) => {
    const error = await errorOf(c.view(0).applySync(addOffset, 1));
    assert.ok(error instanceof RemoteError, String(error));
    assert.match(
      error.message,
      /could not import file:.*tasks\.ts: it runs sandboxed, and its permissions do not allow read access to it .*add the module's folder \(and those of its local imports\) to permissions\.read/,
    );
    assert.doesNotMatch(error.message, /run again with/);
  });
  // The fixture imports troupe's mod.ts: the checkout's folder it is in.
  const checkout = new URL("../", import.meta.url).pathname;
  await withClient(
    { processes: 1, permissions: { read: [checkout] } },
    async (c) => {
      assert.equal(typeof await c.view(0).applySync(addOffset, 1), "number");
    },
  );
});

Deno.test("a granted path that is a symbolic link is refused before anything starts", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/real`);
    await Deno.symlink(`${dir}/real`, `${dir}/link`);
    const error = await startRefused({
      processes: 1,
      permissions: { read: [`${dir}/link`] },
    });
    assert.ok(error instanceof TypeError, String(error));
    assert.match(
      error.message,
      /the permissions option\.read\[0\] is ".*\/link", which is \(or lies under\) a symbolic link to ".*\/real".*grant the real path instead/,
    );
  });
});

/** A launcher that starts troupe's engine with `-A`, dropping the sandbox. */
function ignoringSandbox(): Launcher {
  return {
    name: "careless",
    engines: 1,
    start: (request) => {
      const args = [...request.args];
      const at = args.indexOf("--sandbox");
      args.splice(at, 2);
      const entry = args.findIndex((arg) => arg.includes("engine/mod.ts"));
      const module = args.slice(entry).filter((arg) =>
        !arg.startsWith("--allow-") || arg === "--allow-plain"
      );
      // Its config and lock flags kept, every permission flag dropped.
      const config = args.slice(1, entry).filter((arg) =>
        !/^--(allow|deny)-|^--no-prompt$/.test(arg)
      );
      return Promise.resolve(request.engines.map((engine) =>
        new HostProcess({
          command: Deno.execPath(),
          args: ["run", "-A", ...config, ...module, "--secrets", "-"],
          stdin: engine.secrets,
        })
      ));
    },
  };
}

Deno.test("an engine of a sandboxed cluster that its launcher started without the sandbox is refused, saying why", async () => {
  // The start fails: its only engine was given up, for that reason.
  const error = await startRefused(
    { workers: 0, permissions: {}, launch: ignoringSandbox() },
    30_000,
  );
  assert.match(
    error.message,
    /was to run sandboxed, but its process .* did not get --sandbox: its launcher \(careless\) must run `deno` with LaunchRequest\.args as they are/,
  );
});

Deno.test("troupe start/controller: repeated grant flags add up, a list after a space is refused, Worker engines refused in the CLI's words", () => {
  const config = parseArgs([
    "start",
    "--processes",
    "1",
    "--engine-allow-read=/a",
    "--engine-allow-read=/b",
  ]).config;
  assert.deepEqual(controllerPlan("sim", config).engines.permissions, {
    read: ["/a", "/b"],
  });
  assert.throws(
    () => parseArgs(["start", "--engine-allow-read", "/data"]),
    (error: Error) =>
      error instanceof UsageError &&
      /--engine-allow-read takes its list after "=": --engine-allow-read=\/data/
        .test(error.message),
  );
  for (
    const [args, said] of [
      [["--workers", "2", "--processes", "1"], "--workers 2 asks"],
      [[], "--workers defaults to one per core"],
    ] as const
  ) {
    assert.throws(
      () =>
        controllerPlan(
          "sim",
          parseArgs(["controller", "--sandbox", ...args]).config,
        ),
      (error: Error) =>
        error instanceof UsageError && error.message.includes(said) &&
        /processes instead: --processes \d+ /.test(
          error.message,
        ) && !error.message.includes("{"),
    );
  }
  assert.throws(
    () =>
      controllerPlan(
        "sim",
        parseArgs(["start", "--engine-allow-net=*"]).config,
      ),
    /--engine-allow-net=\*: .*grants every host: write net: true for all/,
  );
});

Deno.test("Client.start({ workers: 2, processes: 1, permissions }) is told to use processes: 3", async () => {
  const error = await startRefused({
    workers: 2,
    processes: 1,
    permissions: {},
  });
  assert.ok(error instanceof TypeError);
  assert.match(error.message, /\{ processes: 3, permissions \}/);
});

Deno.test("a sandbox that cannot be built fails the start: a comma in a secretsDir, a read grant over the secrets folder", async () => {
  const comma = await startRefused({
    workers: 0,
    permissions: {},
    launch: slurm({ engines: 1, secretsDir: "/tmp/troupe,secrets" }),
  });
  assert.match(
    comma.message,
    /secretsDir .*"\/tmp\/troupe,secrets".*comma in it would split Deno's --allow-read list/,
  );
  const covered = await startRefused({
    workers: 0,
    permissions: { read: ["/tmp"] },
    launch: slurm({ engines: 1, secretsDir: "/tmp/troupe_secrets" }),
  });
  assert.match(
    covered.message,
    /read permission covers the secrets folder \/tmp\/troupe_secrets.*give the launcher a secretsDir outside/,
  );
});
