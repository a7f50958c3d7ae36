/**
 * Which values can cross between the client and an engine: one answer for
 * both transports, structured clone to Worker engines and msgpack
 * (`codec.ts`) to engine processes.
 *
 * Left alone, the two lose what they cannot carry in different ways: a
 * class instance arrives without its prototype (`p.norm is not a
 * function`), msgpack writes an `AbortSignal` or a `Response` as `{}`, and
 * structured clone throws an error that names no path. So values are walked
 * once where they are handed over, and what would not arrive as it left is
 * refused with its path, what it is, and what to do instead.
 *
 * @module
 */

/**
 * What crosses, in words, for error messages and the README.
 *
 * @example
 * ```ts
 * import { CROSSES } from "./crossable.ts";
 * console.log(`values that cross: ${CROSSES}`);
 * ```
 */
export const CROSSES: string = "numbers, strings, booleans, null, " +
  "undefined, bigints, plain objects and arrays, Map, Set, Date, RegExp, " +
  "Error, ArrayBuffer, typed arrays and DataView";

/**
 * The deepest nesting that crosses, to either kind of engine: a value may
 * sit inside at most this many objects, arrays, Maps, Sets and errors.
 * Deeper values are refused where they are handed over, so that both kinds
 * take the same values (structured clone takes any depth, msgpack's
 * default stops at 100). 256 is far beyond data's usual depth and within
 * every thread's stack with room to spare: Maps, the costliest level to
 * encode, run out of stack near 650 levels.
 */
export const MAX_DEPTH = 256;

/**
 * How far below a message's top the values it carries sit: a map chunk's
 * items are at `run.args[column][row]`, a pushed value at
 * `run.args[0][name]`.
 *
 * @example
 * ```ts
 * import { MAX_DEPTH, MESSAGE_DEPTH } from "./crossable.ts";
 * console.log(`a message nests at most ${MAX_DEPTH + MESSAGE_DEPTH} levels`);
 * ```
 */
export const MESSAGE_DEPTH = 4;

/**
 * What the transport can carry beyond the values every engine takes. Only
 * shared memory differs: cycles and shared objects cross both ways
 * (structured clone to a Worker, back-references in `codec.ts` to a
 * process), and one depth limit, `MAX_DEPTH`, holds for both.
 *
 * @example
 * ```ts
 * import type { CrossingRules } from "./crossable.ts";
 * import { MAX_DEPTH } from "./crossable.ts";
 * const threads: CrossingRules = { sharedMemory: true, maxDepth: MAX_DEPTH };
 * ```
 */
export interface CrossingRules {
  /** A `SharedArrayBuffer` is shared as it is (a thread of this process). */
  sharedMemory: boolean;
  /** How deep a value may nest (`MAX_DEPTH`, or more for a message). */
  maxDepth: number;
}

/**
 * What may be handed to some engine: a Worker engine can take all of it.
 * What only an engine process refuses (a `SharedArrayBuffer`) is refused
 * by the codec when the message is sent.
 *
 * @example
 * ```ts
 * import { ANY_ENGINE, checkCrossable } from "./crossable.ts";
 * checkCrossable([1, { a: new Float64Array(3) }], "argument 1", ANY_ENGINE);
 * ```
 */
export const ANY_ENGINE: CrossingRules = {
  sharedMemory: true,
  maxDepth: MAX_DEPTH,
};

/**
 * What may be handed to an engine process: no shared memory.
 *
 * @example
 * ```ts
 * import { checkCrossable, ENGINE_PROCESS } from "./crossable.ts";
 * checkCrossable(new Int32Array(new SharedArrayBuffer(4)), "argument 1", ENGINE_PROCESS);
 * ```
 */
export const ENGINE_PROCESS: CrossingRules = {
  sharedMemory: false,
  maxDepth: MAX_DEPTH,
};

/**
 * What msgpack frames (`codec.ts`) carry: no shared memory. The codec
 * checks whole messages, whose envelope (`{ t: "run", args: [...] }`, a map
 * chunk's columns, a push's namespace) holds the values checked at the call
 * up to `MESSAGE_DEPTH` levels down.
 *
 * @example
 * ```ts
 * import { checkCrossable, OVER_MSGPACK } from "./crossable.ts";
 * checkCrossable({ t: "pong" }, "the message", OVER_MSGPACK);
 * ```
 */
export const OVER_MSGPACK: CrossingRules = {
  sharedMemory: false,
  maxDepth: MAX_DEPTH + MESSAGE_DEPTH,
};

/**
 * Throws a `TypeError` if `value` cannot cross under `rules`. `where` names
 * the value for the message (e.g. `"argument 2"`); the path inside it is
 * added.
 *
 * @example
 * ```ts
 * import { checkCrossable } from "./crossable.ts";
 * try {
 *   checkCrossable({ signal: AbortSignal.timeout(10) }, "argument 1");
 * } catch (error) {
 *   console.log((error as Error).message); // argument 1, at .signal, is an AbortSignal ...
 * }
 * ```
 */
export function checkCrossable(
  value: unknown,
  where: string,
  rules: CrossingRules = ANY_ENGINE,
): void {
  // Most values are a few numbers: answer them without setting up a walk.
  const type = typeof value;
  if (type !== "object" && type !== "function" && type !== "symbol") return;
  if (value === null) return;
  const refusal = refusalOf(value, rules);
  if (refusal) throw crossingError(refusal, where);
}

/** Why a value cannot cross; `path` is built as the walk unwinds. */
interface Refusal {
  what: string;
  advice: string;
  /** Innermost segment first. */
  path: string[];
}

/**
 * Walks a first time without tracking objects, which costs nothing for the
 * small values most tasks take; values that are deep or big (or cyclic,
 * which looks deep) are walked again with every object tracked.
 */
const UNTRACKED_DEPTH = 32;
const UNTRACKED_OBJECTS = 1_000_000;

interface Walk {
  rules: CrossingRules;
  seen: Set<object> | undefined;
  objects: number;
}

const RETRACK = Symbol("retrack");

function refusalOf(value: unknown, rules: CrossingRules): Refusal | undefined {
  const walk: Walk = { rules, seen: undefined, objects: 0 };
  try {
    return visit(value, 0, walk);
  } catch (error) {
    if (error !== RETRACK) throw error;
  }
  walk.seen = new Set();
  return visit(value, 0, walk);
}

function visit(value: unknown, depth: number, walk: Walk): Refusal | undefined {
  const type = typeof value;
  if (type === "function") return functionRefusal(value as object);
  if (type === "symbol") {
    return refusal("a symbol", "Pass a string (its description) instead.");
  }
  if (depth > walk.rules.maxDepth) return tooDeep(walk.rules.maxDepth);
  if (type !== "object" || value === null) return undefined;
  const object = value as object;
  const proto = Object.getPrototypeOf(object);
  let inside: typeof visitObject;
  if (proto === Object.prototype || proto === null) inside = visitObject;
  else if (proto === Array.prototype) inside = visitArray;
  else if (ArrayBuffer.isView(object)) return undefined; // Never walk numbers.
  else if (proto === Map.prototype) inside = visitMap;
  else if (proto === Set.prototype) inside = visitSet;
  else if (
    proto === Date.prototype || proto === RegExp.prototype ||
    proto === ArrayBuffer.prototype
  ) {
    return undefined;
  } else if (proto === SharedArrayBuffer.prototype) {
    return walk.rules.sharedMemory ? undefined : sharedRefusal();
  } else if (object instanceof Error) inside = visitError;
  else return objectRefusal(object);
  const seen = walk.seen;
  if (seen === undefined) {
    if (depth > UNTRACKED_DEPTH || ++walk.objects > UNTRACKED_OBJECTS) {
      throw RETRACK;
    }
    return inside(object, depth, walk);
  }
  // Met again, inside itself (a cycle) or elsewhere: it crosses as one
  // object (`codec.ts` refers back to it), so its inside is checked once,
  // where the encoder writes it (both walk in the same order).
  if (seen.has(object)) return undefined;
  seen.add(object);
  return inside(object, depth, walk);
}

function visitObject(
  object: object,
  depth: number,
  walk: Walk,
): Refusal | undefined {
  const record = object as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const found = visit(record[key], depth + 1, walk);
    if (found) return at(found, propertySegment(key));
  }
  return undefined;
}

function visitArray(
  object: object,
  depth: number,
  walk: Walk,
): Refusal | undefined {
  const array = object as unknown[];
  // Items are skipped below when primitive, but msgpack counts them too.
  if (depth >= walk.rules.maxDepth && array.length > 0) {
    return at(tooDeep(walk.rules.maxDepth), "[0]");
  }
  for (let i = 0; i < array.length; i++) {
    const item = array[i];
    // Primitives are most items: skip the call for them.
    if (typeof item !== "object" && typeof item !== "function") {
      if (typeof item !== "symbol") continue;
    }
    const found = visit(item, depth + 1, walk);
    if (found) return at(found, `[${i}]`);
  }
  return undefined;
}

function visitMap(
  object: object,
  depth: number,
  walk: Walk,
): Refusal | undefined {
  const map = object as Map<unknown, unknown>;
  for (const [key, item] of map) {
    const inKey = visit(key, depth + 1, walk);
    if (inKey) return at(inKey, " (a Map key)");
    const found = visit(item, depth + 1, walk);
    if (found) return at(found, `.get(${keyText(key)})`);
  }
  return undefined;
}

function visitSet(
  object: object,
  depth: number,
  walk: Walk,
): Refusal | undefined {
  const set = object as Set<unknown>;
  for (const item of set) {
    const found = visit(item, depth + 1, walk);
    if (found) return at(found, " (a Set item)");
  }
  return undefined;
}

/** What the codec and structured clone keep of an error besides its text. */
function visitError(
  object: object,
  depth: number,
  walk: Walk,
): Refusal | undefined {
  const error = object as Error;
  if ("cause" in error) {
    const found = visit(error.cause, depth + 1, walk);
    if (found) return at(found, ".cause");
  }
  if (error instanceof AggregateError) {
    const found = visit(error.errors, depth + 1, walk);
    if (found) return at(found, ".errors");
  }
  return undefined;
}

function at(found: Refusal, segment: string): Refusal {
  found.path.push(segment);
  return found;
}

function refusal(what: string, advice: string): Refusal {
  return { what, advice, path: [] };
}

/** Past this many steps a path shows its ends and how many it skips. */
const PATH_STEPS = 24;

function crossingError(found: Refusal, where: string): TypeError {
  const steps = found.path.reverse();
  const path = steps.length <= PATH_STEPS
    ? steps.join("")
    : `${steps.slice(0, PATH_STEPS / 2).join("")}…(${
      steps.length - PATH_STEPS
    } more steps)…${steps.slice(-PATH_STEPS / 2).join("")}`;
  const subject = path ? `${where}, at ${path},` : where;
  return new TypeError(
    `${subject} is ${found.what}, which cannot cross between the client ` +
      `and an engine. ${found.advice} What crosses: ${CROSSES}.`,
  );
}

const FUNCTION_ADVICE = "Functions do not cross: define it inside the " +
  "shipped function, or export it from a module and run that with " +
  'moduleFunction(new URL("./mod.ts", import.meta.url), "name"), which ' +
  "the engines import themselves.";

function functionRefusal(fn: object): Refusal {
  const name = (fn as { name?: unknown }).name;
  const named = typeof name === "string" && name ? ` (${name})` : "";
  const isClass = /^class\b/.test(Function.prototype.toString.call(fn));
  return refusal(
    isClass ? `a class${named}` : `a function${named}`,
    FUNCTION_ADVICE,
  );
}

function objectRefusal(object: object): Refusal {
  if (object instanceof Promise) {
    return refusal(
      "a Promise",
      "Await it and pass its value, or start the work inside the task.",
    );
  }
  const ctor = constructorOf(object);
  const tag = Object.prototype.toString.call(object).slice(8, -1);
  const name = ctor?.name || tag;
  if (BOXED.has(ctor)) {
    return refusal(
      `${article(name)} ${name} object`,
      "Pass the primitive value instead (value.valueOf()).",
    );
  }
  if (isHostType(object, ctor, tag)) {
    return refusal(
      `${article(name)} ${name}`,
      "A resource (a socket, a file, a signal, a request or response, a " +
        "stream) belongs to the side that opened it: open or create it on " +
        "the engine, inside the task, and pass plain data (a URL, a path, " +
        "bytes) to get there.",
    );
  }
  const base = BUILT_INS.find((type) => object instanceof type);
  return refusal(
    ctor === Object
      ? "an object with a prototype of its own (Object.create)"
      : `an instance of class ${name}` +
        (base ? ` (a subclass of ${base.name})` : ""),
    "Class instances would arrive without their class (and its methods): " +
      "pass plain data (e.g. { ...value }) and rebuild the instance on the " +
      "engine, or run a moduleFunction whose module imports the class. " +
      "If it holds a resource (a socket, a file), open it on the engine.",
  );
}

function sharedRefusal(): Refusal {
  return refusal(
    "a SharedArrayBuffer",
    "Only Worker engines (threads of this process) share memory with the " +
      "client; an engine process cannot. Pass a typed array over it (its " +
      "bytes are copied) or an ArrayBuffer instead.",
  );
}

function tooDeep(limit: number): Refusal {
  return refusal(
    `nested more than ${limit} levels deep (troupe's limit, MAX_DEPTH, ` +
      "for every engine)",
    "Flatten it: e.g. a long linked list as an array, a deep tree as a " +
      "list of nodes that name their parent.",
  );
}

/** A constructor, as far as messages need one: its name. */
type Constructor = { readonly name: string };

function constructorOf(object: object): Constructor | undefined {
  try {
    const ctor = (object as { constructor?: unknown }).constructor;
    return typeof ctor === "function" ? ctor as Constructor : undefined;
  } catch {
    return undefined; // A getter that refuses to be read.
  }
}

const BOXED = new Set<unknown>([Number, String, Boolean, BigInt, Symbol]);

/** Types that cross, whose subclasses would arrive as the type itself. */
const BUILT_INS = [Map, Set, Array, Date, RegExp, ArrayBuffer];

/**
 * A type of the runtime rather than of the user: one of the globals (or of
 * `Deno`) under its own name, or one that tags itself for
 * `Object.prototype.toString`, as host objects do and user classes rarely
 * do (a subclass of a type that crosses inherits its tag).
 */
function isHostType(
  object: object,
  ctor: Constructor | undefined,
  tag: string,
): boolean {
  if (ctor === Object) return false;
  if (ctor !== undefined) {
    const scope = globalThis as Record<string, unknown>;
    const deno = Deno as unknown as Record<string, unknown>;
    if (scope[ctor.name] === ctor || deno[ctor.name] === ctor) return true;
  }
  return tag !== "Object" && !BUILT_INS.some((type) => object instanceof type);
}

function article(name: string): string {
  return /^[aeiou]/i.test(name) ? "an" : "a";
}

function propertySegment(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key)
    ? `.${key}`
    : `[${JSON.stringify(key)}]`;
}

function keyText(key: unknown): string {
  return typeof key === "string" ? JSON.stringify(key) : String(key);
}
