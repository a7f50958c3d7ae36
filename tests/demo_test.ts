import assert from "node:assert/strict";

const root = new URL("../", import.meta.url);
const decoder = new TextDecoder();

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

Deno.test("the demo rejects an unknown option with a clear message", async () => {
  const { code, stderr } = await runDemo(["--allow-read"], ["--bogus"]);
  assert.equal(code, 1);
  assert.match(stderr, /unknown option --bogus/);
});
