/**
 * How a controller starts, and fails to: its own engines given up fail its
 * start at once although its engine listener stays joinable; a signal
 * while it starts stops what it started.
 */

import assert from "node:assert/strict";
import { startController } from "../controller/controller.ts";
import { local } from "../launch/local.ts";
import { join } from "node:path";
import { Client } from "../mod.ts";
import {
  assertNoStateFile,
  troupe,
  withCluster,
  withForegroundController,
  withTroupeHome,
} from "./controller_rig.ts";
import {
  processesMatching,
  skipWithout,
  SLURM_PARTITION,
  squeueJobs,
} from "./cluster_services.ts";
import {
  errorOf,
  guard,
  until,
  withController,
  withTempDir,
} from "./helpers.ts";
import { startHandEngine } from "./hand_engine.ts";

const slurmSkip = await skipWithout("slurm", "controller_start_test.ts");

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

Deno.test("a connected client's connectionInfo under a 0.0.0.0 engine listener is an address to dial, this host's name or advertise", async () => {
  await withTempDir(async (dir) => {
    const cases = [[undefined, Deno.hostname()], ["127.0.0.1", "127.0.0.1"]];
    for (const [advertise, expected] of cases) {
      const engines = {
        workers: 0,
        listen: { hostname: "0.0.0.0" },
        ...(advertise === undefined ? {} : { advertise }),
      };
      await withController({ id: "wide", engines }, async (controller) => {
        const client = await guard(
          Client.connect(controller.clientInfo),
          "connect",
          30_000,
        );
        try {
          assert.equal(client.connectionInfo.hostname, expected);
          assert.equal(client.connectionInfo.port, controller.engineInfo.port);
          const file = join(dir, `conn_${expected}.json`);
          await client.writeConnectionFile(file);
          const written = JSON.parse(await Deno.readTextFile(file));
          assert.equal(written.hostname, expected);
          // What an engine on another host does: dial what the file says.
          const engine = startHandEngine(["--file", file]);
          try {
            await guard(
              client.waitForEngines(1),
              `an engine dialing ${expected}`,
              30_000,
            );
          } finally {
            await engine.kill();
          }
        } finally {
          await client.close();
        }
      });
    }
  });
});

Deno.test("a controller's start aborted while its engines come up stops them through their launcher", async () => {
  const dir = await Deno.makeTempDir({ prefix: "troupe_slow_deno_" });
  try {
    // A `deno` that never becomes an engine: the start waits on it. Its
    // sleep's length is this test's mark, to find the process by.
    const mark = `sleep 600.${Deno.pid}`;
    const slow = join(dir, "slow-deno");
    await Deno.writeTextFile(slow, `#!/bin/sh\nexec ${mark}\n`);
    await Deno.chmod(slow, 0o755);
    const starting = new AbortController();
    const start = startController({
      id: "aborted",
      engines: {
        workers: 0,
        launch: local({ engines: 1, deno: slow }),
        log: () => {},
      },
      signal: starting.signal,
      log: () => {},
    });
    await until(
      async () => (await processesMatching(mark)).length > 0,
      "the engine's process",
      30_000,
    );
    starting.abort(new Error("stopped by SIGINT while it started"));
    const error = await errorOf(start, "the aborted start", 30_000);
    assert.equal(error.message, "stopped by SIGINT while it started");
    assert.deepEqual(
      await processesMatching(mark),
      [],
      "the engine process is gone",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Slurm jobs that wait an hour to begin: a start that stays pending. */
const PENDING = [
  "--engines",
  "1",
  "--launcher",
  "slurm",
  "--partition",
  SLURM_PARTITION,
  "--sbatch-arg=--begin=now+3600",
];

Deno.test({
  name:
    "SIGTERM to troupe controller while its Slurm job is queued: scancel, a log line, no state file" +
    slurmSkip.because,
  ignore: slurmSkip.ignore,
  fn: async () => {
    await withTroupeHome(async (home) => {
      const before = new Set(await squeueJobs());
      const args = ["--id", "q", ...PENDING];
      await withForegroundController(home, args, async (controller) => {
        const ours = async () =>
          (await squeueJobs()).filter((job) => !before.has(job));
        await until(
          async () => (await ours()).length > 0,
          "the queued job",
          60_000,
        );
        const { code, stderr: said } = await controller.stop(
          "SIGTERM",
          "the controller's exit",
          60_000,
        );
        assert.equal(code, 0, said);
        assert.match(
          said,
          /controller q stops \(SIGTERM\) while it starts: what it started is stopped, engines through their launchers/,
        );
        assert.match(said, /controller q stopped/);
        assert.deepEqual(await ours(), [], "no job of it is left");
        await assertNoStateFile(home, "q");
      });
    });
  },
});

Deno.test({
  name:
    "troupe start --timeout with a queued Slurm job: SIGTERM, the job cancelled, no state file" +
    slurmSkip.because,
  ignore: slurmSkip.ignore,
  fn: async () => {
    await withTroupeHome(async (home) => {
      const before = new Set(await squeueJobs());
      const started = await troupe(home, [
        "start",
        "--id",
        "late",
        ...PENDING,
        "--timeout",
        "5",
      ]);
      assert.equal(started.code, 1, started.stdout + started.stderr);
      assert.match(
        started.stderr,
        /^troupe start: the controller of late \(pid \d+\) was not ready within 5 s \(--timeout\), so it was stopped \(SIGTERM\); its log:\n/,
      );
      // The log is all in the error, and removed with what the start made.
      assert.match(
        started.stderr,
        /controller late stops \(SIGTERM\) while it starts/,
      );
      assert.deepEqual(
        (await squeueJobs()).filter((job) => !before.has(job)),
        [],
      );
      await assertNoStateFile(home, "late");
    });
  },
});
