/**
 * An engine's namespace: what `push`, `pull` and `execute` do on the
 * engine. Code run by `execute` is a script in the engine's global scope,
 * as a notebook cell is: its `var`, `function`, `let`, `const` and `class`
 * declarations persist for later code, tasks and `pull` (`let`, `const` and
 * `class` names are not properties of `globalThis`, but they are globals
 * all the same). `engineId` and `publishData` are in scope, as in tasks.
 * Code with top-level `await` or `import` declarations runs in an async
 * wrapper whose top-level declarations persist the same way (see
 * `async_script.ts`).
 *
 * @module
 */

import vm from "node:vm";
import { asyncScript, findSyntaxError } from "./async_script.ts";
import { NAMESPACE_KEY } from "../protocol/namespace_ops.ts";

/** The operations that `namespace_ops.ts`'s tasks call on an engine. */
export interface EngineNamespace {
  /** Sets each name to its value, as an assignment in a task would. */
  push(values: Record<string, unknown>): void;
  /** The value of each name, as a task would see it. */
  pull(names: string[]): unknown[];
  /** Runs `code` as a script in the global scope. */
  execute(code: string): void | Promise<void>;
}

/** Frames of executed code are named `troupe-execute-<n>`. */
const SOURCE_PREFIX = "troupe-execute";

/** An identifier that could name a global (keywords fail at evaluation). */
const IDENTIFIER = /^[\p{ID_Start}$_][\p{ID_Continue}$\u200C\u200D]*$/u;

/** Words that evaluate to a value without naming a binding. */
const NOT_NAMES = new Set(["this", "null", "true", "false"]);

/** The constants that every engine declares for tasks and executed code. */
const ENGINE_CONSTANTS = new Set(["engineId", "publishData"]);

const TAKEN = "is troupe's own constant on every engine (as in tasks): " +
  "choose another name";

let installed = false;

/**
 * Makes this thread's global scope an engine's namespace: declares
 * `engineId` and `publishData` as global constants (so that code run by
 * `execute` sees them as tasks do) and installs the operations that
 * `push`, `pull` and `execute` call. Call it once per thread, after
 * `installEngineContext`.
 *
 * @example
 * ```ts
 * import { installEngineContext } from "./engine_context.ts";
 * import { installNamespace } from "./namespace.ts";
 * installEngineContext({ engineId: 0, publishData() {} });
 * installNamespace(0);
 * ```
 */
export function installNamespace(engineId: number): void {
  if (installed) return;
  installed = true;
  // A script's const declarations are global lexical bindings: visible to
  // all later code and not assignable, and not properties of globalThis.
  vm.runInThisContext(
    "const { engineId, publishData } = " +
      'globalThis[Symbol.for("troupe.engine.context")];',
    { filename: "troupe-engine-globals" },
  );
  const namespace: EngineNamespace = {
    push: (values) => push(values, engineId),
    pull: (names) => names.map((name) => read(name, engineId)),
    execute: (code) => execute(code),
  };
  (globalThis as Record<symbol, unknown>)[Symbol.for(NAMESPACE_KEY)] =
    namespace;
}

const indirectEval = eval;

/** Setters of global lexical bindings, by name: compiled once each. */
const setters = new Map<string, (value: unknown) => void>();

function push(values: Record<string, unknown>, engineId: number): void {
  for (const [name, value] of Object.entries(values)) {
    if (!isLexical(name)) {
      (globalThis as Record<string, unknown>)[name] = value;
      continue;
    }
    // A name that execute declared with let: assigned where tasks see it.
    let set = setters.get(name);
    if (!set) {
      set = indirectEval(`(value) => { ${name} = value; }`) as (
        value: unknown,
      ) => void;
      setters.set(name, set);
    }
    try {
      set(value);
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
      if (ENGINE_CONSTANTS.has(name)) {
        throw new TypeError(`${name} ${TAKEN} for the value pushed.`);
      }
      throw new TypeError(
        `"${name}" is a const on engine ${engineId} (declared by code run ` +
          "with execute), so push cannot change it. Declare it with let or " +
          "var if it must change.",
      );
    }
  }
}

/** Whether `name` is a global declared with let, const or class. */
function isLexical(name: string): boolean {
  if (name in globalThis || !isName(name)) return false;
  try {
    indirectEval(name);
    return true;
  } catch (error) {
    // Declared, but its declaration has not run (TDZ).
    return error instanceof ReferenceError &&
      /before initialization/.test(error.message);
  }
}

function isName(name: string): boolean {
  return IDENTIFIER.test(name) && !NOT_NAMES.has(name);
}

/**
 * What a task on this engine sees under `name`: a property of globalThis or
 * a global `let`/`const`. A name that is not an identifier can only be a
 * property.
 */
function read(name: string, engineId: number): unknown {
  if (isName(name)) {
    try {
      return indirectEval(name);
    } catch (error) {
      if (error instanceof ReferenceError) {
        if (/before initialization/.test(error.message)) {
          throw new ReferenceError(
            `"${name}" is declared on engine ${engineId} but has no value: ` +
              "the code that declares it failed before reaching its " +
              "declaration. Run that code again.",
          );
        }
      } else if (!(error instanceof SyntaxError)) throw error;
    }
  } else if (name in globalThis) {
    return (globalThis as Record<string, unknown>)[name];
  }
  throw new ReferenceError(
    `"${name}" is not defined on engine ${engineId}: push it or define it first`,
  );
}

let executions = 0;

function execute(code: string): void | Promise<void> {
  const filename = `${SOURCE_PREFIX}-${++executions}`;
  const options = {
    filename,
    // Dynamic import() from the code: npm:, jsr:, https: and file: URLs,
    // and paths relative to the engine's working directory.
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  };
  if (!/\bawait\b|\bimport\b|\bexport\b/.test(code)) {
    try {
      vm.runInThisContext(code, options);
      return;
    } catch (error) {
      return explain(error, code, filename).then((e) => Promise.reject(e));
    }
  }
  return (async () => {
    try {
      const script = await asyncScript(code);
      if (script === undefined) vm.runInThisContext(code, options);
      else await vm.runInThisContext(script, options);
    } catch (error) {
      throw await explain(error, code, filename);
    }
  })();
}

/** Names the line of the code that failed, and explains what helps. */
async function explain(
  error: unknown,
  code: string,
  filename: string,
): Promise<unknown> {
  if (!(error instanceof Error)) return error;
  const frame = new RegExp(`\\b${filename}:(\\d+):\\d+`);
  let line = frame.exec(String(error.stack))?.[1];
  if (error instanceof SyntaxError && line === undefined) {
    const found = await findSyntaxError(code);
    if (found) {
      line = String(found.line);
      // V8 stops at the first await it cannot take; the parser, which
      // takes top-level await, finds the error that stopped the code.
      if (/\bawait\b/.test(error.message)) error.message = found.message;
    }
  }
  const redeclared = error instanceof SyntaxError &&
    /^Identifier '(.+)' has already been declared$/.exec(error.message)?.[1];
  // A clash of declarations is found before the code runs, at its start:
  // its frame's line is not the declaration's, and the name says enough.
  if (line && !redeclared) {
    error.message += ` (line ${line} of the executed code)`;
  }
  if (redeclared && ENGINE_CONSTANTS.has(redeclared)) {
    error.message += `. ${redeclared} ${TAKEN}`;
  } else if (redeclared) {
    error.message += `. Code run by execute declares its names in the ` +
      `engine's global scope, where a name declared with let, const or ` +
      `class by earlier code stays declared: assign ${redeclared} instead ` +
      `(${redeclared} = ...), or declare it with var if code is run again`;
  }
  return error;
}
