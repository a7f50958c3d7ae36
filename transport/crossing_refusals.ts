/**
 * Why a value cannot cross between the client and an engine, in words: what
 * it is, where it sits, and what to do instead (`crossing_check.ts` finds
 * it; this says it).
 *
 * @module
 */

import { CROSSES } from "./crossable.ts";

/**
 * Why a value cannot cross; `path` is built as the walk unwinds.
 *
 * @example
 * ```ts
 * import type { Refusal } from "./crossing_refusals.ts";
 * const r: Refusal = { what: "a symbol", advice: "Pass a string.", path: [".s"] };
 * ```
 */
export interface Refusal {
  /** What the value is, with its article: "a Promise". */
  what: string;
  /** What to do instead, as sentences. */
  advice: string;
  /** Innermost segment first. */
  path: string[];
}

/**
 * A refusal with no path yet: what the value is, and what to do instead.
 *
 * @example
 * ```ts
 * import { crossingError, refusal } from "./crossing_refusals.ts";
 * const r = refusal("a symbol", "Pass a string (its description) instead.");
 * console.log(crossingError(r, "argument 1").message); // argument 1 is a symbol, ...
 * ```
 */
export function refusal(what: string, advice: string): Refusal {
  return { what, advice, path: [] };
}

/** Past this many steps a path shows its ends and how many it skips. */
const PATH_STEPS = 24;

/**
 * The `TypeError` a refusal becomes: where the value is (`where`, then the
 * path inside it), what it is, what to do, and what crosses.
 *
 * @example
 * ```ts
 * import { crossingError, tooDeep } from "./crossing_refusals.ts";
 * const r = tooDeep(256);
 * r.path.push("[0]", ".a"); // innermost first, as the walk unwinds
 * console.log(crossingError(r, "argument 1").message); // argument 1, at .a[0], is nested more than 256 levels deep ...
 * ```
 */
export function crossingError(found: Refusal, where: string): TypeError {
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

/**
 * A function or a class: they do not cross, a module does.
 *
 * @example
 * ```ts
 * import { functionRefusal } from "./crossing_refusals.ts";
 * console.log(functionRefusal(class Point {}).what); // a class (Point)
 * ```
 */
export function functionRefusal(fn: object): Refusal {
  const name = (fn as { name?: unknown }).name;
  const named = typeof name === "string" && name ? ` (${name})` : "";
  const isClass = /^class\b/.test(Function.prototype.toString.call(fn));
  return refusal(
    isClass ? `a class${named}` : `a function${named}`,
    FUNCTION_ADVICE,
  );
}

/**
 * The key under which an object of a class of troupe's that must not be
 * shipped (a `ValueRef` inside an argument) says why, as `{ what, advice }`:
 * a plainer refusal than a class instance's, since it names what to do.
 *
 * @example
 * ```ts
 * import { CROSSING_REFUSAL, objectRefusal } from "./crossing_refusals.ts";
 * class Handle {
 *   get [CROSSING_REFUSAL]() {
 *     return { what: "a Handle", advice: "Pass its id instead." };
 *   }
 * }
 * console.log(objectRefusal(new Handle()).what); // a Handle
 * ```
 */
export const CROSSING_REFUSAL: unique symbol = Symbol("troupe.refusal");

/**
 * An object of a type that does not cross: a Promise, a boxed primitive, a
 * resource of the runtime, or an instance of a class.
 *
 * @example
 * ```ts
 * import { objectRefusal } from "./crossing_refusals.ts";
 * console.log(objectRefusal(new URL("https://example.com")).what); // a URL
 * ```
 */
export function objectRefusal(object: object): Refusal {
  if (object instanceof Promise) {
    return refusal(
      "a Promise",
      "Await it and pass its value, or start the work inside the task.",
    );
  }
  const own = (object as { [CROSSING_REFUSAL]?: Omit<Refusal, "path"> })[
    CROSSING_REFUSAL
  ];
  if (own !== undefined) return refusal(own.what, own.advice);
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

/**
 * A `SharedArrayBuffer`, to an engine that shares no memory.
 *
 * @example
 * ```ts
 * import { sharedRefusal } from "./crossing_refusals.ts";
 * console.log(sharedRefusal().what); // a SharedArrayBuffer
 * ```
 */
export function sharedRefusal(): Refusal {
  return refusal(
    "a SharedArrayBuffer",
    "Only Worker engines (threads of this process) share memory with the " +
      "client; an engine process cannot. Pass a typed array over it (its " +
      "bytes are copied) or an ArrayBuffer instead.",
  );
}

/**
 * A value nested deeper than `limit`.
 *
 * @example
 * ```ts
 * import { tooDeep } from "./crossing_refusals.ts";
 * console.log(tooDeep(256).what); // nested more than 256 levels deep ...
 * ```
 */
export function tooDeep(limit: number): Refusal {
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
