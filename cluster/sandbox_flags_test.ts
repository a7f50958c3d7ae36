import assert from "node:assert/strict";
import { sandboxFlags } from "./sandbox_flags.ts";

const CONNECT = { hostname: "127.0.0.1", port: 4100 };

/** The descriptors `--sandbox` tells the engine to revoke. */
function revoked(engine: string[]): Deno.PermissionDescriptor[] {
  assert.equal(engine[0], "--sandbox");
  return JSON.parse(engine[1]);
}

Deno.test("sandboxFlags: nothing granted is denied; troupe adds only its connection and hostname, both revoked", () => {
  const flags = sandboxFlags({}, { connect: CONNECT, modules: [] });
  assert.deepEqual(flags.deno, [
    "--no-prompt",
    "--allow-net=127.0.0.1:4100",
    "--allow-sys=hostname",
    "--allow-import=nothing.invalid",
  ]);
  assert.deepEqual(revoked(flags.engine), [
    { name: "net", host: "127.0.0.1:4100" },
    { name: "sys", kind: "hostname" },
  ]);
});

Deno.test("sandboxFlags: the user's grants become exactly Deno's flags", () => {
  const flags = sandboxFlags({
    read: ["/data", "/more"],
    write: false,
    net: ["api.example.com:443"],
    env: true,
    run: [],
    ffi: false,
    sys: ["cpus"],
  }, { connect: CONNECT, modules: [] });
  assert.deepEqual(flags.deno, [
    "--no-prompt",
    "--allow-read=/data,/more",
    "--allow-net=api.example.com:443,127.0.0.1:4100",
    "--allow-env",
    "--allow-sys=cpus,hostname",
    "--allow-import=nothing.invalid",
  ]);
  assert.deepEqual(revoked(flags.engine), [
    { name: "net", host: "127.0.0.1:4100" },
    { name: "sys", kind: "hostname" },
  ]);
});

Deno.test("sandboxFlags: what the user's grant covers is neither added nor revoked (a revoke would take the user's grant too)", () => {
  const netFlags = [
    [true, "--allow-net"],
    [["127.0.0.1"], "--allow-net=127.0.0.1"],
    [["127.0.0.1:4100"], "--allow-net=127.0.0.1:4100"],
  ] as const;
  for (const [net, flag] of netFlags) {
    const flags = sandboxFlags({ net: net as boolean | string[], sys: true }, {
      connect: CONNECT,
      modules: [],
    });
    assert.deepEqual(flags.deno, [
      "--no-prompt",
      flag,
      "--allow-sys",
      "--allow-import=nothing.invalid",
    ]);
    assert.deepEqual(revoked(flags.engine), [], flag);
  }
  const start = {
    read: ["/home/me/.troupe/secrets"],
    write: ["/home/me/.troupe/secrets"],
    env: ["SLURM_ARRAY_TASK_ID"],
  };
  const covered = sandboxFlags({
    read: ["/home/me/data"],
    write: ["/home/me/.troupe/secrets/"],
    env: ["SLURM_*"],
  }, { connect: CONNECT, modules: [], start });
  assert.deepEqual(covered.deno, [
    "--no-prompt",
    "--allow-read=/home/me/data,/home/me/.troupe/secrets",
    "--allow-write=/home/me/.troupe/secrets/",
    "--allow-net=127.0.0.1:4100",
    "--allow-env=SLURM_*",
    "--allow-sys=hostname",
    "--allow-import=nothing.invalid",
  ]);
  // A folder next to it ("/home/me/.troupe/secrets2") covers nothing.
  const near = sandboxFlags({ read: ["/home/me/.troupe/secrets2"] }, {
    connect: CONNECT,
    modules: [],
    start,
  });
  assert.deepEqual(revoked(near.engine), [
    { name: "net", host: "127.0.0.1:4100" },
    { name: "sys", kind: "hostname" },
    { name: "read", path: "/home/me/.troupe/secrets" },
    { name: "write", path: "/home/me/.troupe/secrets" },
    { name: "env", variable: "SLURM_ARRAY_TASK_ID" },
  ]);
});

Deno.test("sandboxFlags: troupe's module folders are read for good; an IPv6 address is bracketed", () => {
  const flags = sandboxFlags({ read: ["/data"] }, {
    connect: { hostname: "::1", port: 4100 },
    modules: ["/opt/troupe/engine/", "/opt/troupe/protocol/"],
  });
  assert.deepEqual(flags.deno, [
    "--no-prompt",
    "--allow-read=/data,/opt/troupe/engine/,/opt/troupe/protocol/",
    "--allow-net=[::1]:4100",
    "--allow-sys=hostname",
    "--allow-import=nothing.invalid",
  ]);
  assert.deepEqual(revoked(flags.engine), [
    { name: "net", host: "[::1]:4100" },
    { name: "sys", kind: "hostname" },
  ]);
  // All read granted already: no folder of troupe's is added.
  const all = sandboxFlags({ read: true }, {
    connect: CONNECT,
    modules: ["/opt/troupe/engine/"],
  });
  assert.equal(all.deno[1], "--allow-read");
});

Deno.test("sandboxFlags: remote imports are denied unless granted; troupe's own registry is added for good", () => {
  const none = sandboxFlags({}, { connect: CONNECT, modules: [] });
  assert.ok(none.deno.includes("--allow-import=nothing.invalid"));
  const registry = sandboxFlags({ import: ["deno.land"] }, {
    connect: CONNECT,
    modules: [],
    imports: ["jsr.io:443"],
  });
  assert.ok(registry.deno.includes("--allow-import=deno.land,jsr.io:443"));
  assert.deepEqual(revoked(registry.engine).map((d) => d.name), [
    "net",
    "sys",
  ]);
  const all = sandboxFlags({ import: true }, {
    connect: CONNECT,
    modules: [],
    imports: ["jsr.io:443"],
  });
  assert.ok(all.deno.includes("--allow-import"));
});

Deno.test("sandboxFlags: a comma in a path troupe adds is refused, saying where it came from", () => {
  assert.throws(
    () =>
      sandboxFlags({}, {
        connect: CONNECT,
        modules: ["/home/me/proj,v2/troupe/engine/"],
      }),
    /troupe's own modules .*"\/home\/me\/proj,v2\/troupe\/engine\/".*comma/,
  );
  assert.throws(
    () =>
      sandboxFlags({}, {
        connect: CONNECT,
        modules: [],
        start: { read: ["/data/a,b/secrets"], write: ["/data/a,b/secrets"] },
      }),
    /secretsDir .*"\/data\/a,b\/secrets".*comma/,
  );
});

Deno.test("sandboxFlags: a broad grant gets troupe's keys and code denied; one covering the secrets folder is refused", () => {
  const protect = {
    read: ["/home/me/.troupe/clusters", "/home/me/.troupe/secrets"],
    write: ["/opt/troupe/", "/home/me/.troupe", "/home/me/.cache/deno"],
  };
  const broad = sandboxFlags({ read: true, write: ["/home/me"] }, {
    connect: CONNECT,
    modules: [],
    protect,
  });
  assert.ok(broad.deno.includes(
    "--deny-read=/home/me/.troupe/clusters,/home/me/.troupe/secrets",
  ));
  assert.ok(
    broad.deno.includes("--deny-write=/home/me/.troupe,/home/me/.cache/deno"),
  );
  // A narrow grant reaches none of them: no deny flag.
  const narrow = sandboxFlags({ read: ["/data"], write: ["/data/out"] }, {
    connect: CONNECT,
    modules: [],
    protect,
  });
  assert.ok(!narrow.deno.some((flag) => flag.startsWith("--deny-")));
  assert.throws(
    () =>
      sandboxFlags({ read: ["/home/me"] }, {
        connect: CONNECT,
        modules: [],
        start: { read: ["/home/me/.troupe/secrets"] },
      }),
    /read permission covers the secrets folder \/home\/me\/.troupe\/secrets.*secretsDir outside/,
  );
});
