/**
 * What a failed task tells its user: the errors they meet most, with what
 * to do instead.
 *
 * @module
 */

import { type ErrorInfo, messageOf, toErrorInfo } from "../protocol/errors.ts";

/**
 * `thrown` as sent to the client, with troupe's hint added where the task
 * used a name of the client's (`source` is the shipped function's text),
 * and, on a `sandboxed` engine, a permission error's advice rewritten:
 * Deno's "run again with the --allow-read flag" means nothing to a task.
 *
 * @example
 * ```ts
 * import { explain } from "./task_errors.ts";
 * const info = explain(new ReferenceError("scale is not defined"), "(x) => x * scale");
 * console.log(info.message); // scale is not defined. A shipped function cannot use variables of the client: ...
 * ```
 */
export function explain(
  thrown: unknown,
  source: string,
  sandboxed = false,
): ErrorInfo {
  const info = toErrorInfo(thrown);
  if (sandboxed && thrown instanceof Deno.errors.NotCapable) {
    info.message = sandboxedMessage(info.message);
    return info;
  }
  const undefinedName = thrown instanceof ReferenceError &&
    /^(\S+) is not defined$/.exec(thrown.message)?.[1];
  if (undefinedName && isCalled(undefinedName, source)) {
    // A function or class cannot be passed or pushed: say what works.
    info.message += `. A shipped function cannot use the client's ` +
      `functions or classes: define ${undefinedName} inside the shipped ` +
      `function, or put the task in a module that defines or imports ` +
      `${undefinedName} and run it with moduleFunction(new URL(` +
      `"./tasks.ts", import.meta.url), "task"): the engines import that ` +
      `module themselves. Functions cannot be passed as arguments or pushed.`;
  } else if (undefinedName) {
    info.message += `. A shipped function cannot use variables of the ` +
      `client: pass ${undefinedName} as an argument ` +
      `(view.applyAsync(fn, ${undefinedName})) or push it to the engines ` +
      `first.`;
  }
  return info;
}

/**
 * Deno's message of a permission a sandboxed engine lacks, as what it
 * means there: the engine's permissions, where they are set. A message of
 * another shape is kept, with the same advice after it.
 *
 * @example
 * ```ts
 * import { sandboxedMessage } from "./task_errors.ts";
 * console.log(sandboxedMessage(
 *   'Requires read access to "/etc/passwd", run again with the --allow-read flag',
 * ));
 * // the engine's permissions do not allow read access to "/etc/passwd": it runs sandboxed ...
 * ```
 */
export function sandboxedMessage(message: string): string {
  const advice = "it runs sandboxed (ClientOptions.permissions, or its " +
    "launcher's permissions); add it there if the task should have it";
  const match =
    /^Requires (\w+) access(?: to (.+?))?, run again with the --allow-\w+ flag\.?$/
      .exec(message);
  if (!match) return `${message} (${advice})`;
  const [, name, what] = match;
  return `the engine's permissions do not allow ${name} access` +
    (what ? ` to ${what}` : "") + `: ${advice}`;
}

/** Whether `source` calls `name` (or constructs it) rather than reads it. */
function isCalled(name: string, source: string): boolean {
  const escaped = name.replace(/[$]/g, "\\$");
  return new RegExp(`(?<![\\w$.])${escaped}\\s*(\\?\\.\\s*)?[(\`]`)
    .test(source);
}

/**
 * Why a task's result could not be sent back, and what to return instead.
 *
 * @example
 * ```ts
 * import { unsendableResult } from "./task_errors.ts";
 * const error = unsendableResult(new WeakMap(), new Error("could not be cloned."));
 * console.log(error.message); // the task's result (an object of class WeakMap) could not be sent back: ...
 * ```
 */
export function unsendableResult(value: unknown, error: unknown): TypeError {
  return new TypeError(
    `the task's result (${describeType(value)}) could not be sent back: ` +
      `${messageOf(error)}. Return plain data: numbers, strings, arrays, ` +
      "typed arrays, Maps, Sets, Dates and plain objects of those.",
  );
}

/**
 * What a value is, in words, for an error message.
 *
 * @example
 * ```ts
 * import { describeType } from "./task_errors.ts";
 * console.log(describeType([1]), describeType(new Date())); // an array an object of class Date
 * ```
 */
export function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "function") return "a function";
  if (typeof value === "object") {
    return `an object of class ${value.constructor?.name ?? "unknown"}`;
  }
  return typeof value;
}
