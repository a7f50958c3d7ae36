/**
 * The troupe CLI (cli/main.ts) as a user runs it: real `deno` processes
 * (the CLI, the detached controller, its engines), a `TROUPE_HOME` of the
 * test's own, `Client.connect` from this process. Every cluster is stopped
 * with `troupe stop` and checked to leave nothing behind (controller_rig's
 * `withCluster`).
 */

import assert from "node:assert/strict";
import { Client } from "../mod.ts";
import { parseArgs, UsageError } from "../cli/args.ts";
import { flagsOf } from "../cli/flags.ts";
import { launcherOf } from "../cli/cluster_config.ts";
import { cliEntry } from "../cli/start_verb.ts";
import { isAlive } from "../remote/controller_liveness.ts";
import { isLive, processesMatching } from "./cluster_services.ts";
import {
  assertNoStateFile,
  logOf,
  readState,
  statePath,
  troupe,
  withCluster,
  withForegroundController,
  withTroupeHome,
} from "./controller_rig.ts";
import { guard, until } from "./helpers.ts";
import { enginesDialing } from "./launch_checks.ts";

Deno.test("troupe start --workers 2: a private state file, list and engines see it, a client runs a task, stop leaves nothing", async () => {
  await withTroupeHome((home) =>
    withCluster(home, "w2", ["--workers", "2"], async ({ state }) => {
      const info = await Deno.stat(statePath(home, "w2"));
      assert.equal(info.mode! & 0o777, 0o600);
      assert.equal((await Deno.stat(`${home}/clusters`)).mode! & 0o777, 0o700);
      assert.notEqual(state.key, state.engine.key, "one key per listener");
      assert.equal(state.db, `${home}/clusters/w2.sqlite`);
      assert.deepEqual(state.config, { workers: 2 });

      const listed = await troupe(home, ["list", "--json"]);
      assert.equal(listed.code, 0, listed.stderr);
      const [row] = JSON.parse(listed.stdout);
      assert.equal(row.id, "w2");
      assert.equal(row.pid, state.pid);
      assert.equal(row.state, "running");
      assert.equal(row.engines, 2);
      const table = await troupe(home, ["list"]);
      assert.match(table.stdout, /^ID\s+PID\s+STATE\s+ENGINES/);
      assert.match(
        table.stdout,
        new RegExp(`\\nw2\\s+${state.pid}\\s+running\\s+\\d/2 up`),
      );

      const engines = await troupe(home, ["engines", "w2", "--json"]);
      assert.equal(engines.code, 0, engines.stderr);
      const seen = JSON.parse(engines.stdout);
      assert.deepEqual(seen.map((e: { engineId: number }) => e.engineId), [
        0,
        1,
      ]);
      assert.ok(seen.every((e: { kind: string }) => e.kind === "worker"));
      const enginesTable = await troupe(home, ["engines", "w2"]);
      assert.match(enginesTable.stdout, /^ENGINE\s+KIND\s+STATE\s+LAUNCHER/);

      const client = await Client.connect("w2");
      try {
        assert.deepEqual(
          await guard(
            client.view().applyAsync((x: number) => x * 2, 21),
            "a task on the detached cluster",
            30_000,
          ),
          [42, 42],
        );
      } finally {
        await client.close();
      }
    })
  );
});

for (
  const [flags, launcher] of [
    [["--processes", "2"], "local"],
    [["--engines", "2", "--launcher", "local"], "local"],
  ] as const
) {
  Deno.test(`troupe start ${flags.join(" ")}, then stop: no engine process is left`, async () => {
    await withTroupeHome(async (home) => {
      let port = 0;
      await withCluster(home, "p2", flags, async ({ state }) => {
        port = state.engine.port;
        await until(
          async () =>
            (await processesMatching(enginesDialing(port))).length === 2,
          "both engine processes to dial the controller",
          60_000,
        );
        const engines = JSON.parse(
          (await troupe(home, ["engines", "p2", "--json"])).stdout,
        );
        assert.deepEqual(
          engines.map((e: { kind: string; launcher?: string }) => [
            e.kind,
            e.launcher,
          ]),
          [["process", launcher], ["process", launcher]],
        );
      });
      // withCluster checked it too; said here, since it is this test's point.
      assert.deepEqual(await processesMatching(enginesDialing(port)), []);
    });
  });
}

Deno.test("troupe start of an id that runs is refused, and the running one is untouched", async () => {
  await withTroupeHome((home) =>
    withCluster(home, "busy", ["--workers", "1"], async ({ state }) => {
      const again = await troupe(home, [
        "start",
        "--id",
        "busy",
        "--workers",
        "1",
      ]);
      assert.equal(again.code, 2, again.stdout + again.stderr);
      assert.equal(
        again.stderr.trim(),
        `troupe start: cluster busy is running (pid ${state.pid}): stop it ` +
          "first with troupe stop busy",
      );
      assert.deepEqual(await readState(home, "busy"), state);
      assert.ok(isAlive(state.pid));
    })
  );
});

Deno.test("a controller that cannot start: start fails with its log, and leaves no state file, log or history behind", async () => {
  await withTroupeHome((home) =>
    withCluster(home, "first", ["--workers", "1"], async ({ state }) => {
      const taken = String(state.engine.port);
      const second = await troupe(home, [
        "start",
        "--id",
        "second",
        "--workers",
        "1",
        "--engine-port",
        taken,
      ]);
      assert.equal(second.code, 1, second.stdout + second.stderr);
      assert.match(
        second.stderr,
        new RegExp(
          `^troupe start: the controller of second \\(pid \\d+\\) exited with ` +
            `code 1 before it was ready; its log:\n`,
        ),
      );
      assert.match(second.stderr, /troupe controller: .*/);
      await assertNoStateFile(home, "second");
      // Its log is all in the error; the history it made never held a task.
      const left: string[] = [];
      for await (const entry of Deno.readDir(`${home}/clusters`)) {
        if (entry.name.startsWith("second")) left.push(entry.name);
      }
      assert.deepEqual(left, []);
    })
  );
});

Deno.test("misspelt flags and verbs are clear errors that name the right one; --help lists the cluster flags once", async () => {
  await withTroupeHome(async (home) => {
    const flag = await troupe(home, ["start", "--worker", "2"]);
    assert.equal(flag.code, 2);
    assert.match(
      flag.stderr,
      /^troupe start: unknown flag --worker \(did you mean --workers\?\); its flags are --id, --workers, /,
    );
    const value = await troupe(home, ["start", "--workers", "two"]);
    assert.equal(value.code, 2);
    assert.match(
      value.stderr,
      /^troupe start: --workers takes a whole number >= 0, got "two"\n/,
    );
    assert.match(
      flag.stderr,
      /\nusage: troupe start \[--id ID\] \[flags\] \(troupe start --help lists its flags\)\n$/,
    );
    const verb = await troupe(home, ["strat"]);
    assert.equal(verb.code, 2);
    assert.match(
      verb.stderr,
      /unknown command "strat" \(did you mean start\?\).*\nusage: troupe <command> \[flags\] \(troupe --help lists them\)\n$/,
    );
    const help = await troupe(home, ["--help"]);
    assert.equal(help.code, 0);
    for (
      const v of [
        "start",
        "stop ID | --all",
        "list",
        "engines ID",
        "controller",
      ]
    ) {
      assert.ok(help.stdout.includes(`troupe ${v}`), help.stdout);
    }
    // start and controller share their cluster flags: listed once.
    assert.equal(help.stdout.match(/^ +--workers N /gm)?.length, 1);
    assert.match(help.stdout, /^cluster flags \(start and controller\):$/m);
    const start = await troupe(home, ["start", "--help"]);
    assert.match(start.stdout, /^ +--workers N /m);
    assert.match(start.stdout, /^ +--timeout S /m);
    // Nothing was started, nothing written.
    assert.deepEqual(Array.from(Deno.readDirSync(home)), []);
  });
});

Deno.test("the command line's mistakes, one by one", () => {
  const usage = (args: string[], pattern: RegExp) =>
    assert.throws(() => parseArgs(args), (error: Error) => {
      assert.ok(error instanceof UsageError, String(error));
      assert.match(error.message, pattern);
      return true;
    });
  usage(["start", "--workers"], /^--workers needs a value: --workers N$/);
  usage(
    ["start", "--workers", "two"],
    /--workers takes a whole number >= 0, got "two"/,
  );
  usage(["start", "--workers", "--processes", "1"], /--workers needs a value/);
  usage(["stop"], /which cluster\? troupe list shows their ids/);
  usage(["stop", "a", "--all"], /give an ID or --all, not both/);
  usage(["list", "extra"], /troupe list takes no "extra"/);
  usage(["list", "--workers", "2"], /troupe list: unknown flag --workers/);
  usage(["list", "--json=yes"], /--json takes no value/);
  const launcher = (
    config: Record<string, string | number | string[]>,
    pattern: RegExp,
  ) =>
    assert.throws(() => launcherOf(config), (error: Error) => {
      assert.ok(error instanceof UsageError, String(error));
      assert.match(error.message, pattern);
      return true;
    });
  launcher(
    { engines: 2 },
    /--engines is for launched engines: add --launcher local\|ssh\|slurm\|mpi/,
  );
  launcher(
    { launcher: "pbs", engines: 2 },
    /--launcher takes local, ssh, slurm, mpi, got "pbs"/,
  );
  launcher({ launcher: "slurm" }, /--launcher slurm needs --engines N/);
  launcher(
    { launcher: "local", engines: 2, partition: "debug" },
    /--partition is for --launcher slurm, not local/,
  );
  launcher({ launcher: "ssh", engines: 2 }, /--launcher ssh needs --hosts/);
  launcher(
    { launcher: "ssh", engines: 1, hosts: "a=1,b=1" },
    /asks for 2 engines, more than --engines 1/,
  );
  // What does parse: repeatable flags keep their order, values may look
  // like flags there, and = works everywhere.
  const command = parseArgs([
    "start",
    "--id=sim",
    "--engines",
    "3",
    "--launcher",
    "slurm",
    "--sbatch-arg",
    "--exclusive",
    "--sbatch-arg=--mem=1G",
    "--timeout",
    "5",
  ]);
  assert.equal(command.id, "sim");
  assert.equal(command.timeoutS, 5);
  assert.deepEqual(command.config, {
    engines: 3,
    launcher: "slurm",
    "sbatch-arg": ["--exclusive", "--mem=1G"],
  });
  assert.equal(launcherOf(command.config)?.engines, 3);
  const hosts = launcherOf({
    launcher: "ssh",
    engines: 5,
    hosts: "me@a:2222,b=1,c",
  });
  assert.equal(hosts?.engines, 5);
  assert.equal(parseArgs(["start"]).id, "default");
  // What start hands the controller reads back as the same config.
  const config = {
    engines: 3,
    launcher: "slurm",
    "sbatch-arg": ["--exclusive", "--mem=1G"],
    listen: "0.0.0.0",
    "max-age": 3600,
  };
  assert.deepEqual(
    parseArgs(["controller", ...flagsOf(config)]).config,
    config,
  );
});

Deno.test("start runs the controller as it runs itself: a checkout's with its deno.json, JSR's as the package's ./cli", () => {
  assert.deepEqual(cliEntry("file:///src/troupe/cli/main.ts"), [
    "--config=/src/troupe/deno.json",
    "file:///src/troupe/cli/main.ts",
  ]);
  assert.deepEqual(
    cliEntry("https://jsr.io/@troupe/parallel/0.1.0/cli/main.ts"),
    ["jsr:@troupe/parallel@0.1.0/cli"],
  );
  // A registry of JSR_URL's (the child inherits it).
  assert.deepEqual(
    cliEntry("http://127.0.0.1:4873/@troupe/parallel/0.2.0-rc.1/cli/main.ts"),
    ["jsr:@troupe/parallel@0.2.0-rc.1/cli"],
  );
  assert.deepEqual(cliEntry("https://example.com/troupe/main.ts"), [
    "https://example.com/troupe/main.ts",
  ]);
});

Deno.test("a controller killed with SIGKILL: list says stale, start brings it back on the same database, ports and keys", async () => {
  await withTroupeHome((home) =>
    withCluster(home, "crash", ["--workers", "1"], async (cluster) => {
      const before = cluster.state;
      Deno.kill(before.pid, "SIGKILL");
      await until(
        async () => !(await isLive(before.pid)),
        "the controller to die",
        30_000,
      );
      const listed = JSON.parse(
        (await troupe(home, ["list", "--json"])).stdout,
      );
      assert.deepEqual(
        listed.map((row: { id: string; state: string }) => [row.id, row.state]),
        [["crash", "stale"]],
      );
      const engines = await troupe(home, ["engines", "crash"]);
      assert.equal(engines.code, 1);
      assert.match(
        engines.stderr,
        /cluster crash is not running .* troupe start --id crash starts it again/,
      );

      // No flags: the saved ones (--workers 1).
      const restarted = await troupe(home, ["start", "--id", "crash"]);
      assert.equal(
        restarted.code,
        0,
        restarted.stderr + (await logOf(home, "crash")),
      );
      const after = cluster.state = await readState(home, "crash");
      cluster.alsoKill(after.pid);
      assert.notEqual(after.pid, before.pid);
      assert.equal(after.port, before.port);
      assert.equal(after.key, before.key);
      assert.deepEqual(after.engine, before.engine);
      assert.equal(after.db, before.db);
      assert.deepEqual(after.config, before.config);
      assert.match(
        await logOf(home, "crash"),
        /starts again on .*crash\.sqlite \(the last one, pid \d+, was killed or crashed\)/,
      );
      const client = await Client.connect("crash");
      try {
        assert.deepEqual(
          await guard(
            client.view().applyAsync(() => 7),
            "a task after the restart",
            30_000,
          ),
          [7],
        );
        assert.equal(client.ids.length, 1);
      } finally {
        await client.close();
      }
    })
  );
});

Deno.test("troupe stop of a stale cluster removes its state file; stop --all stops them all", async () => {
  await withTroupeHome(async (home) => {
    await withCluster(home, "one", ["--workers", "1"], async (cluster) => {
      const second = await troupe(home, [
        "start",
        "--id",
        "two",
        "--workers",
        "1",
      ]);
      assert.equal(second.code, 0, second.stderr + (await logOf(home, "two")));
      const two = await readState(home, "two");
      Deno.kill(two.pid, "SIGKILL");
      await until(
        async () => !(await isLive(two.pid)),
        "controller two to die",
        30_000,
      );
      const stopped = await troupe(home, ["stop", "--all"]);
      assert.equal(stopped.code, 0, stopped.stderr);
      assert.match(
        stopped.stdout,
        /cluster two was not running \(pid \d+ is gone: killed or crashed\); its state file is removed/,
      );
      assert.match(
        stopped.stdout,
        /cluster one stopped \(pid \d+\): shut down/,
      );
      await assertNoStateFile(home, "two");
      await assertNoStateFile(home, "one");
      // Started again for withCluster's own stop and checks.
      await cluster.restart();
    });
  });
});

Deno.test("troupe stop of a controller that does not answer: SIGTERM, then SIGKILL after --timeout", async () => {
  await withTroupeHome((home) =>
    withCluster(home, "frozen", ["--workers", "1"], async (cluster) => {
      const { pid } = cluster.state;
      // Stopped, it neither answers nor handles SIGTERM; SIGKILL still works.
      Deno.kill(pid, "SIGSTOP");
      const stopped = await troupe(home, ["stop", "frozen", "--timeout", "1"]);
      assert.equal(stopped.code, 0, stopped.stderr);
      assert.match(
        stopped.stdout,
        new RegExp(
          `^cluster frozen stopped \\(pid ${pid}\\): sent SIGTERM \\(it did not ` +
            `take the shutdown: .*\\), then SIGKILL \\(it was still running after 1 s\\)`,
        ),
      );
      assert.equal(await isLive(pid), false);
      await assertNoStateFile(home, "frozen");
      // For withCluster's own stop and checks.
      await cluster.restart();
    })
  );
});

Deno.test("troupe controller in the foreground stops on SIGTERM and removes its state file", async () => {
  await withTroupeHome(async (home) => {
    const args = ["--id", "fg", "--workers", "1"];
    await withForegroundController(home, args, async (controller) => {
      await until(
        async () =>
          (await readState(home, "fg").catch(() => undefined))?.pid ===
            controller.pid,
        "the foreground controller's state file",
        60_000,
      );
      const { code, stderr: said } = await controller.stop(
        "SIGTERM",
        "the controller's exit after SIGTERM",
        30_000,
      );
      assert.equal(code, 0, said);
      assert.match(said, /controller fg stops \(SIGTERM\)/);
      assert.match(said, /controller fg stopped/);
      await assertNoStateFile(home, "fg");
    });
  });
});
