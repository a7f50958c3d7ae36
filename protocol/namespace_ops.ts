/**
 * The namespace operations as tasks: `push`, `pull` and `execute` are
 * ordinary tasks whose shipped sources call the engine's own namespace code
 * (`namespace.ts`, installed on every engine). The client's views submit
 * them; the engine actor recognises them to know what the client set on an
 * engine.
 *
 * @module
 */

import type { SourceFunction } from "./messages.ts";

/**
 * The `Symbol.for` key under which an engine installs its namespace
 * operations (`installNamespace` in `namespace.ts`).
 */
export const NAMESPACE_KEY = "troupe.engine.namespace";

const call = (op: string, arg: string) =>
  `(${arg}) => globalThis[Symbol.for("${NAMESPACE_KEY}")].${op}(${arg})`;

/**
 * Sets globals on the engine: `args` is `[{ name: value, ... }]`.
 *
 * @example
 * ```ts
 * import { PUSH } from "./namespace_ops.ts";
 * const task = { fn: PUSH, args: [{ a: 1 }] };
 * ```
 */
export const PUSH: SourceFunction = {
  kind: "source",
  source: call("push", "ns"),
};

/**
 * Reads globals (including `let`/`const` names declared by `execute`) from
 * the engine: `args` is `[names]`, the result one value per name.
 *
 * @example
 * ```ts
 * import { PULL } from "./namespace_ops.ts";
 * const task = { fn: PULL, args: [["a", "b"]] };
 * ```
 */
export const PULL: SourceFunction = {
  kind: "source",
  source: call("pull", "names"),
};

/**
 * Runs code as a script in the engine's global scope: `args` is `[code]`.
 *
 * @example
 * ```ts
 * import { EXECUTE } from "./namespace_ops.ts";
 * const task = { fn: EXECUTE, args: ["var x = 1"] };
 * ```
 */
export const EXECUTE: SourceFunction = {
  kind: "source",
  source: call("execute", "code"),
};
