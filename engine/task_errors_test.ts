/**
 * Unit tests for the hints a failed task carries back (the whole path, with
 * a real client, is in tests/engine_kind_errors.case.ts and
 * tests/crossing_test.ts).
 */

import assert from "node:assert/strict";
import {
  describeType,
  explain,
  sandboxedMessage,
  unsendableResult,
} from "./task_errors.ts";

Deno.test("explain: a client variable the task reads is to be passed or pushed", () => {
  const info = explain(
    new ReferenceError("scale is not defined"),
    "(x) => x * scale",
  );
  assert.equal(info.name, "ReferenceError");
  assert.match(
    info.message,
    /^scale is not defined\. A shipped function cannot use variables of the client: pass scale as an argument \(view\.applyAsync\(fn, scale\)\)/,
  );
});

Deno.test("explain: a client function or class the task calls belongs in a module", () => {
  for (
    const source of [
      "() => helper(1)",
      "() => new Point(1, 2)",
      "() => tag`x`",
      "() => helper?.(1)",
    ]
  ) {
    const name = /(helper|Point|tag)/.exec(source)![1];
    const info = explain(new ReferenceError(`${name} is not defined`), source);
    assert.match(
      info.message,
      new RegExp(
        `cannot use the client's functions or classes: define ${name} inside`,
      ),
      source,
    );
    assert.match(info.message, /moduleFunction\(new URL\(/, source);
  }
  // A method of the same name, or a longer name, is not the call.
  const read = explain(
    new ReferenceError("helper is not defined"),
    "() => obj.helper(1) + helper + myhelper(2)",
  );
  assert.match(read.message, /cannot use variables of the client/);
});

Deno.test("explain: other errors pass unchanged", () => {
  const info = explain(new RangeError("too far"), "() => { throw 1 }");
  assert.equal(info.name, "RangeError");
  assert.equal(info.message, "too far");
});

Deno.test("unsendableResult and describeType say what the value is", () => {
  assert.equal(describeType(null), "null");
  assert.equal(describeType([1]), "an array");
  assert.equal(describeType(() => 1), "a function");
  assert.equal(describeType(new WeakMap()), "an object of class WeakMap");
  assert.equal(describeType(Object.create(null)), "an object of class unknown");
  assert.equal(describeType(1n), "bigint");
  const error = unsendableResult(
    new WeakMap(),
    new Error("could not be cloned."),
  );
  assert.ok(error instanceof TypeError);
  assert.equal(
    error.message,
    "the task's result (an object of class WeakMap) could not be sent back: " +
      "could not be cloned. Return plain data: numbers, strings, arrays, " +
      "typed arrays, Maps, Sets, Dates and plain objects of those.",
  );
});

Deno.test("explain: on a sandboxed engine, a permission error says where the sandbox is set, not Deno's --allow flag", () => {
  const denied = new Deno.errors.NotCapable(
    'Requires read access to "/etc/passwd", run again with the --allow-read flag',
  );
  const sandboxed = explain(denied, "() => 0", true);
  assert.equal(sandboxed.name, "NotCapable");
  assert.equal(
    sandboxed.message,
    'the engine\'s permissions do not allow read access to "/etc/passwd": ' +
      "it runs sandboxed (ClientOptions.permissions, or its launcher's " +
      "permissions; --engine-allow-NAME for a cluster started by troupe " +
      "start or troupe controller); add it there if the task should have it",
  );
  // A Worker engine shares the client's permissions: Deno's advice holds.
  assert.equal(explain(denied, "() => 0").message, denied.message);
  assert.equal(
    sandboxedMessage(
      "Requires ffi access, run again with the --allow-ffi flag",
    ),
    "the engine's permissions do not allow ffi access: it runs sandboxed " +
      "(ClientOptions.permissions, or its launcher's permissions; " +
      "--engine-allow-NAME for a cluster started by troupe start or troupe " +
      "controller); add it there if the task should have it",
  );
  // A task's own import() is refused with a TypeError: rewritten too.
  const imported = explain(
    new TypeError(
      'Requires import access to "esm.sh:443", run again with the --allow-import flag',
    ),
    "() => 0",
    true,
  );
  assert.match(
    imported.message,
    /^the engine's permissions do not allow import access to "esm.sh:443": it runs sandboxed/,
  );
  // /proc/self/maps needs -A, which no grant gives: said so.
  assert.match(
    sandboxedMessage(
      'Requires all access to "/proc/self/maps", run again with the --allow-all flag',
    ),
    /all access to "\/proc\/self\/maps": .*allows this only to a process with every permission \(-A\), which no sandbox grants$/,
  );
  // node:dns says EPERM only: said what it means on a sandboxed engine.
  const dns = new Error("getaddrinfo EPERM example.com");
  assert.match(
    explain(dns, "() => 0", true).message,
    /^getaddrinfo EPERM example.com: the engine's permissions do not allow the net access this lookup needs \(it runs sandboxed/,
  );
  assert.equal(explain(dns, "() => 0").message, dns.message);
  // node:child_process asks env first: a user who wants run is told both.
  assert.match(
    sandboxedMessage(
      "Requires env access, run again with the --allow-env flag",
    ),
    /node:child_process needs env as well as run\)$/,
  );
  assert.match(
    sandboxedMessage("something else"),
    /^something else \(it runs sandboxed/,
  );
});
