/**
 * Code for `execute` that a script cannot hold (top-level `await`, `import`
 * declarations), rewritten into a script that can: its body runs inside an
 * async function, and its top-level declarations become declarations of the
 * script itself, so that they persist in the engine's global scope as a
 * plain script's would. This is what Node's REPL does, with the same parser.
 *
 * What differs from a plain script: `const` names become `let` (they can be
 * assigned later); an `import` binds a copy of what the module exports
 * (not a live binding); `var` in nested blocks persists, `let`/`const` in
 * nested blocks stay there. Lines are kept: an error names the line of the
 * code as written.
 *
 * @module
 */

import type * as acorn from "acorn";

// deno-lint-ignore no-explicit-any
type Node = acorn.Node & Record<string, any>;

const PARSE: acorn.Options = {
  ecmaVersion: "latest",
  sourceType: "script",
  allowAwaitOutsideFunction: true,
  allowImportExportEverywhere: true,
  locations: true,
};

/** Words that can start code which may need the async wrapper. */
const MAY_NEED_WRAPPER = /\bawait\b|\bimport\b|\bexport\b/;

let parser: Promise<typeof acorn> | undefined;

/** The parser, loaded on first use: plain code never needs it. */
function acornModule(): Promise<typeof acorn> {
  return parser ??= import("acorn");
}

/**
 * `code` rewritten to run in an async function with its top-level
 * declarations kept as globals, or `undefined` when it needs no wrapper
 * (no top-level `await` and no `import` declaration) or does not parse (V8
 * then reports the error as for any script). The script's value is the
 * promise of the code's completion. Throws a `SyntaxError` for `export`,
 * which has no meaning in a script.
 *
 * @example
 * ```ts
 * import { asyncScript } from "./async_script.ts";
 * const script = await asyncScript("const m = await Promise.resolve(1);");
 * console.log(script); // "let m; (async () => { ... })()"
 * ```
 */
export async function asyncScript(code: string): Promise<string | undefined> {
  if (!MAY_NEED_WRAPPER.test(code)) return undefined;
  const { parse } = await acornModule();
  let program: Node;
  try {
    program = parse(code, PARSE) as Node;
  } catch {
    return undefined;
  }
  let needsWrapper = false;
  walk(program, (node) => {
    if (/^Export/.test(node.type)) {
      throw new SyntaxError(
        `export on line ${node.loc?.start.line}: execute runs code as a ` +
          "script in the engine's global scope, not as a module, so there " +
          "is nothing to export to. Declare the name (var x = ...): it is " +
          "then a global of the engine, which later tasks and pull see",
      );
    }
    if (
      node.type === "AwaitExpression" || node.type === "ImportDeclaration" ||
      (node.type === "ForOfStatement" && node.await)
    ) needsWrapper = true;
  });
  return needsWrapper ? rewrite(code, program) : undefined;
}

/**
 * The first syntax error in `code` as a parser finds it, with its line
 * (V8's own SyntaxError for a script tells no line), or `undefined` if the
 * parser finds none. Top-level `await` counts as valid here.
 *
 * @example
 * ```ts
 * import { findSyntaxError } from "./async_script.ts";
 * console.log(await findSyntaxError("var a = 1;\nvar = ;")); // { line: 2, ... }
 * ```
 */
export async function findSyntaxError(
  code: string,
): Promise<{ line: number; message: string } | undefined> {
  const { parse } = await acornModule();
  try {
    parse(code, PARSE);
    return undefined;
  } catch (error) {
    const line = (error as { loc?: { line: number } }).loc?.line;
    if (line === undefined) return undefined;
    // acorn ends its messages with "(line:column)".
    const message = String((error as Error).message).replace(
      / \(\d+:\d+\)$/,
      "",
    );
    return { line, message };
  }
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

function rewrite(code: string, program: Node): string {
  const vars = new Set<string>();
  const lets = new Set<string>();
  const functions: string[] = [];
  const edits: Edit[] = [];
  const text = (node: Node) => code.slice(node.start, node.end);
  const replace = (node: Node, replacement: string) =>
    edits.push({
      start: node.start,
      end: node.end,
      text: keepLines(replacement, text(node)),
    });

  walk(program, (node, parent, key) => {
    const topLevel = parent?.type === "Program";
    switch (node.type) {
      case "VariableDeclaration": {
        if (node.kind !== "var" && !topLevel) return;
        for (const d of node.declarations) {
          for (const name of boundNames(d.id)) {
            (node.kind === "var" ? vars : lets).add(name);
          }
        }
        const assignments = node.declarations
          .filter((d: Node) => d.init)
          .map((d: Node) => `${text(d.id)} = (${text(d.init)})`)
          .join(", ");
        if (parent?.type === "ForStatement" && key === "init") {
          replace(node, assignments && `(${assignments})`);
        } else if (
          /^For(In|Of)Statement$/.test(parent?.type ?? "") && key === "left"
        ) {
          replace(node, text(node.declarations[0].id));
        } else {
          replace(node, assignments ? `void (${assignments});` : ";");
        }
        return false;
      }
      case "FunctionDeclaration":
        // Left in place (hoisted within the body, its lines kept) and made
        // a global when the body starts.
        if (topLevel) {
          vars.add(node.id.name);
          functions.push(node.id.name);
        }
        return false;
      case "ClassDeclaration":
        if (!topLevel) return;
        lets.add(node.id.name);
        edits.push({
          start: node.start,
          end: node.start,
          text: `${node.id.name} = `,
        });
        edits.push({ start: node.end, end: node.end, text: ";" });
        return false;
      case "ImportDeclaration":
        replace(node, importAsAssignment(node, text, vars));
        return false;
    }
  });

  let body = code;
  for (const edit of edits.sort((a, b) => b.start - a.start)) {
    body = body.slice(0, edit.start) + edit.text + body.slice(edit.end);
  }
  // Everything added goes on line 1, before the code, so lines are kept.
  const head = [
    vars.size > 0 ? `var ${[...vars].join(", ")};` : "",
    lets.size > 0 ? `let ${[...lets].join(", ")};` : "",
    "(async () => {",
    ...functions.map((name) => `globalThis.${name} = ${name};`),
  ].filter(Boolean).join(" ");
  return `${head} ${body}\n})()`;
}

/** `import d, { a as b } from "m"` as assignments from `await import()`. */
function importAsAssignment(
  node: Node,
  text: (node: Node) => string,
  vars: Set<string>,
): string {
  const attributes = (node.attributes ?? []) as Node[];
  const options = attributes.length === 0
    ? ""
    : `, { with: { ${
      attributes.map((a) => `${text(a.key)}: ${text(a.value)}`).join(", ")
    } } }`;
  const load = `await import(${text(node.source)}${options})`;
  const specifiers = node.specifiers as Node[];
  for (const s of specifiers) vars.add(s.local.name);
  const namespace = specifiers.find((s) =>
    s.type === "ImportNamespaceSpecifier"
  );
  const fallback = specifiers.find((s) => s.type === "ImportDefaultSpecifier");
  if (namespace) {
    const ns = namespace.local.name;
    const d = fallback ? `, ${fallback.local.name} = ${ns}.default` : "";
    return `void (${ns} = ${load}${d});`;
  }
  if (specifiers.length === 0) return `${load};`;
  const pattern = specifiers.map((s) =>
    s.type === "ImportDefaultSpecifier"
      ? `default: ${s.local.name}`
      : `${text(s.imported)}: ${s.local.name}`
  ).join(", ");
  return `void ({ ${pattern} } = ${load});`;
}

/** The names a binding pattern declares. */
function boundNames(pattern: Node | null): string[] {
  if (!pattern) return [];
  switch (pattern.type) {
    case "Identifier":
      return [pattern.name];
    case "ObjectPattern":
      return pattern.properties.flatMap((p: Node) =>
        boundNames(p.type === "RestElement" ? p.argument : p.value)
      );
    case "ArrayPattern":
      return pattern.elements.flatMap(boundNames);
    case "AssignmentPattern":
      return boundNames(pattern.left);
    case "RestElement":
      return boundNames(pattern.argument);
    default:
      return [];
  }
}

/** `replacement`, with newlines added so that it spans as many lines. */
function keepLines(replacement: string, original: string): string {
  const missing = lineCount(original) - lineCount(replacement);
  return missing > 0 ? replacement + "\n".repeat(missing) : replacement;
}

function lineCount(text: string): number {
  return text.split("\n").length;
}

/**
 * Visits every node outside functions (their bodies are their own scope):
 * `visit` returning `false` skips the node's children.
 */
function walk(
  node: Node,
  visit: (node: Node, parent: Node | undefined, key: string) => unknown,
  parent?: Node,
  key = "",
): void {
  if (visit(node, parent, key) === false) return;
  if (/Function(Declaration|Expression)$|^StaticBlock$/.test(node.type)) return;
  for (const [childKey, value] of Object.entries(node)) {
    if (childKey === "loc") continue;
    for (const child of [value].flat() as (Node | null)[]) {
      if (typeof child?.type === "string") walk(child, visit, node, childKey);
    }
  }
}
