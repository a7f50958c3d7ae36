import assert from "node:assert/strict";
import {
  SERVICES_HINT,
  slurmSkipReason,
  squeueJobs,
} from "./cluster_services.ts";
import { skipUnless, withTempDir } from "./helpers.ts";
import { filesIn } from "./launch_checks.ts";

const root = new URL("../", import.meta.url);
const decoder = new TextDecoder();
const slurm = skipUnless(
  "demo_test.ts",
  await slurmSkipReason(),
  SERVICES_HINT,
);

/**
 * Runs the demo (`deno run <permissions> examples/publish_data.ts
 * <options>`) to its end, with a minute of slack, and decodes its output.
 */
async function runDemo(
  permissions: string[],
  options: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, "examples/publish_data.ts", ...options],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  return {
    code,
    stdout: decoder.decode(stdout),
    stderr: decoder.decode(stderr),
  };
}

Deno.test("deno task demo --fast runs the seed notebook and writes its plot", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "troupe_demo_" });
  try {
    const out = `${dir}/plot.svg`;
    const { code, stdout: text, stderr: errors } = await runDemo(
      ["--allow-read", `--allow-write=${dir}`],
      ["--fast", "--workers", "3", "--steps", "5", "--out", out],
    );

    await t.step("exits cleanly", () => {
      assert.equal(code, 0, `demo failed:\n${text}\n${errors}`);
    });

    await t.step("prints ar.data of publishIt, one entry per engine", () => {
      assert.match(
        text,
        /ar\.data after publishIt: \[\{"a":"hi"\},\{"a":"hi"\},\{"a":"hi"\}\]/,
      );
    });

    await t.step("shows each step live, ending at the last one", () => {
      const steps = text.split("\n").filter((l) => l.startsWith("step "));
      assert.equal(steps.length, 5, text);
      assert.equal(
        steps.at(-1),
        "step  engine 0: 4  engine 1: 4  engine 2: 4",
      );
    });

    await t.step("writes an SVG with one line per engine, titled", async () => {
      assert.match(text, new RegExp(`plot written to ${out}`));
      const svg = await Deno.readTextFile(out);
      assert.ok(svg.startsWith("<svg"), svg.slice(0, 80));
      assert.match(svg, /Data published at time step: 4/);
      for (const id of [0, 1, 2]) {
        assert.match(svg, new RegExp(`engine: ${id}`));
      }
      const lines = svg.match(/aria-roledescription="line mark"/g) ?? [];
      assert.equal(lines.length, 3, "one line per engine");
      // Each line goes through all 20 values of the engine's array `a`.
      const paths = [
        ...svg.matchAll(/aria-roledescription="line mark" d="([^"]+)"/g),
      ];
      assert.equal(paths.length, 3);
      for (const [, d] of paths) assert.equal(d.split("L").length, 20);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task demo:remote runs the seed on engine processes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "troupe_demo_remote_" });
  try {
    const out = `${dir}/plot.svg`;
    const { code, stdout: text, stderr } = await runDemo(
      [
        "--allow-read",
        `--allow-write=${dir}`,
        "--allow-net=127.0.0.1",
        "--allow-run",
      ],
      ["--processes", "2", "--fast", "--steps", "3", "--out", out],
    );
    assert.equal(code, 0, `${text}\n${stderr}`);
    assert.match(text, /engines: 0 \(process\), 1 \(process\)/);
    assert.match(
      text,
      /ar\.data after publishIt: \[\{"a":"hi"\},\{"a":"hi"\}\]/,
    );
    assert.match(text, /step {2}engine 0: 2 {2}engine 1: 2/);
    assert.match(
      await Deno.readTextFile(out),
      /Data published at time step: 2/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the demo runs the seed on a launcher's engines: --launch local", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/plot.svg`;
    const { code, stdout: text, stderr } = await runDemo(
      [
        "--allow-read",
        `--allow-write=${dir}`,
        "--allow-net=127.0.0.1",
        "--allow-run",
      ],
      ["--launch", "local", "--engines", "2", "--fast", "--steps", "2"]
        .concat(["--out", out]),
    );
    assert.equal(code, 0, `${text}\n${stderr}`);
    assert.match(text, /^engines: 0 \(process\), 1 \(process\)$/m);
    assert.match(
      text,
      /ar\.data after publishIt: \[\{"a":"hi"\},\{"a":"hi"\}\]/,
    );
    assert.match(text, /step {2}engine 0: 1 {2}engine 1: 1/);
  });
});

/** Deno's cache, for a run whose HOME is elsewhere (it would be refilled). */
async function denoDir(): Promise<string> {
  const { stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  return JSON.parse(decoder.decode(stdout)).denoDir;
}

Deno.test({
  name: "deno task demo:slurm runs the seed on 4 Slurm jobs" + slurm.because,
  ignore: slurm.ignore,
  async fn() {
    // HOME in a temporary folder: the launcher's secrets and job logs go to
    // $HOME/.troupe, which the task may write to, and so may the plot.
    await withTempDir(async (home) => {
      const out = `${home}/.troupe/plot.svg`;
      const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
        args: ["task", "demo:slurm", "--fast", "--steps", "3", "--out", out],
        cwd: root,
        env: { HOME: home, DENO_DIR: await denoDir() },
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(90_000),
      }).output();
      const text = decoder.decode(stdout);
      assert.equal(code, 0, `${text}\n${decoder.decode(stderr)}`);
      const jobs = [
        ...text.matchAll(/(\d) \(process, slurm job (\d+_\d+)\)/g),
      ];
      assert.deepEqual(jobs.map(([, id]) => id), ["0", "1", "2", "3"], text);
      assert.match(
        text,
        /ar\.data after publishIt: \[\{"a":"hi"\},\{"a":"hi"\},\{"a":"hi"\},\{"a":"hi"\}\]/,
      );
      assert.match(
        text,
        /step {2}engine 0: 2 {2}engine 1: 2 {2}engine 2: 2 {2}engine 3: 2/,
      );
      assert.match(
        await Deno.readTextFile(out),
        /Data published at time step: 2/,
      );
      // Its jobs ended with it, and each engine deleted its secrets.
      const left = await squeueJobs();
      for (const [, , job] of jobs) assert.ok(!left.includes(job), job);
      assert.deepEqual(await filesIn(`${home}/.troupe/secrets`), []);
    });
  },
});

Deno.test("the demo rejects an unknown option with a clear message", async () => {
  const { code, stdout, stderr } = await runDemo(["--allow-read"], [
    "--bogus",
  ]);
  assert.equal(code, 2, "a usage error");
  assert.match(stderr, /unknown option --bogus; the options are --workers N/);
  assert.match(stderr, /deno task demo --help lists the options/);
  assert.equal(stdout, "", "nothing ran");
});

Deno.test("the demo names the launchers --launch takes", async () => {
  const { code, stdout, stderr } = await runDemo(["--allow-read"], [
    "--launch",
    "pbs",
  ]);
  assert.equal(code, 2, "a usage error");
  assert.match(stderr, /--launch takes slurm, ssh, mpi, local, got pbs/);
  assert.equal(stdout, "", "nothing ran");
});

Deno.test("deno task demo --help prints every option with its meaning and exits 0", async () => {
  for (const help of ["--help", "-h"]) {
    const { code, stdout, stderr } = await runDemo(["--allow-read"], [help]);
    assert.equal(code, 0, `${help}:\n${stdout}\n${stderr}`);
    assert.equal(stderr, "");
    assert.match(stdout, /^usage: deno task demo \[options\]/);
    for (
      const flag of [
        "--workers N",
        "--processes N",
        "--launch KIND",
        "--engines N",
        "--host USER@HOST:PORT",
        "--listen HOST",
        "--steps N",
        "--interval MS",
        "--fast",
        "--out FILE",
        "--dashboard",
        "--help, -h",
      ]
    ) {
      // The flag, then its meaning on the same line.
      assert.match(stdout, new RegExp(`^  ${flag} +\\w`, "m"), flag);
    }
    assert.doesNotMatch(stdout, /^engines:/m, "--help started engines");
  }
});

Deno.test("an --out the run may not write fails at once, before any engine, and says what is allowed", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "troupe_demo_out_" });
  try {
    const out = `${dir}/plot.svg`;
    await t.step("as deno task demo: only the checkout", async () => {
      // The task's own permissions (deno.json), run from the checkout.
      const { code, stdout, stderr } = await runDemo(
        ["--allow-read", "--allow-write=.", "--allow-net=127.0.0.1"],
        ["--fast", "--steps", "2", "--out", out],
      );
      assert.equal(code, 2, `${stdout}\n${stderr}`);
      assert.equal(stdout, "", "engines started before the check");
      assert.ok(
        stderr.includes(`--out ${out}: this run may not write to ${dir}.`),
        stderr,
      );
      assert.ok(
        stderr.includes(
          `may write only inside the checkout, ${
            new URL(".", root).pathname.replace(/\/$/, "")
          } (it runs with --allow-write=.)`,
        ),
        stderr,
      );
      assert.match(stderr, /give an --out there, e\.g\. --out out\//);
      assert.doesNotMatch(stderr, /Requires write access|run again with/);
    });

    await t.step("with deno run and another folder", async () => {
      const { code, stdout, stderr } = await runDemo(
        ["--allow-read", `--allow-write=${dir}/elsewhere`],
        ["--fast", "--steps", "2", "--out", out],
      );
      assert.equal(code, 2, `${stdout}\n${stderr}`);
      assert.equal(stdout, "");
      assert.ok(stderr.includes(`add --allow-write=${dir} to its`), stderr);
    });

    await assert.rejects(Deno.stat(out), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
