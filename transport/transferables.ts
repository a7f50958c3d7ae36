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

/** Views at least this large are copied, boxed and transferred. */
export const TRANSFER_THRESHOLD_BYTES = 4 * 1024;

/** How many values one message is searched through for large arrays. */
const WALK_BUDGET = 4096;

/** Marks a message that holds boxed arrays, so others are not walked. */
const PACKED = "__troupe_packed__";
/** Marks one boxed typed array. */
const BOXED = "__troupe_view__";

const VIEW_TYPES: Record<string, new (buffer: ArrayBuffer) => ArrayBufferView> =
  {
    Int8Array,
    Uint8Array,
    Uint8ClampedArray,
    Int16Array,
    Uint16Array,
    Int32Array,
    Uint32Array,
    Float32Array,
    Float64Array,
    BigInt64Array,
    BigUint64Array,
    DataView,
  };

interface Boxed {
  [BOXED]: string;
  buffer: ArrayBuffer;
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
  const transfer: ArrayBuffer[] = [];
  const copies = new Map<ArrayBufferView, Boxed>();
  const budget = { left: WALK_BUDGET };
  const value = pack(message, transfer, copies, budget);
  if (transfer.length === 0) return { value: message, transfer };
  return { value: { [PACKED]: value } as T, transfer };
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

function pack(
  value: unknown,
  transfer: ArrayBuffer[],
  copies: Map<ArrayBufferView, Boxed>,
  budget: { left: number },
): unknown {
  if (value === null || typeof value !== "object" || --budget.left < 0) {
    return value;
  }
  if (ArrayBuffer.isView(value)) {
    if (
      value.byteLength < TRANSFER_THRESHOLD_BYTES ||
      !(value.buffer instanceof ArrayBuffer)
    ) {
      // A small view into a large buffer would send the whole buffer.
      return value.byteLength < value.buffer.byteLength
        ? copyView(value)
        : value;
    }
    let boxed = copies.get(value);
    if (!boxed) {
      const bytes = new Uint8Array(
        value.buffer,
        value.byteOffset,
        value.byteLength,
      ).slice();
      boxed = { [BOXED]: viewType(value), buffer: bytes.buffer };
      copies.set(value, boxed);
      transfer.push(bytes.buffer);
    }
    return boxed;
  }
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = pack(value[i], transfer, copies, budget);
      if (item !== value[i]) (out ??= value.slice())[i] = item;
    }
    return out ?? value;
  }
  if (!isPlainObject(value)) return value;
  let out: Record<string, unknown> | undefined;
  for (const [key, item] of Object.entries(value)) {
    const next = pack(item, transfer, copies, budget);
    if (next !== item) (out ??= { ...value })[key] = next;
  }
  return out ?? value;
}

function unpack(value: unknown, seen = new Map<object, unknown>()): unknown {
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value)) return seen.get(value);
  if (Array.isArray(value)) {
    const out = value.map((item) => unpack(item, seen));
    seen.set(value, out);
    return out;
  }
  if (!isPlainObject(value)) return value;
  const kind = (value as Partial<Boxed>)[BOXED];
  if (kind !== undefined) {
    const Ctor = VIEW_TYPES[kind] ?? Uint8Array;
    const view = new Ctor((value as Boxed).buffer);
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
