/**
 * The folders are layers (ARCHITECTURE.md): a module imports only from its
 * own folder and the folders below it. This test reads every source file's
 * imports, so that a change which reaches up a layer fails here, naming the
 * file and the import, instead of slowly tangling the house.
 */

import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

/** Top to bottom: each may import from the ones after it. */
const LAYERS = [
  "cli",
  "controller",
  "client",
  "dashboard",
  "plot",
  "remote",
  "launch",
  "cluster",
  "engine",
  "transport",
  "protocol",
  "actors",
  "observe",
] as const;

/** Relative imports, static and dynamic, of one file (code, not comments). */
function importsOf(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(
    /^\s*\/\/.*$/gm,
    "",
  );
  const found: string[] = [];
  const patterns = [
    /\bfrom\s+"(\.{1,2}\/[^"]+)"/g,
    /\bimport\s+"(\.{1,2}\/[^"]+)"/g,
    /\bimport\(\s*"(\.{1,2}\/[^"]+)"\s*\)/g,
    /new URL\(\s*"(\.{1,2}\/[^"]+)",\s*import\.meta\.url/g,
  ];
  for (const pattern of patterns) {
    for (const match of code.matchAll(pattern)) found.push(match[1]);
  }
  return found;
}

/** The layer a path inside the checkout belongs to, if any. */
function layerOf(path: string): number {
  return LAYERS.indexOf(path.split("/")[0] as typeof LAYERS[number]);
}

Deno.test("imports point down the layers only", async () => {
  const breaches: string[] = [];
  let files = 0;
  for (const [index, layer] of LAYERS.entries()) {
    for await (const entry of Deno.readDir(new URL(`${layer}/`, ROOT))) {
      if (!entry.isFile || !entry.name.endsWith(".ts")) continue;
      // Unit tests may use the test helpers and fakes; code may not.
      if (entry.name.endsWith("_test.ts")) continue;
      files++;
      const file = `${layer}/${entry.name}`;
      const source = await Deno.readTextFile(new URL(file, ROOT));
      for (const spec of importsOf(source)) {
        const target = new URL(spec, new URL(file, ROOT)).href.slice(
          ROOT.href.length,
        );
        const to = layerOf(target);
        if (to === -1 || to < index) {
          breaches.push(`${file} imports ${target}`);
        }
      }
    }
  }
  assert.ok(files > 50, `read only ${files} source files: is ROOT right?`);
  assert.deepEqual(breaches, [], "imports that reach up a layer or out");
});

/** What the layers above the cluster core may import from it: the seam. */
const SEAM = new Set([
  "cluster/cluster.ts", // the interface and its vocabulary
  "cluster/local_cluster.ts", // the in-process implementation, to make one
  "cluster/admission.ts", // the engine entries, for permission checks
  "cluster/registry.ts", // the registry actor, which a connected client keeps
]);

Deno.test("above the cluster core, only the seam is imported", async () => {
  const breaches: string[] = [];
  for (const layer of LAYERS.slice(0, LAYERS.indexOf("cluster"))) {
    for await (const entry of Deno.readDir(new URL(`${layer}/`, ROOT))) {
      if (!entry.isFile || !entry.name.endsWith(".ts")) continue;
      const file = `${layer}/${entry.name}`;
      const source = await Deno.readTextFile(new URL(file, ROOT));
      for (const spec of importsOf(source)) {
        const target = new URL(spec, new URL(file, ROOT)).href.slice(
          ROOT.href.length,
        );
        if (target.startsWith("cluster/") && !SEAM.has(target)) {
          breaches.push(`${file} imports ${target}`);
        }
      }
    }
  }
  assert.deepEqual(breaches, [], "imports that reach inside the core");
});

Deno.test("the layer check sees every kind of import", () => {
  const source = [
    'import { a } from "../client/a.ts";',
    'import "../engine/worker.ts";',
    'const m = await import("./m.ts");',
    'const u = new URL("../engine/mod.ts", import.meta.url);',
    '// import { no } from "../client/commented.ts";',
    '/** import { no } from "../client/doc.ts"; */',
  ].join("\n");
  assert.deepEqual(importsOf(source), [
    "../client/a.ts",
    "../engine/worker.ts",
    "./m.ts",
    "../engine/mod.ts",
  ]);
});
