import assert from "node:assert/strict";
import {
  engineProgramArgs,
  engineProgramEnv,
  SANDBOX_KEPT_ENV,
  TASK_THREAD_FOLDERS,
} from "./engine_program.ts";

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

Deno.test("engineProgramArgs: imports only from troupe's own registry, and a broad write grant kept off troupe's code, home and Deno's cache", () => {
  const jsr = engineProgramArgs({
    ...PROGRAM,
    entry: new URL("https://jsr.io/@troupe/parallel/0.1.0/engine/mod.ts"),
    permissions: {},
  });
  assert.ok(jsr.includes("--allow-import=jsr.io:443"), jsr.join(" "));
  const checkout = engineProgramArgs({ ...PROGRAM, permissions: {} });
  assert.ok(checkout.includes("--allow-import=nothing.invalid"));
  assert.ok(!checkout.some((arg) => arg.startsWith("--deny-")));
  const broad = engineProgramArgs({
    ...PROGRAM,
    permissions: { write: true },
  });
  const deny = broad.find((arg) => arg.startsWith("--deny-write="));
  assert.ok(deny, broad.join(" "));
  const denied = deny.slice("--deny-write=".length).split(",");
  assert.ok(denied.includes(decodeURIComponent(ROOT.pathname)), deny);
  assert.ok(denied.some((path) => path.endsWith("deno")), deny);
});

Deno.test("engineProgramEnv: a sandboxed process gets what Deno needs and what env grants, nothing else", () => {
  Deno.env.set("TROUPE_PROGRAM_ENV_A", "a");
  Deno.env.set("OTHER_PROGRAM_ENV_B", "b");
  try {
    assert.equal(engineProgramEnv(undefined), undefined);
    const narrow = engineProgramEnv({ env: ["TROUPE_PROGRAM_*"] })!;
    assert.equal(narrow.TROUPE_PROGRAM_ENV_A, "a");
    assert.equal(narrow.OTHER_PROGRAM_ENV_B, undefined);
    assert.equal(narrow.PATH, Deno.env.get("PATH"));
    assert.equal(engineProgramEnv({})!.TROUPE_PROGRAM_ENV_A, undefined);
    assert.equal(engineProgramEnv({ env: true })!.OTHER_PROGRAM_ENV_B, "b");
  } finally {
    Deno.env.delete("TROUPE_PROGRAM_ENV_A");
    Deno.env.delete("OTHER_PROGRAM_ENV_B");
  }
});

Deno.test("engineProgramEnv keeps every DENO_* variable and NODE_EXTRA_CA_CERTS; README lists exactly what it keeps", async () => {
  Deno.env.set("DENO_TRACE_PERMISSIONS", "1");
  Deno.env.set("NODE_EXTRA_CA_CERTS", "/tmp/ca.pem");
  try {
    const env = engineProgramEnv({})!;
    assert.equal(env.DENO_TRACE_PERMISSIONS, "1");
    assert.equal(env.NODE_EXTRA_CA_CERTS, "/tmp/ca.pem");
  } finally {
    Deno.env.delete("DENO_TRACE_PERMISSIONS");
    Deno.env.delete("NODE_EXTRA_CA_CERTS");
  }
  const readme = await Deno.readTextFile(
    new URL("../README.md", import.meta.url),
  );
  const list = readme.match(
    /starts with only what Deno itself needs \(([^)]*)\)/,
  );
  assert.ok(list, "README's sentence on the sandbox's environment");
  const named = [...list[1].matchAll(/`([^`]+)`/g)].map((m) => m[1]);
  assert.deepEqual(named, [...SANDBOX_KEPT_ENV]);
  assert.equal(list[1].replace(/`[^`]+`/g, "").replace(/[\s,]/g, ""), "");
});
