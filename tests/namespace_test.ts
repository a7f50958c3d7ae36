/**
 * The pieces behind `execute`, `pull` and the restart hint, without
 * engines: the rewrite of code with top-level `await` or `import`
 * declarations (run here as the engine runs it, with `node:vm`), and the
 * ledger that decides when a missing name gets the restart hint.
 */

import assert from "node:assert/strict";
import vm from "node:vm";
import { asyncScript, findSyntaxError } from "../engine/async_script.ts";
import { GlobalsLedger } from "../cluster/globals_ledger.ts";
import { EXECUTE, PULL, PUSH } from "../protocol/namespace_ops.ts";

/** Runs `code` as execute does on an engine, in this thread's global scope. */
async function run(code: string): Promise<void> {
  const script = await asyncScript(code);
  assert.ok(script !== undefined, `no wrapper for: ${code}`);
  await vm.runInThisContext(script, {
    filename: "namespace-test",
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
}

/** A global of this thread, by name, as a later script sees it. */
const global = (name: string): unknown => (0, eval)(name);

Deno.test("asyncScript leaves code that needs no wrapper alone", async () => {
  for (
    const code of [
      "var a = 1;",
      "const s = 'await import export';", // the words, in a string
      "async function f() { await 1; }", // await inside a function
      "import('npm:x');", // dynamic import works in a script
      "var = ;", // does not parse: V8 reports it as for any script
    ]
  ) assert.equal(await asyncScript(code), undefined, code);
});

Deno.test("asyncScript: top-level declarations persist as globals", async () => {
  await run([
    "const ns1 = await Promise.resolve(1), { ns2, ns3: [ns4 = 4] } = { ns2: 2, ns3: [] };",
    "let ns5;",
    "var ns6 = 6;",
    "function ns7() { return ns1 + ns6; }",
    "class Ns8 { static v = 8; }",
    "for (var ns9 = 0; ns9 < 2; ns9++) {}",
    "for (var ns10 of [10]) {}",
    "for (var [ns11] of [[11]]) {}",
    "if (ns1) { var ns12 = 12; let ns13 = 13; }",
    "try { var ns14 = 14; } finally {}",
  ].join("\n"));
  assert.deepEqual(
    ["ns1", "ns2", "ns4", "ns5", "ns6", "ns9", "ns10", "ns11", "ns12", "ns14"]
      .map(global),
    [1, 2, 4, undefined, 6, 2, 10, 11, 12, 14],
  );
  assert.equal(global("ns7()"), 7);
  assert.equal(global("Ns8.v"), 8);
  assert.equal(global("typeof ns13"), "undefined");
  // Not properties of globalThis, as a script's let/const are not.
  assert.equal("ns1" in globalThis, false);
});

Deno.test("asyncScript: import declarations bind what the module exports", async () => {
  const dir = await Deno.makeTempDir({ prefix: "troupe_ns_" });
  try {
    const file = `${dir}/m.mjs`;
    await Deno.writeTextFile(file, "export const a = 1; export default 2;");
    const url = new URL(`file://${file}`).href;
    await run([
      `import im1, { a as im2 } from "${url}";`,
      `import * as im3 from "${url}";`,
      `import im4, * as im5 from "${url}";`,
      `import "${url}";`,
      `import { "a" as im6 } from "${url}";`,
      `import im7 from "data:application/json,[7]" with { type: "json" };`,
    ].join("\n"));
    assert.deepEqual(
      ["im1", "im2", "im3.a", "im4", "im5.default", "im6", "im7[0]"].map(
        global,
      ),
      [2, 1, 1, 2, 2, 1, 7],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("asyncScript keeps every line where it was", async () => {
  const code = [
    "var kl1 = 1,",
    "  kl2 = 2;",
    "import {",
    "  encode as kl3,",
    '} from "npm:@msgpack/msgpack@3.1.3";',
    "await null;",
    "throw new Error('here');",
  ].join("\n");
  const script = (await asyncScript(code))!;
  const lines = script.split("\n");
  assert.equal(lines.length, code.split("\n").length + 1); // + "})()"
  assert.match(lines[6], /throw new Error\('here'\)/);
  await assert.rejects(
    () =>
      vm.runInThisContext(script, {
        filename: "kept-lines",
        importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
      }),
    (e: Error) => /kept-lines:7:/.test(String(e.stack)),
  );
});

Deno.test("asyncScript: export is a SyntaxError that says why", async () => {
  await assert.rejects(
    () => asyncScript("var e1 = 1;\nexport { e1 };"),
    SyntaxError,
    "export on line 2",
  );
});

Deno.test("findSyntaxError names the line of the first error", async () => {
  assert.deepEqual(await findSyntaxError("var a = 1;\n\nvar = ;"), {
    line: 3,
    message: "Unexpected token",
  });
  assert.equal(await findSyntaxError("await 1;"), undefined);
});

Deno.test("GlobalsLedger hints only when the engine lost what was set", () => {
  const missing = (name: string) => ({
    name: "ReferenceError",
    message: `${name} is not defined`,
  });
  const pulled = (name: string) => ({
    name: "ReferenceError",
    message: `"${name}" is not defined on engine 3: push it or define it first`,
  });
  const ledger = new GlobalsLedger();
  // Nothing lost yet, or nothing set: no hint.
  assert.equal(ledger.hint(3, missing("x")), undefined);
  ledger.lost("it ran out of memory");
  assert.equal(ledger.hint(3, missing("x")), undefined);

  ledger.finished(PUSH, [{ x: 1 }]);
  ledger.finished(PULL, [["x"]]); // reads set nothing
  assert.equal(ledger.hint(3, missing("x")), undefined, "set since the loss");
  ledger.lost("it missed 3 heartbeats in a row");
  for (const info of [missing("x"), pulled("x")]) {
    assert.match(
      ledger.hint(3, info)!,
      /^x was pushed to engine 3 at \d\d:\d\d:\d\d; since then engine 3 restarted at \d\d:\d\d:\d\d because it missed 3 heartbeats in a row, and a restart loses an engine's globals\. Push x again\.$/,
    );
  }
  // Another name: the hint says what was set last, and when.
  assert.match(ledger.hint(3, missing("y"))!, /^Since values were last pushed/);
  ledger.finished(EXECUTE, ["var y = 1"]);
  assert.equal(ledger.hint(3, missing("y")), undefined, "executed since");
  assert.match(ledger.hint(3, missing("x"))!, /Push x again/);
  // Errors that miss no name get no hint.
  assert.equal(ledger.hint(3, { name: "TypeError", message: "x" }), undefined);
});
