import assert from "node:assert/strict";
import { engineProgramArgs, TASK_THREAD_FOLDERS } from "./engine_program.ts";

const ROOT = new URL("../", import.meta.url);
const ENTRY = new URL("engine/mod.ts", ROOT);
const PROGRAM = {
  entry: ENTRY,
  connect: { hostname: "127.0.0.1", port: 4100 },
  maxHeapMb: 512,
  encrypt: false,
};

Deno.test("engineProgramArgs: -A without permissions, the sandbox's flags with them", () => {
  const plain = engineProgramArgs(PROGRAM);
  assert.deepEqual(plain.slice(0, 2), ["run", "-A"]);
  assert.ok(!plain.includes("--sandbox"));
  const sandboxed = engineProgramArgs({ ...PROGRAM, permissions: {} });
  assert.ok(!sandboxed.includes("-A"));
  const root = decodeURIComponent(ROOT.pathname);
  assert.deepEqual(sandboxed.slice(0, 5), [
    "run",
    "--no-prompt",
    `--allow-read=${TASK_THREAD_FOLDERS.map((f) => root + f).join(",")}`,
    "--allow-net=127.0.0.1:4100",
    "--allow-sys=hostname",
  ]);
  // Deno's flags before the module, the engine's after it.
  const entry = sandboxed.indexOf(ENTRY.href);
  assert.ok(entry > 4);
  assert.ok(sandboxed.indexOf("--sandbox") > entry);
});

Deno.test("the task thread's modules (engine/worker.ts and what it imports) are all in TASK_THREAD_FOLDERS, which a sandboxed engine may read", async () => {
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL("engine/worker.ts", ROOT).href],
    cwd: decodeURIComponent(ROOT.pathname),
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(info.code, 0, new TextDecoder().decode(info.stderr));
  const { modules } = JSON.parse(new TextDecoder().decode(info.stdout)) as {
    modules: { specifier: string }[];
  };
  const local = modules.map((m) => m.specifier).filter((s) =>
    s.startsWith(ROOT.href)
  ).map((s) => s.slice(ROOT.href.length));
  assert.ok(local.length > 10, `only ${local.length} modules: is ROOT right?`);
  const outside = local.filter((path) =>
    !TASK_THREAD_FOLDERS.some((folder) => path.startsWith(folder))
  );
  assert.deepEqual(outside, [], "task-thread modules a sandbox cannot read");
});
