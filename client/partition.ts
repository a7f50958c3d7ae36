/**
 * Splitting sequences across engines and joining them back, as
 * ipyparallel's `scatter`, `gather` and `map` do.
 *
 * @module
 */

import type { TaskFunction } from "./task_function.ts";

/**
 * Arrays and typed arrays: what can be scattered and mapped over. Not a
 * string (`& object` keeps primitives out), which the views refuse: map
 * over its characters as `[...text]`.
 */
export type Sequence<T = unknown> = ArrayLike<T> & Iterable<T> & object;

/**
 * The sequences a map of `F` takes: one per parameter of `F`, each of that
 * parameter's type (`fn(a[i], b[i])`). A function of no parameters (one
 * that ignores its items) may map over any sequences.
 *
 * @example
 * ```ts
 * import type { MapSequences } from "@troupe/parallel";
 * const seqs: MapSequences<(x: number, s: string) => void> = [[1], ["a"]];
 * ```
 */
export type MapSequences<F extends TaskFunction> = Parameters<F> extends []
  ? [Sequence, ...Sequence[]]
  : Parameters<F> extends infer P extends unknown[]
    ? { [K in keyof P]: Sequence<P[K]> }
  : never;

/**
 * What a map of `F` takes after the function: its sequences, then
 * optionally an options object.
 *
 * @example
 * ```ts
 * import type { MapArguments } from "@troupe/parallel";
 * type Add = (a: number, b: number) => number;
 * const args: MapArguments<Add, { chunkSize?: number }> = [[1], [2], { chunkSize: 1 }];
 * ```
 */
export type MapArguments<F extends TaskFunction, O> =
  | MapSequences<F>
  | [...MapSequences<F>, O];

/**
 * Whether `value` is an options object rather than a sequence: a plain
 * object (made by `{}` or `Object.create(null)`) that is neither array-like
 * nor iterable. Anything else after a map's function is a sequence.
 *
 * @example
 * ```ts
 * import { isOptionsObject } from "./partition.ts";
 * console.log(isOptionsObject({ chunkSize: 2 }), isOptionsObject([1, 2])); // true false
 * ```
 */
export function isOptionsObject(value: unknown): value is object {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  return !("length" in value) && !(Symbol.iterator in value);
}

/**
 * `[start, end)` bounds of `parts` contiguous pieces of `length` items, the
 * first pieces one longer when it does not divide evenly.
 *
 * @example
 * ```ts
 * import { bounds } from "./partition.ts";
 * console.log(bounds(5, 2)); // [[0, 3], [3, 5]]
 * ```
 */
export function bounds(length: number, parts: number): [number, number][] {
  const base = Math.floor(length / parts);
  const extra = length % parts;
  const out: [number, number][] = [];
  let start = 0;
  for (let i = 0; i < parts; i++) {
    const end = start + base + (i < extra ? 1 : 0);
    out.push([start, end]);
    start = end;
  }
  return out;
}

/** Map chunks per engine: enough to stream results, few enough to be cheap. */
const CHUNKS_PER_ENGINE = 4;

/**
 * How a direct view's map of `length` items splits over `engineIds`: each
 * engine's contiguous part, cut into a few chunks (one task each), in
 * order.
 *
 * @example
 * ```ts
 * import { mapChunks } from "./partition.ts";
 * console.log(mapChunks(5, [0, 1]));
 * // [{ engineId: 0, start: 0, end: 1 }, ..., { engineId: 1, start: 4, end: 5 }]
 * ```
 */
export function mapChunks(
  length: number,
  engineIds: number[],
): { engineId: number; start: number; end: number }[] {
  const chunks: { engineId: number; start: number; end: number }[] = [];
  bounds(length, engineIds.length).forEach(([start, end], i) => {
    const pieces = Math.min(CHUNKS_PER_ENGINE, end - start);
    for (const [a, b] of bounds(end - start, pieces)) {
      chunks.push({ engineId: engineIds[i], start: start + a, end: start + b });
    }
  });
  return chunks;
}

/**
 * Items `start` to `end` of `seq`: a typed array stays a typed array.
 *
 * @example
 * ```ts
 * import { slice } from "./partition.ts";
 * console.log(slice(new Float64Array([1, 2, 3]), 1, 3)); // Float64Array [2, 3]
 * ```
 */
export function slice<T>(
  seq: Sequence<T>,
  start: number,
  end: number,
): Sequence<T> {
  if (ArrayBuffer.isView(seq)) {
    return (seq as unknown as { subarray(a: number, b: number): Sequence<T> })
      .subarray(start, end);
  }
  return Array.prototype.slice.call(seq, start, end) as T[];
}

/**
 * Checks that `seq` can be split: an array or a typed array.
 *
 * @example
 * ```ts
 * import { checkSequence } from "./partition.ts";
 * checkSequence([1, 2], "scatter");
 * ```
 */
export function checkSequence(seq: unknown, what: string): Sequence {
  const ok = Array.isArray(seq) ||
    (ArrayBuffer.isView(seq) && !(seq instanceof DataView));
  if (!ok) {
    const type = seq === null ? "null" : typeof seq;
    throw new TypeError(
      `${what} takes an array or a typed array, got ${type}` +
        (typeof seq === "string"
          ? ": to go over a string's characters, pass [...text]"
          : typeof seq === "object" && seq !== null
          ? ` (${seq.constructor?.name})`
          : ""),
    );
  }
  return seq as Sequence;
}

/**
 * Joins the parts that `scatter` made: typed arrays of one type into one
 * typed array, anything else into one array. A part that is not a sequence
 * is an error that names its engine.
 *
 * @example
 * ```ts
 * import { concatParts } from "./partition.ts";
 * console.log(concatParts([[1], [2, 3]], [0, 1], "x")); // [1, 2, 3]
 * ```
 */
export function concatParts(
  parts: unknown[],
  engineIds: number[],
  name: string,
): unknown {
  parts.forEach((part, i) => {
    try {
      checkSequence(part, "gather");
    } catch {
      throw new TypeError(
        `cannot gather "${name}": on engine ${engineIds[i]} it is not an ` +
          "array or typed array",
      );
    }
  });
  const first = parts[0];
  const sameTyped = ArrayBuffer.isView(first) &&
    parts.every((p) => p?.constructor === first.constructor);
  if (sameTyped) {
    const Ctor = first.constructor as new (n: number) => {
      set(a: ArrayLike<unknown>, at: number): void;
    };
    const total = parts.reduce<number>(
      (n, p) => n + (p as ArrayLike<unknown>).length,
      0,
    );
    const out = new Ctor(total);
    let at = 0;
    for (const part of parts as ArrayLike<unknown>[]) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }
  return parts.flatMap((p) => Array.from(p as ArrayLike<unknown>));
}

/**
 * The common length of map's sequences; they must be of equal length.
 *
 * @example
 * ```ts
 * import { checkColumns } from "./partition.ts";
 * console.log(checkColumns([[1, 2], [3, 4]])); // 2
 * ```
 */
export function checkColumns(seqs: Sequence[]): number {
  if (seqs.length === 0) {
    throw new TypeError("map needs at least one sequence to map over");
  }
  seqs.forEach((seq) => checkSequence(seq, "map"));
  const length = seqs[0].length;
  if (seqs.some((seq) => seq.length !== length)) {
    throw new RangeError(
      `map's sequences must be of equal length, got ${
        seqs.map((s) => s.length).join(", ")
      }`,
    );
  }
  return length;
}
