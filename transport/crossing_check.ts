/**
 * The check of a value against the crossing rules (`crossable.ts`): one walk
 * through it, in the order the codec writes it, that stops at the first
 * thing that would not arrive as it left and says where it is.
 *
 * @module
 */

import { ANY_ENGINE, type CrossingRules } from "./crossable.ts";
import {
  crossingError,
  functionRefusal,
  objectRefusal,
  type Refusal,
  refusal,
  sharedRefusal,
  tooDeep,
} from "./crossing_refusals.ts";

/**
 * Throws a `TypeError` if `value` cannot cross under `rules`. `where` names
 * the value for the message (e.g. `"argument 2"`); the path inside it is
 * added.
 *
 * @example
 * ```ts
 * import { checkCrossable } from "./crossing_check.ts";
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

function propertySegment(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key)
    ? `.${key}`
    : `[${JSON.stringify(key)}]`;
}

function keyText(key: unknown): string {
  return typeof key === "string" ? JSON.stringify(key) : String(key);
}
