import assert from "node:assert/strict";
import { checkEnginePermissions } from "./engine_permissions.ts";

/** The message of what `checkEnginePermissions` throws for `value`. */
function refusal(value: unknown): string {
  try {
    checkEnginePermissions("permissions", value);
  } catch (error) {
    assert.ok(error instanceof TypeError, String(error));
    return error.message;
  }
  assert.fail(`${Deno.inspect(value)} was not refused`);
}

Deno.test("checkEnginePermissions: takes true, false, lists, leaves out", () => {
  const ok = {
    read: ["/data", "/srv/x y"],
    write: false,
    net: ["127.0.0.1:8080", "example.com", "[::1]:9000"],
    env: ["AWS_*", "HOME"],
    run: ["ls", "/usr/bin/git"],
    ffi: true,
    sys: ["hostname", "cpus"],
  };
  assert.equal(checkEnginePermissions("permissions", ok), ok);
  assert.deepEqual(checkEnginePermissions("permissions", {}), {});
  assert.deepEqual(checkEnginePermissions("permissions", { read: [] }), {
    read: [],
  });
});

Deno.test("checkEnginePermissions: refuses what Deno's flags cannot say", () => {
  assert.match(refusal("all"), /must be an object of Deno permissions/);
  assert.match(refusal(["read"]), /must be an object/);
  assert.match(
    refusal({ raed: true }),
    /unknown option "raed" in permissions \(did you mean "read"\?\)/,
  );
  assert.match(refusal({ read: "/data" }), /permissions\.read must be true/);
  assert.match(refusal({ net: 1 }), /permissions\.net must be true/);
  assert.match(refusal({ read: [1] }), /read\[0\] must be a string/);
  assert.match(refusal({ read: ["/a", ""] }), /read\[1\] must not be empty/);
  assert.match(
    refusal({ read: ["/a,/b"] }),
    /read\[0\] must not contain a comma: Deno's flag would read it as two/,
  );
  assert.match(refusal({ env: ["A,B"] }), /env\[0\] must not contain a comma/);
  assert.match(refusal({ read: ["data"] }), /must be an absolute path/);
  assert.match(refusal({ write: ["./out"] }), /must be an absolute path/);
  assert.match(refusal({ sys: ["inspector"] }), /not a sys kind Deno knows/);
  assert.match(refusal({ net: ["http://x.org"] }), /must be host or host:port/);
  assert.match(refusal({ net: ["x.org:0"] }), /must be host or host:port/);
  assert.match(refusal({ net: ["x.org:99999"] }), /must be host or host:port/);
  assert.match(refusal({ env: ["A=1"] }), /must be a variable name/);
  assert.match(refusal({ run: ["ls\nrm"] }), /must be one line/);
});
