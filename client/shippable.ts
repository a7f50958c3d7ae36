/**
 * Turning a client function into source text that an engine can run.
 *
 * @module
 */

import type { SourceFunction } from "../protocol/messages.ts";

/**
 * What each source shipped lately became, so that a task submitted in a
 * loop (a fresh closure on every call, as `(x) => x + 1` in a loop is) is
 * checked and parsed once, and its every call shares one `SourceFunction`.
 * A method's expression also depends on its name, which is kept with it.
 */
const shipped = new Map<
  string,
  { name: string | undefined; ref: SourceFunction }
>();
const SHIPPED_LIMIT = 512;

/**
 * The source of `fn`, checked and normalised so that the engine can evaluate
 * it as an expression. Throws a `TypeError` that says what to do for what
 * cannot be shipped: built-in and bound functions (they have no source of
 * their own) and classes.
 *
 * @example
 * ```ts
 * import { shippable } from "./shippable.ts";
 * console.log(shippable((x: number) => x * 2).source); // "(x)=>x * 2"
 * ```
 */
export function shippable(fn: unknown): SourceFunction {
  if (typeof fn !== "function") {
    throw new TypeError(
      `a task must be a function, got ${fn === null ? "null" : typeof fn}`,
    );
  }
  const source = fn.toString();
  const name = fn.name || "anonymous";
  const known = shipped.get(source);
  if (
    known && (known.name === undefined || known.name === name) &&
    !isBuiltIn(fn)
  ) {
    return known.ref;
  }
  if (/\{\s*\[native code\]\s*\}\s*$/.test(source) || isBuiltIn(fn)) {
    throw new TypeError(
      `${name} cannot be shipped to an engine: it is a built-in or bound ` +
        "function, which has no source of its own. Call it from a function " +
        "of your own, e.g. (...args) => Math.max(...args), and pass values " +
        "as arguments instead of binding them.",
    );
  }
  if (/^class\b/.test(source)) {
    throw new TypeError(
      `${name} is a class; a task must be a function. Ship a function that ` +
        "creates the instance on the engine instead.",
    );
  }
  const expression = asExpression(source, name);
  const ref: SourceFunction = { kind: "source", source: expression };
  if (shipped.size >= SHIPPED_LIMIT) shipped.clear();
  // Only a wrapped method's expression names it.
  shipped.set(source, { name: expression === source ? undefined : name, ref });
  return ref;
}

/**
 * Method shorthand (`{ f() {} }`, `async f() {}`) prints without the
 * `function` keyword and is no expression on its own: such source is
 * wrapped in an object. Parsing (never running) the source tells which.
 */
function asExpression(source: string, name: string): string {
  return parses(source) ? source : `({ ${source} })[${JSON.stringify(name)}]`;
}

function parses(source: string): boolean {
  try {
    new Function(`return (${source}\n);`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Deno writes some built-ins (`atob`, `setTimeout`, `fetch`) in JavaScript:
 * their source prints, but it names Deno's internals and fails on an engine.
 * They are told apart by being the very functions that the globals held when
 * troupe was loaded: later globals are the user's (a notebook's top-level
 * `function` becomes one), and those ship as any other function.
 */
const builtIns = new WeakSet<object>();
for (const scope of [globalThis, Deno]) {
  for (const key of Reflect.ownKeys(scope)) {
    try {
      const value = Reflect.get(scope, key);
      if (typeof value === "function") builtIns.add(value);
    } catch {
      // A getter that refuses to be read outside its context.
    }
  }
}

function isBuiltIn(fn: object): boolean {
  return builtIns.has(fn);
}
