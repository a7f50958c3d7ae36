/**
 * Back-references for the codec: how one object reached twice (shared by
 * two places, or a cycle) crosses msgpack as one object, as structured
 * clone carries it to a Worker engine.
 *
 * The encoder writes the first occurrence of such an object wrapped in ext
 * type 9 (`shared`, numbered in order of appearance) and every later one
 * as ext type 10 (`ref`, that number); see PROTOCOL.md. A `ref` met while
 * its object is still being decoded (a cycle) decodes to a placeholder,
 * which `relink` replaces once the whole value is decoded.
 *
 * @module
 */

/**
 * The objects that `value` reaches more than once, walking it as the codec
 * encodes it: own enumerable keys of plain objects, array items, `Map`
 * keys and values, `Set` items, an `Error`'s `cause` and an
 * `AggregateError`'s `errors`. Empty for a tree.
 *
 * @example
 * ```ts
 * import { sharedObjects } from "./shared_values.ts";
 * const point = { x: 1 };
 * console.log(sharedObjects([point, point, { y: 2 }]).has(point)); // true
 * ```
 */
export function sharedObjects(value: unknown): Set<object> {
  const seen = new Set<object>();
  const shared = new Set<object>();
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item !== "object" || item === null) continue;
    if (seen.has(item)) {
      shared.add(item);
      continue;
    }
    seen.add(item);
    // Children go on in reverse, so the walk meets them in encoding order
    // (which only matters for speed here: sharing is order-free).
    const children = childrenOf(item);
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  }
  return shared;
}

/** What the codec encodes inside `object`, in order. */
function childrenOf(object: object): unknown[] {
  if (Array.isArray(object)) return object;
  if (ArrayBuffer.isView(object)) return [];
  if (object instanceof Map) return [...object].flat();
  if (object instanceof Set) return [...object];
  if (object instanceof Error) {
    const out: unknown[] = [];
    if ("cause" in object) out.push(object.cause);
    if (object instanceof AggregateError) out.push(object.errors);
    return out;
  }
  const proto = Object.getPrototypeOf(object);
  if (proto !== Object.prototype && proto !== null) return [];
  return Object.values(object);
}

/**
 * Stands for the shared object numbered `index` while that object is still
 * being decoded; `relink` swaps it for the object.
 *
 * @example
 * ```ts
 * import { Placeholder } from "./shared_values.ts";
 * console.log(new Placeholder(0).index); // 0
 * ```
 */
export class Placeholder {
  /** The shared object's number in its frame. */
  readonly index: number;

  /** Stands for shared object `index`. */
  constructor(index: number) {
    this.index = index;
  }
}

/**
 * Replaces every `Placeholder` reachable from `value` by `shared[index]`,
 * in place (a `Map` or `Set` that held one is refilled in its order), and
 * returns `value`. Throws a `RangeError` if a placeholder's object never
 * arrived.
 *
 * @example
 * ```ts
 * import { Placeholder, relink } from "./shared_values.ts";
 * const ring: Record<string, unknown> = { self: new Placeholder(0) };
 * relink(ring, [ring]);
 * console.log(ring.self === ring); // true
 * ```
 */
export function relink(value: unknown, shared: readonly unknown[]): unknown {
  const resolve = (item: unknown): unknown => {
    if (!(item instanceof Placeholder)) return item;
    const object = shared[item.index];
    if (typeof object !== "object" || object === null) {
      throw new RangeError(
        `a back-reference (ext 10) names shared value ${item.index}, ` +
          "which the frame never completed",
      );
    }
    return object;
  };
  const done = new Set<object>();
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const object = stack.pop();
    if (typeof object !== "object" || object === null || done.has(object)) {
      continue;
    }
    done.add(object);
    if (object instanceof Placeholder || ArrayBuffer.isView(object)) continue;
    if (Array.isArray(object)) {
      for (let i = 0; i < object.length; i++) {
        stack.push(object[i] = resolve(object[i]));
      }
    } else if (object instanceof Map) {
      const entries = [...object].map(([k, v]) => [resolve(k), resolve(v)]);
      object.clear();
      for (const [k, v] of entries) object.set(k, v), stack.push(k, v);
    } else if (object instanceof Set) {
      const items = [...object].map(resolve);
      object.clear();
      for (const item of items) object.add(item), stack.push(item);
    } else if (object instanceof Error) {
      if ("cause" in object) stack.push(object.cause = resolve(object.cause));
      if (object instanceof AggregateError) stack.push(object.errors);
    } else if (Object.getPrototypeOf(object) === Object.prototype) {
      const record = object as Record<string, unknown>;
      for (const key of Object.keys(record)) {
        stack.push(record[key] = resolve(record[key]));
      }
    }
  }
  return value;
}

const BEGUN = Symbol("begun");

/**
 * One frame's shared objects while it is decoded: ext 9 numbers and keeps
 * each, ext 10 names one again (a placeholder while it is still being
 * decoded, a cycle), and `relink` fills the placeholders in at the end.
 *
 * @example
 * ```ts
 * import { SharedDecoding } from "./shared_values.ts";
 * const sharing = new SharedDecoding();
 * const n = new Uint8Array(4); // shared value 0
 * const point = sharing.shared(n, () => ({ x: 1 }));
 * console.log(sharing.ref(n) === point); // true
 * ```
 */
export class SharedDecoding {
  /** Shared objects by number; `BEGUN` while one is decoded. */
  #objects: unknown[] = [];
  /** One placeholder per shared object met again inside itself. */
  #placeholders: Placeholder[] | undefined;

  /** Ext 9: shared object n (4 bytes), then its own encoding. */
  shared(data: Uint8Array, decode: (bytes: Uint8Array) => unknown): unknown {
    const n = indexIn(data, "a shared value (ext 9)");
    const shared = this.#objects;
    if (n !== shared.length) {
      throw new RangeError(
        `shared value ${n} came where shared value ${shared.length} was next`,
      );
    }
    shared.push(BEGUN);
    const value = decode(data.subarray(4));
    if (typeof value !== "object" || value === null) {
      throw new RangeError(`shared value ${n} is not an object`);
    }
    shared[n] = value;
    return value;
  }

  /** Ext 10: shared object n again (4 bytes). */
  ref(data: Uint8Array): unknown {
    const n = indexIn(data, "a back-reference (ext 10)");
    if (data.byteLength !== 4) {
      throw new RangeError("a back-reference (ext 10) must be 4 bytes");
    }
    const object = this.#objects[n];
    if (object === undefined) {
      throw new RangeError(
        `a back-reference (ext 10) names shared value ${n}, which the ` +
          "frame has not begun",
      );
    }
    if (object !== BEGUN) return object;
    this.#placeholders ??= [];
    return this.#placeholders[n] ??= new Placeholder(n);
  }

  /** The whole decoded `value`, with its placeholders filled in. */
  relink(value: unknown): unknown {
    return this.#placeholders ? relink(value, this.#objects) : value;
  }
}

function indexIn(data: Uint8Array, what: string): number {
  if (data.byteLength < 4) {
    throw new RangeError(`${what} must begin with a 4-byte number`);
  }
  return new DataView(data.buffer, data.byteOffset, 4).getUint32(0);
}
