import assert from "node:assert/strict";
import { until } from "./helpers.ts";

const ROOT = new URL("../", import.meta.url);
const decoder = new TextDecoder();

/** Far more than any of these scripts needs: a hang fails, it does not stall. */
const HANG_MS = 60_000;

/**
 * Runs `tests/fixtures/<name>` in a `deno` process of its own, to its end
 * (killed after `HANG_MS`), and decodes its output.
 */
async function runFixture(
  name: string,
  args: string[] = [],
  hangMs = HANG_MS,
  denoArgs: string[] = [],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...denoArgs, `tests/fixtures/${name}`, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(hangMs),
  }).output();
  return {
    code,
    stdout: decoder.decode(stdout),
    stderr: decoder.decode(stderr),
  };
}

const DEATHS = [
  { how: "an uncaught error", arg: "error", says: /Error: boom from a timer/ },
  {
    how: "an unhandled rejection",
    arg: "rejection",
    says: /Error: boom from a promise/,
  },
];

for (const kind of ["worker", "process"]) {
  for (const { how, arg, says } of DEATHS) {
    Deno.test(`a ${kind} engine that dies of ${how} prints nothing on the client's stderr`, async () => {
      const { code, stdout, stderr } = await runFixture("uncaught_engine.ts", [
        kind,
        arg,
      ]);
      assert.equal(code, 0, `the script failed:\n${stdout}\n${stderr}`);
      assert.doesNotMatch(stderr, /Uncaught/, stderr);
      const outcome = JSON.parse(stdout.trim().split("\n").at(-1)!);
      assert.equal(outcome.failed, true, stdout);
      assert.equal(outcome.name, "EngineError", stdout);
      assert.match(outcome.message, new RegExp(`${how} ended it`));
      assert.match(outcome.message, says);
    });
  }
}

/** Whether process `pid` still runs (a zombie has ended: it only awaits reaping). */
async function running(pid: number): Promise<boolean> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

for (const kind of ["worker", "process"]) {
  Deno.test(`a script that forgets close() ends by itself once its ${kind} engine's task is done`, async () => {
    // A hang is the failure: the hang guard kills it (exit code 143).
    const { code, stdout, stderr } = await runFixture(
      "forgets_close.ts",
      [kind, "quick"],
      30_000,
    );
    assert.equal(code, 0, `it did not end by itself:\n${stdout}\n${stderr}`);
    assert.match(stdout, /"slept":0/);
    // Not even a spawned engine's word that its client went away.
    assert.equal(stderr, "");
    const result = JSON.parse(stdout.trim().split("\n").at(-1)!);
    if (kind === "process") {
      // The engine process exits when its client's connection drops.
      assert.notEqual(result.pid, Deno.pid);
      await until(
        async () => !(await running(result.pid)),
        `engine process ${result.pid} exiting after its client`,
      );
    }
  });

  Deno.test(`a script that forgets close() does not end while its ${kind} engine's task runs`, async () => {
    const { code, stdout, stderr } = await runFixture(
      "forgets_close.ts",
      [kind, "long"],
      30_000,
    );
    assert.equal(code, 0, `the script failed:\n${stdout}\n${stderr}`);
    assert.match(stdout, /"slept":1500/, "it ended before its task did");
  });
}

Deno.test("a failed result that nothing observed is reported once as a script ends without close()", async () => {
  const { code, stdout, stderr } = await runFixture("unobserved_failure.ts", [
    "exit",
  ]);
  assert.equal(code, 0, `the script failed:\n${stdout}\n${stderr}`);
  const reports = stderr.split("\n").filter((l) => l.startsWith("troupe: "));
  assert.equal(reports.length, 1, stderr);
  assert.match(
    reports[0],
    /^troupe: task \d+ on engine 0 failed, and nothing awaited the AsyncResult: RemoteError: .*nobody looks at this\. Await it .* ar\.catch\(\(\) => \{\}\) to ignore it\.$/,
  );
});

Deno.test("a failed result that nothing observed is reported once when it is garbage-collected", async () => {
  const { code, stdout, stderr } = await runFixture(
    "unobserved_failure.ts",
    ["gc"],
    HANG_MS,
    ["--v8-flags=--expose-gc"],
  );
  assert.equal(code, 0, `the script failed:\n${stdout}\n${stderr}`);
  const { taskId, collected, all } = JSON.parse(stdout.trim());
  assert.equal(collected.length, 1, "not reported when collected");
  assert.match(collected[0], new RegExp(`^troupe: task ${taskId} on engine 0`));
  assert.equal(all.length, 1, "reported again at close()");
});

Deno.test("results nobody holds are collected once their tasks end, and the client's heap goes back", async () => {
  const n = 20_000;
  const { code, stdout, stderr } = await runFixture(
    "dropped_results.ts",
    [String(n)],
    HANG_MS,
    ["--v8-flags=--expose-gc"],
  );
  assert.equal(code, 0, `the script failed:\n${stdout}\n${stderr}`);
  const { collected, grewMb } = JSON.parse(stdout.trim());
  assert.equal(collected, n, "something in the client holds finished tasks");
  // A queued task costs about 2 KB; a leak of a tenth of that per task
  // would be 4 MB here.
  assert.ok(grewMb < 4, `the heap grew by ${grewMb} MB over ${n} tasks`);
});
