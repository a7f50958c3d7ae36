/**
 * troupe as a user gets it: in a project of their own, outside this
 * checkout. Once from JSR (the package as `deno publish` uploads it, served
 * by a registry on 127.0.0.1 through `JSR_URL`, and added with `deno add`),
 * once from a checkout through `links`, as the README says. Each runs the
 * seed (`tests/fixtures/user_project/seed.ts`) with the permissions the
 * README names, and without one of them, to see the error that names it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type JsrRegistry, startJsrRegistry } from "./jsr/registry.ts";
import { isLive } from "./cluster_services.ts";
import { readState, statePath, stopLeftover } from "./controller_rig.ts";
import { until } from "./helpers.ts";

const root = new URL("../", import.meta.url);
const seed = new URL("./fixtures/user_project/seed.ts", import.meta.url);
const connectScript = new URL(
  "./fixtures/user_project/connect.ts",
  import.meta.url,
);
const decoder = new TextDecoder();

/** The README's flags for the seed: a listener, engine processes, its files. */
const SEED_FLAGS = [
  "--allow-net=127.0.0.1",
  "--allow-run",
  "--allow-read=.",
  "--allow-write=.",
];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function deno(
  args: string[],
  cwd: string | URL,
  env: Record<string, string> = {},
): Promise<Run> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(180_000),
  }).output();
  return {
    code,
    stdout: decoder.decode(stdout),
    stderr: decoder.decode(stderr),
  };
}

/**
 * Runs the seed in `project` and ends the engine it started by hand, should
 * the seed have died before it could.
 */
async function runSeed(
  project: string,
  flags: string[],
  env: Record<string, string> = {},
): Promise<Run> {
  try {
    return await deno(["run", ...flags, "seed.ts"], project, env);
  } finally {
    try {
      Deno.kill(Number(await Deno.readTextFile(`${project}/engine.pid`)));
    } catch {
      // Never started, or gone already, as it should be.
    }
  }
}

function checkSeedOutput(run: Run): void {
  assert.equal(run.code, 0, `the seed failed:\n${run.stdout}\n${run.stderr}`);
  const result = JSON.parse(run.stdout.trim().split("\n").at(-1)!);
  assert.deepEqual(result, {
    publishIt: [{ a: "hi" }, { a: "hi" }, { a: "hi" }, { a: "hi" }],
    ids: [0, 1, 2, 3],
    kinds: ["worker", "worker", "process", "remote"],
    lastSteps: [4, 4, 4, 4],
    typedArrays: true,
    dashboardPage: true,
    dashboardEngines: 4,
    plotLines: 4,
  });
}

async function project(config: unknown): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "troupe_user_project_" });
  await Deno.writeTextFile(`${dir}/deno.json`, JSON.stringify(config));
  await Deno.copyFile(seed, `${dir}/seed.ts`);
  return dir;
}

/** `deno publish`es this checkout to `registry`; the files it uploaded. */
async function publishTroupe(
  registry: JsrRegistry,
): Promise<Map<string, Uint8Array>> {
  // --allow-dirty: a developer runs this with uncommitted work.
  const run = await deno(
    ["publish", "--token", "test", "--allow-dirty"],
    root,
    { JSR_URL: registry.url },
  );
  assert.equal(run.code, 0, run.stderr);
  return registry.packages.get("@troupe/parallel")!.get("0.1.0")!.files;
}

Deno.test("a project of one's own imports troupe from JSR", async (t) => {
  await using registry = await startJsrRegistry();
  const env = { JSR_URL: registry.url };
  const dir = await project({});
  try {
    await t.step("deno publish uploads the package", async () => {
      const files = await publishTroupe(registry);
      assert.ok(files.has("/engine/worker.ts"));
      assert.ok(!files.has("/tests/user_project_test.ts"), "tests ship");
      // What is served is what publishing made: bare specifiers unfurled.
      const codec = decoder.decode(files.get("/transport/codec.ts"));
      assert.match(codec, /from "npm:@msgpack\/msgpack@/);
    });

    await t.step(
      "deno add jsr:@troupe/parallel is all a user types",
      async () => {
        const run = await deno(["add", "jsr:@troupe/parallel"], dir, env);
        assert.equal(run.code, 0, run.stderr);
        const config = JSON.parse(await Deno.readTextFile(`${dir}/deno.json`));
        assert.equal(
          config.imports["@troupe/parallel"],
          "jsr:@troupe/parallel@^0.1.0",
        );
      },
    );

    await t.step(
      "the seed runs: Worker, process and hand-started engines, dashboard, plot",
      async () => {
        checkSeedOutput(await runSeed(dir, SEED_FLAGS, env));
        assert.match(await Deno.readTextFile(`${dir}/plot.svg`), /^<svg/);
      },
    );

    await t.step(
      "a missing permission is an error naming its flag",
      async () => {
        const noRun = await runSeed(dir, [
          "--allow-net=127.0.0.1",
          "--allow-write=.",
        ], env);
        assert.notEqual(noRun.code, 0);
        assert.match(
          noRun.stderr,
          /engine processes are started as `deno run`: run the script with --allow-run/,
        );
        const noNet = await runSeed(
          dir,
          ["--allow-run", "--allow-write=."],
          env,
        );
        assert.notEqual(noNet.code, 0);
        assert.match(
          noNet.stderr,
          /listens on 127\.0\.0\.1: run the script with --allow-net=127\.0\.0\.1/,
        );
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a project of one's own uses a checkout through links", async (t) => {
  const checkout = decodeURIComponent(root.pathname).replace(/\/$/, "");
  const dir = await project({
    imports: { "@troupe/parallel": "jsr:@troupe/parallel@^0.1.0" },
    links: [checkout],
  });
  try {
    await t.step("Worker engines name the read access they need", async () => {
      const run = await runSeed(dir, SEED_FLAGS);
      assert.notEqual(run.code, 0);
      assert.match(
        run.stderr,
        new RegExp(
          `Worker engines load troupe's modules from ${checkout}/: run the script with --allow-read=${checkout}/`,
        ),
      );
      assert.doesNotMatch(run.stderr, /engine\/worker\.ts/);
    });

    await t.step("with it, the seed runs", async () => {
      checkSeedOutput(
        await runSeed(dir, [...SEED_FLAGS, `--allow-read=${checkout}`]),
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("from JSR, the CLI starts a controller that a project's scripts attach to, resume a result in and stop", async (t) => {
  await using registry = await startJsrRegistry();
  const home = await Deno.makeTempDir({ prefix: "troupe_home_" });
  const env = { JSR_URL: registry.url, TROUPE_HOME: home };
  const dir = await project({});
  await Deno.copyFile(connectScript, `${dir}/connect.ts`);
  const go = `${dir}/go`;
  // As the README has it outside a checkout.
  const cli = (...args: string[]) =>
    deno(["run", "-A", "jsr:@troupe/parallel/cli", ...args], dir, env);
  // The README's flags for Client.connect, and the script's own files.
  const script = (...args: string[]) =>
    deno(
      [
        "run",
        "--allow-net=127.0.0.1",
        "--allow-env=TROUPE_HOME,HOME",
        `--allow-read=${home}/clusters,.`,
        "--allow-write=.",
        "connect.ts",
        ...args,
      ],
      dir,
      env,
    );
  try {
    await publishTroupe(registry);
    const added = await deno(["add", "jsr:@troupe/parallel"], dir, env);
    assert.equal(added.code, 0, added.stderr);

    let pid = 0;
    await t.step("start runs the package's controller from JSR", async () => {
      const run = await cli("start", "--id", "up", "--workers", "1");
      assert.equal(run.code, 0, `${run.stdout}${run.stderr}`);
      assert.match(run.stdout, /^cluster up is running \(pid \d+\)/);
      pid = (await readState(home, "up")).pid;
      // The controller is the package's ./cli export, not a checkout's.
      const argv = (await Deno.readTextFile(`/proc/${pid}/cmdline`))
        .split("\0");
      assert.ok(
        argv.includes("jsr:@troupe/parallel@0.1.0/cli"),
        `the controller runs ${argv.join(" ")}`,
      );
      assert.ok(argv.includes("controller"), argv.join(" "));
    });

    await t.step(
      "a script connects, submits a task that publishes, saves it and detaches; another resumes it",
      async () => {
        const submitted = await script("submit", "up", "run.json", go);
        assert.equal(submitted.code, 0, submitted.stderr);
        const first = JSON.parse(submitted.stdout.trim().split("\n").at(-1)!);
        // Its first client is gone before the task may finish.
        assert.equal(first.ready, false);
        assert.equal(first.taskIds.length, 1);
        const saved = JSON.parse(await Deno.readTextFile(`${dir}/run.json`));
        assert.equal(saved.troupe, "AsyncResult");
        assert.equal(saved.cluster, "up");
        assert.deepEqual(saved.taskIds, first.taskIds);

        await Deno.writeTextFile(go, "");
        const resumed = await script("resume", "up", "run.json");
        assert.equal(resumed.code, 0, resumed.stderr);
        assert.deepEqual(
          JSON.parse(resumed.stdout.trim().split("\n").at(-1)!),
          {
            value: ["engine 0 went on"],
            data: [{ step: 2 }],
            stdout: [`waiting for ${go}\n`],
          },
        );
      },
    );

    await t.step("list shows the cluster running", async () => {
      const run = await cli("list");
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`\\nup\\s+${pid}\\s+running\\s`));
    });

    await t.step("stop stops it and leaves nothing", async () => {
      const run = await cli("stop", "up");
      assert.equal(run.code, 0, `${run.stdout}${run.stderr}`);
      await until(
        async () => !(await isLive(pid)),
        `the controller (pid ${pid}) to exit after stop`,
        30_000,
      );
      await assert.rejects(
        Deno.stat(statePath(home, "up")),
        Deno.errors.NotFound,
        "stop left the state file",
      );
      const listed = await cli("list", "--json");
      assert.equal(listed.code, 0, listed.stderr);
      assert.deepEqual(JSON.parse(listed.stdout), []);
    });
  } finally {
    // Only if a step failed before its stop: then it ends the controller.
    if (await stopLeftover(home, "up")) console.error("stopped a leftover up");
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(home, { recursive: true });
  }
});
