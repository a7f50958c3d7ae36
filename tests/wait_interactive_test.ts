/**
 * `ar.waitInteractive()` where a user sees it: under a real pseudo-terminal
 * (util-linux `script`), a bar redrawn in place with `\r` that ends at 100%
 * and a newline; with stderr piped (a log), a plain line every 5 s and one
 * at the end; in Deno's Jupyter kernel (driven by Python's jupyter_client:
 * tests/fixtures/notebook_cell.py), one display made once and updated in
 * place, ending at the full count. The terminal test is skipped without
 * `script`, the notebook test without jupyter_client or the deno kernelspec
 * (`.ci/install_notebook.sh` installs them).
 */

import assert from "node:assert/strict";
import { runCommand } from "../launch/run_command.ts";
import { skipUnless } from "./helpers.ts";
import { findPython } from "./jupyter_kernel.ts";

const root = new URL("../", import.meta.url).pathname;
const FIXTURE = new URL("./fixtures/wait_interactive.ts", import.meta.url)
  .pathname;
const CELL_DRIVER = new URL("./fixtures/notebook_cell.py", import.meta.url)
  .pathname;
const FULL_BAR = `[${"█".repeat(30)}] 100%`;
// deno-lint-ignore no-control-regex
const ERASE = /\x1b\[K/g;

const script = await runCommand("script", ["--version"], { timeoutMs: 30_000 })
  .catch(() => undefined);
const noPty = skipUnless(
  "wait_interactive_test.ts",
  script?.code === 0 ? undefined : "no `script` (util-linux) for a pty",
  "apt-get install bsdutils",
);

Deno.test({
  name: "waitInteractive on a terminal redraws one bar in place" +
    noPty.because,
  ignore: noPty.ignore,
  async fn() {
    const command = `'${Deno.execPath()}' run -A --frozen '${FIXTURE}'`;
    const run = await runCommand("script", ["-qec", command, "/dev/null"], {
      timeoutMs: 120_000,
      env: { NO_COLOR: "1" },
    });
    assert.equal(run.code, 0, `the fixture failed:\n${run.stdout}`);
    // The pty ends lines with \r\n; the bar's own returns stand alone.
    const out = run.stdout.replaceAll("\r\n", "\n");
    assert.match(out, /\nresolved true\n$/);
    const bar = out.slice(0, out.indexOf("\nresolved true"));
    const draws = bar.split("\r").filter((d) => d !== "");
    assert.ok(draws.length >= 2, `one draw only: ${JSON.stringify(bar)}`);
    // Each draw starts at the line's start and erases what a longer one left.
    for (const draw of draws) {
      assert.ok(draw.endsWith("\x1b[K"), JSON.stringify(draw));
      assert.match(draw, /^\[[█░]{30}\] +\d+% /);
    }
    assert.match(draws[0], /\] +0% 0\/6 items done, /);
    const last = draws.at(-1)!.replace(ERASE, "");
    assert.match(last, /^\[█{30}\] 100% 6\/6 items done, [\d.]+ m?s$/);
    assert.equal(draws.at(-1)!.startsWith(FULL_BAR), true);
    // Progress only grows from draw to draw.
    const counts = draws.map((d) => Number(/ (\d)\/6 items/.exec(d)![1]));
    assert.deepEqual(counts, [...counts].sort());
  },
});

Deno.test({
  name: "waitInteractive on a narrow terminal keeps the bar to one row" +
    noPty.because,
  ignore: noPty.ignore,
  async fn() {
    const command = `stty cols 40; '${Deno.execPath()}' run -A --frozen ` +
      `'${FIXTURE}'`;
    const run = await runCommand("script", ["-qec", command, "/dev/null"], {
      timeoutMs: 120_000,
      env: { NO_COLOR: "1" },
    });
    assert.equal(run.code, 0, `the fixture failed:\n${run.stdout}`);
    const out = run.stdout.replaceAll("\r\n", "\n");
    const bar = out.slice(0, out.indexOf("\nresolved true"));
    const draws = bar.split("\r").filter((d) => d !== "");
    assert.ok(draws.length >= 2, JSON.stringify(bar));
    // A row of 40 columns: a wider line would wrap, and \r redraw one row.
    for (const draw of draws) {
      assert.ok(draw.replace(ERASE, "").length < 40, JSON.stringify(draw));
    }
  },
});

Deno.test("waitInteractive in a log prints one plain line at the end", async () => {
  const run = await runCommand(Deno.execPath(), [
    "run",
    "-A",
    "--frozen",
    FIXTURE,
  ], { timeoutMs: 120_000 });
  assert.equal(run.code, 0, `the fixture failed:\n${run.stderr}`);
  assert.equal(run.stdout, "resolved true\n");
  // Under 5 s of waiting: no line before the last one, and no \r.
  assert.match(run.stderr, /^6\/6 items done, [\d.]+ m?s\n$/);
});

Deno.test("waitInteractive in a log prints a line every 5 s while it waits", async () => {
  // The tasks take 7 s by their own timers: the wait cannot end before the
  // line due at 5 s.
  const run = await runCommand(Deno.execPath(), [
    "run",
    "-A",
    "--frozen",
    FIXTURE,
    "long",
  ], { timeoutMs: 120_000 });
  assert.equal(run.code, 0, `the fixture failed:\n${run.stderr}`);
  assert.equal(run.stdout, "resolved true\n");
  const lines = run.stderr.trimEnd().split("\n");
  assert.ok(lines.length >= 2, run.stderr);
  assert.match(lines[0], /^0\/2 items done, [5-6]\.\d s$/);
  assert.match(lines.at(-1)!, /^2\/2 items done, [\d.]+ s$/);
  assert.ok(!run.stderr.includes("\r"));
});

const found = await findPython();
const noKernel = skipUnless(
  "wait_interactive_test.ts",
  found.missing,
  ".ci/install_notebook.sh installs what it needs",
);

const CELL = `
import { Client } from "${new URL("../mod.ts", import.meta.url).href}";
const client = await Client.start({ workers: 2 });
try {
  const ar = client.loadBalancedView().mapAsync(
    (ms: number) => new Promise((resolve) => setTimeout(() => resolve(ms), ms)),
    [40, 40, 40, 40, 40, 40],
    { chunkSize: 1 },
  );
  console.log(\`resolved \${await ar.waitInteractive({ intervalMs: 10 })}\`);
} finally {
  await client.close();
}
`;

interface KernelMessage {
  type: string;
  display_id?: string;
  text?: string;
  html?: string;
}

// Deno's kernel now and then publishes an output after the cell's idle
// status, later than the driver waits: a run that lacks the last update
// (but shows no error) is run again.
const ATTEMPTS = 3;

Deno.test({
  name: "waitInteractive in a notebook updates one display in place" +
    noKernel.because,
  ignore: noKernel.ignore,
  async fn() {
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const run = await runCommand(found.python!, [CELL_DRIVER, root, "120"], {
        stdin: CELL,
        env: { NO_COLOR: "1" },
        timeoutMs: 300_000,
      });
      assert.equal(run.code, 0, `the driver failed:\n${run.stderr}`);
      const { status, messages }: {
        status: string;
        messages: KernelMessage[];
      } = JSON.parse(run.stdout);
      const errors = messages.filter((m) => m.type === "error");
      assert.deepEqual(errors, [], "the cell threw");
      assert.equal(status, "ok");
      const shown = messages.filter((m) => m.display_id !== undefined);
      assert.ok(shown.length > 0, Deno.inspect(messages));
      // One display: made once, then only updated, under one id.
      assert.equal(shown[0].type, "display_data");
      assert.ok(shown.slice(1).every((m) => m.type === "update_display_data"));
      assert.equal(new Set(shown.map((m) => m.display_id)).size, 1);
      assert.match(shown[0].display_id!, /^troupe-progress-/);
      const last = shown.at(-1)!;
      const printed = messages.filter((m) => m.type === "stream")
        .map((m) => m.text).join("");
      if (!/6\/6 items done/.test(last.text!) || !/resolved/.test(printed)) {
        console.log(`notebook run ${attempt}: the last output is missing`);
        if (attempt < ATTEMPTS) continue;
      }
      assert.ok(shown.length >= 2, "the display was never updated");
      assert.match(last.text!, /^\[█{30}\] 100% 6\/6 items done, /);
      assert.match(last.html!, /<progress value="6" max="6"/);
      assert.match(printed, /resolved true/);
      return;
    }
  },
});
