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
 * What the transport can carry beyond the values every engine takes.
 *
 * @example
 * ```ts
 * import type { CrossingRules } from "./crossable.ts";
 * const threads: CrossingRules = { sharedMemory: true, cycles: true };
 * ```
 */
export interface CrossingRules {
  /** A `SharedArrayBuffer` is shared as it is (a thread of this process). */
  sharedMemory: boolean;
  /**
   * Cycles cross as cycles (structured clone); msgpack has no references,
   * and nests at most `MAX_DEPTH` levels.
   */
  cycles: boolean;
}

/**
 * What may be handed to some engine: a Worker engine can take all of it.
 * What only an engine process refuses (a `SharedArrayBuffer`, a cycle) is
 * refused by the codec when the message is sent.
 *
 * @example
 * ```ts
 * import { ANY_ENGINE, checkCrossable } from "./crossable.ts";
 * checkCrossable([1, { a: new Float64Array(3) }], "argument 1", ANY_ENGINE);
 * ```
 */
export const ANY_ENGINE: CrossingRules = { sharedMemory: true, cycles: true };

/**
 * What msgpack frames (`codec.ts`) carry: no shared memory, no cycles.
 *
 * @example
 * ```ts
 * import { checkCrossable, OVER_MSGPACK } from "./crossable.ts";
 * checkCrossable({ t: "pong" }, "the message", OVER_MSGPACK);
 * ```
 */
export const OVER_MSGPACK: CrossingRules = {
  sharedMemory: false,
  cycles: false,
};

/** msgpack's own nesting limit; deeper values are refused by it. */
export const MAX_DEPTH = 100;

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

/** An object the walk is inside of, or one it has finished. */
const ACTIVE = 1;
const DONE = 2;

/**
 * Walks a first time without tracking objects, which costs nothing for the
 * small values most tasks take; values that are deep or big (or cyclic,
 * which looks deep) are walked again with every object tracked.
 */
const UNTRACKED_DEPTH = 32;
const UNTRACKED_OBJECTS = 1_000_000;

interface Walk {
  rules: CrossingRules;
  seen: Map<object, number> | undefined;
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
  walk.seen = new Map();
  return visit(value, 0, walk);
}

function visit(value: unknown, depth: number, walk: Walk): Refusal | undefined {
  const type = typeof value;
  if (type === "function") return functionRefusal(value as object);
  if (type === "symbol") {
    return refusal("a symbol", "Pass a string (its description) instead.");
  }
  if (depth > MAX_DEPTH && !walk.rules.cycles) return tooDeep();
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
  const state = seen.get(object);
  if (state === DONE) return undefined;
  if (state === ACTIVE) return walk.rules.cycles ? undefined : cycleRefusal();
  seen.set(object, ACTIVE);
  const found = inside(object, depth, walk);
  seen.set(object, DONE);
  return found;
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
  if (depth >= MAX_DEPTH && !walk.rules.cycles && array.length > 0) {
    return at(tooDeep(), "[0]");
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

function crossingError(found: Refusal, where: string): TypeError {
  const path = found.path.reverse().join("");
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

function cycleRefusal(): Refusal {
  return refusal(
    "a reference back to an object that holds it (a cycle)",
    "An engine process cannot receive cyclic data (Worker engines can): " +
      "break the cycle, e.g. with ids instead of references.",
  );
}

function tooDeep(): Refusal {
  return refusal(
    `nested more than ${MAX_DEPTH} levels deep`,
    "An engine process cannot receive data that deep: flatten it.",
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
