/**
 * Moving typed arrays between threads fast.
 *
 * Two facts of Deno 2.9 shape this module. Structured clone copies a large
 * array far more slowly than a memcpy plus a transfer. And a
 * `node:worker_threads` Worker walks every typed array it receives element by
 * element (about 1 s for 80 MB, whether cloned, transferred or shared),
 * while a bare `ArrayBuffer` crosses in milliseconds. So typed arrays above a
 * small size travel as a private copy of their bytes, boxed as a plain
 * `ArrayBuffer`, and are rebuilt on arrival.
 *
 * @module
 */

import { isGiven } from "./given_buffers.ts";
import { takeSpare } from "./spare_buffers.ts";
import { TYPED_ARRAYS } from "./typed_arrays.ts";

/** Views at least this large are copied, boxed and transferred. */
export const TRANSFER_THRESHOLD_BYTES = 4 * 1024;

/** How many values one message is searched through for large arrays. */
const WALK_BUDGET = 4096;

/** Marks a message that holds boxed arrays, so others are not walked. */
const PACKED = "__troupe_packed__";
/** Marks one boxed typed array. */
const BOXED = "__troupe_view__";

/** Views by type name: the typed arrays, and DataView. */
const VIEW_TYPES: Record<string, new (buffer: ArrayBuffer) => ArrayBufferView> =
  Object.fromEntries(
    [...TYPED_ARRAYS, DataView].map((Ctor) => [Ctor.name, Ctor]),
  );

interface Boxed {
  [BOXED]: string;
  buffer: ArrayBuffer;
  /**
   * The view's byte offset and length in `buffer`, when `buffer` was given
   * away whole (`given_buffers.ts`) rather than copied to fit the view.
   */
  at?: [number, number];
}

/**
 * Prepares `message` for `postMessage` to or from an engine thread: every
 * large typed array becomes a boxed private copy whose buffer is transferred.
 * The caller's arrays are never detached, because only the copies made here
 * are transferred. Plain objects and arrays are searched (up to a budget);
 * containers on the way to a copy are rebuilt, the rest is shared. Undo with
 * `unpackMessage` on the other side.
 *
 * @example
 * ```ts
 * import { packMessage, unpackMessage } from "./transferables.ts";
 * const big = new Float64Array(1 << 20);
 * const { value, transfer } = packMessage({ args: [big] });
 * console.log(transfer.length, big.length); // 1 1048576: big is intact
 * console.log(unpackMessage(value));
 * ```
 */
export function packMessage<T>(
  message: T,
): { value: T; transfer: ArrayBuffer[] } {
  if (plainAndSmall(message, 0)) return { value: message, transfer: [] };
  const walk: Walk = { transfer: [], seen: new Map(), left: WALK_BUDGET };
  const value = pack(message, walk) as T;
  // Without boxes there is nothing to rebuild on arrival (small views may
  // still have been replaced by copies of their own bytes).
  if (walk.transfer.length === 0) return { value, transfer: [] };
  return { value: { [PACKED]: value } as T, transfer: walk.transfer };
}

/** How deep the quick look of `plainAndSmall` goes before it gives up. */
const QUICK_DEPTH = 4;

/**
 * Whether `value` holds nothing that `pack` would change: no view and no
 * buffer within a few levels of plain objects and arrays, nothing else that
 * is an object. Most messages (a task's run and done, a ping) are such, and
 * this answers them without the walk's maps, which a message per task
 * would otherwise allocate; anything deeper or stranger takes the walk.
 */
function plainAndSmall(value: unknown, depth: number): boolean {
  if (value === null || typeof value !== "object") return true;
  if (depth >= QUICK_DEPTH) return false;
  if (Array.isArray(value)) {
    if (value.length > 16) return false;
    for (const item of value) {
      if (!plainAndSmall(item, depth + 1)) return false;
    }
    return true;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  let keys = 0;
  for (const key in value) {
    if (++keys > 16) return false;
    const item = (value as Record<string, unknown>)[key];
    if (!plainAndSmall(item, depth + 1)) return false;
  }
  return true;
}

/** One `packMessage` call's state. */
interface Walk {
  transfer: ArrayBuffer[];
  /** What each visited object became, so that shared ones stay shared. */
  seen: Map<object, unknown>;
  left: number;
}

/**
 * Rebuilds the typed arrays that `packMessage` boxed; any other message is
 * returned as it is.
 *
 * @example
 * ```ts
 * import { packMessage, unpackMessage } from "./transferables.ts";
 * const { value } = packMessage({ a: new Float64Array(4096) });
 * console.log(unpackMessage(value)); // { a: Float64Array(4096) [...] }
 * ```
 */
export function unpackMessage<T>(message: T): T {
  if (message === null || typeof message !== "object") return message;
  const packed = (message as Record<string, unknown>)[PACKED];
  if (packed === undefined) return message;
  return unpack(packed) as T;
}

function pack(value: unknown, walk: Walk): unknown {
  const changes = new Map<object, boolean>();
  if (!changed(value, walk, changes)) return value;
  return rebuild(value, walk, changes);
}

/** Whether `value` holds a view that `packView` replaces (memoised). */
function changed(
  value: unknown,
  walk: Walk,
  memo: Map<object, boolean>,
): boolean {
  if (value === null || typeof value !== "object") return false;
  const known = memo.get(value);
  if (known !== undefined) return known;
  if (--walk.left < 0) return false;
  // Cloning refuses a detached buffer; said here, the caller hears it at
  // once even when the post itself comes later (post_batch.ts).
  if (value instanceof ArrayBuffer) {
    if (value.detached) throw detachedError();
    return false;
  }
  if (ArrayBuffer.isView(value)) {
    if (value.buffer instanceof ArrayBuffer && value.buffer.detached) {
      throw detachedError();
    }
    const result = value.byteLength >= TRANSFER_THRESHOLD_BYTES
      ? value.buffer instanceof ArrayBuffer
      : value.byteLength < value.buffer.byteLength;
    memo.set(value, result);
    return result;
  }
  if (!Array.isArray(value) && !isPlainObject(value)) return false;
  memo.set(value, false); // A cycle back here adds nothing.
  let result = false;
  for (const item of Object.values(value)) {
    if (changed(item, walk, memo)) result = true;
  }
  memo.set(value, result);
  return result;
}

/**
 * Copies the containers that hold replaced views, each once: the copy is
 * known before its contents are, so shared objects and cycles survive.
 */
function rebuild(
  value: unknown,
  walk: Walk,
  changes: Map<object, boolean>,
): unknown {
  if (value === null || typeof value !== "object" || !changes.get(value)) {
    return value;
  }
  const done = walk.seen.get(value);
  if (done !== undefined) return done;
  if (ArrayBuffer.isView(value)) {
    const out = packView(value, walk);
    walk.seen.set(value, out);
    return out;
  }
  const out = (Array.isArray(value) ? [...value] : { ...value }) as Record<
    string,
    unknown
  >;
  walk.seen.set(value, out);
  for (const [key, item] of Object.entries(value)) {
    out[key] = rebuild(item, walk, changes);
  }
  return out;
}

function packView(view: ArrayBufferView, walk: Walk): unknown {
  if (
    view.byteLength < TRANSFER_THRESHOLD_BYTES ||
    !(view.buffer instanceof ArrayBuffer)
  ) {
    // A small view into a large buffer would send the whole buffer.
    return view.byteLength < view.buffer.byteLength ? copyView(view) : view;
  }
  if (isGiven(view.buffer)) {
    // Its owner will not use it again: moved whole, with no copy.
    const { buffer, byteOffset, byteLength } = view;
    if (!walk.transfer.includes(buffer)) walk.transfer.push(buffer);
    const at: [number, number] = [byteOffset, byteLength];
    return { [BOXED]: viewType(view), buffer, at } satisfies Boxed;
  }
  const from = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  // Memory touched before takes the copy several times faster than fresh.
  const spare = takeSpare(view.byteLength);
  const bytes = spare ? new Uint8Array(spare) : from.slice();
  if (spare) bytes.set(from);
  walk.transfer.push(bytes.buffer);
  return { [BOXED]: viewType(view), buffer: bytes.buffer } satisfies Boxed;
}

function unpack(value: unknown, seen = new Map<object, unknown>()): unknown {
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value)) return seen.get(value);
  if (Array.isArray(value)) {
    const out: unknown[] = new Array(value.length);
    seen.set(value, out);
    value.forEach((item, i) => (out[i] = unpack(item, seen)));
    return out;
  }
  if (!isPlainObject(value)) return value;
  const kind = (value as Partial<Boxed>)[BOXED];
  if (kind !== undefined) {
    const Ctor = VIEW_TYPES[kind] ?? Uint8Array;
    const { buffer, at } = value as Boxed;
    const view = at ? viewAt(Ctor, buffer, at) : new Ctor(buffer);
    seen.set(value, view);
    return view;
  }
  const out: Record<string, unknown> = {};
  seen.set(value, out);
  for (const [key, item] of Object.entries(value)) {
    out[key] = unpack(item, seen);
  }
  return out;
}

function detachedError(): DOMException {
  return new DOMException(
    "An ArrayBuffer is detached and could not be cloned: it was " +
      "transferred away; pass a copy that is still whole",
    "DataCloneError",
  );
}

/** The view of `Ctor`'s type at `[byteOffset, byteLength]` of `buffer`. */
function viewAt(
  Ctor: new (buffer: ArrayBuffer) => ArrayBufferView,
  buffer: ArrayBuffer,
  [byteOffset, byteLength]: [number, number],
): ArrayBufferView {
  const View = Ctor as unknown as new (
    buffer: ArrayBuffer,
    byteOffset: number,
    length: number,
  ) => ArrayBufferView;
  const unit = (Ctor as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
  return new View(buffer, byteOffset, byteLength / unit);
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function copyView(view: ArrayBufferView): ArrayBufferView {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength)
    .slice();
  return new VIEW_TYPES[viewType(view)](bytes.buffer);
}

/** The built-in type of a view, also for a subclass of one. */
function viewType(view: ArrayBufferView): string {
  for (const [name, Ctor] of Object.entries(VIEW_TYPES)) {
    if (view instanceof Ctor) return name;
  }
  return "Uint8Array";
}
