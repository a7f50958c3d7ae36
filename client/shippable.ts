/**
 * Turning a client function into source text that an engine can run.
 *
 * @module
 */

import type { SourceFunction } from "../actors/messages.ts";

/**
 * The source of `fn`, checked and normalised so that the engine can evaluate
 * it as an expression. Throws a `TypeError` that says what to do for what
 * cannot be shipped: built-in and bound functions (their source is not
 * JavaScript) and classes.
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
  if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) {
    throw new TypeError(
      `${name}() cannot be shipped to an engine: it is a built-in or bound ` +
        "function, which has no source text. Wrap it in a function of your " +
        `own, e.g. (x) => ${name}(x), and bind values by passing arguments.`,
    );
  }
  if (/^class\b/.test(source)) {
    throw new TypeError(
      `${name} is a class; a task must be a function. Ship a function that ` +
        "creates the instance on the engine instead.",
    );
  }
  return { kind: "source", source: asExpression(source, name) };
}

/**
 * Method shorthand (`{ f() {} }`, `get f() {}`) prints without the
 * `function` keyword and is no expression on its own: wrap it in an object.
 */
function asExpression(source: string, name: string): string {
  const isExpression = /^(async\s*)?(function\b|\(|[\w$]+\s*=>)/.test(source);
  if (isExpression) return source;
  return `({ ${source} })[${JSON.stringify(name)}]`;
}
