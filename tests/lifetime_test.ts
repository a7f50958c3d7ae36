import assert from "node:assert/strict";

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
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `tests/fixtures/${name}`, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(HANG_MS),
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
