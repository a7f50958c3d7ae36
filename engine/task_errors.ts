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
  // A task's own import() that the sandbox refuses is a TypeError.
  if (
    sandboxed && (thrown instanceof Deno.errors.NotCapable ||
      (thrown instanceof TypeError && PERMISSION_ERROR.test(thrown.message)))
  ) {
    info.message = sandboxedMessage(info.message);
    return info;
  }
  // node:dns says only EPERM when the sandbox has no net for the name.
  if (sandboxed && /^getaddrinfo EPERM\b/.test(info.message)) {
    info.message = sandboxedMessage(
      `${info.message}: the engine's permissions do not allow the net ` +
        "access this lookup needs",
    );
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
  const where = "it runs sandboxed (ClientOptions.permissions, or its " +
    "launcher's permissions; --engine-allow-NAME for a cluster started by " +
    "troupe start or troupe controller)";
  const advice = `${where}; add it there if the task should have it`;
  const match = PERMISSION_ERROR.exec(message);
  if (!match) return `${message} (${advice})`;
  const [, name, what] = match;
  const refused = `the engine's permissions do not allow ${name} access` +
    (what ? ` to ${what}` : "");
  if (name === "all") {
    // /proc/self/maps and the like: Deno allows them only with -A.
    return `${refused}: ${where}, and Deno allows this only to a process ` +
      "with every permission (-A), which no sandbox grants";
  }
  // node:child_process reads the environment before it runs anything.
  const node = name === "env"
    ? " (node:child_process needs env as well as run)"
    : "";
  return `${refused}: ${advice}${node}`;
}

/** Deno's message of a permission it refused. */
const PERMISSION_ERROR =
  /^Requires (\w+) access(?: to (.+?))?, run again with the --allow-\w+ flag\.?$/;

/**
 * Why a module task's module could not be imported, and what to do: on a
 * `sandboxed` engine a permission it lacks (its folder is not in
 * `permissions.read`, or its host in `permissions.import`).
 *
 * @example
 * ```ts
 * import { moduleImportError } from "./task_errors.ts";
 * const error = moduleImportError(
 *   "file:///work/tasks.ts",
 *   new TypeError('Requires read access to "/work/tasks.ts", run again with the --allow-read flag'),
 *   true,
 * );
 * console.log(error.message); // the engine could not import file:///work/tasks.ts: it runs sandboxed ...
 * ```
 */
export function moduleImportError(
  url: string,
  error: unknown,
  sandboxed: boolean,
): Error {
  const message = messageOf(error);
  const denied = sandboxed && /Requires (\w+) access/.exec(message)?.[1];
  if (!denied) {
    return new Error(
      `the engine could not import ${url}: ${message}. Give an absolute ` +
        'URL that the engine can read, e.g. new URL("./tasks.ts", ' +
        "import.meta.url)",
    );
  }
  const add = denied === "import"
    ? "add the module's host to permissions.import"
    : "add the module's folder (and those of its local imports) to " +
      'permissions.read, e.g. read: [new URL("./", import.meta.url)' +
      ".pathname]";
  return new Error(
    `the engine could not import ${url}: it runs sandboxed, and its ` +
      `permissions do not allow ${denied} access to it (${
        message.replace(/, run again with the --allow-\w+ flag\.?/, "")
      }): ${add} (ClientOptions.permissions, the launcher's permissions, ` +
      "or --engine-allow-read for troupe start/controller)",
  );
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
