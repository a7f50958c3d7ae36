/**
 * Moving large typed arrays between threads without structured clone's slow
 * byte-by-byte copy.
 *
 * @module
 */

/**
 * Views at least this large are copied with `slice()` (a memcpy) and the copy
 * is transferred; smaller ones are cheaper to clone.
 */
export const TRANSFER_THRESHOLD_BYTES = 64 * 1024;

/** How many values one message is searched through for large arrays. */
const WALK_BUDGET = 4096;

/**
 * Returns `message` with every large typed array replaced by a private copy,
 * and the copies' buffers to transfer. The caller's arrays are never
 * detached: transferring a buffer the caller still holds would empty it under
 * their feet, so only copies made here are transferred. Plain objects and
 * arrays are searched (up to a budget); containers on the way to a copy are
 * rebuilt, the rest is shared.
 *
 * @example
 * ```ts
 * import { withTransfers } from "./transferables.ts";
 * const big = new Float64Array(1 << 20);
 * const { value, transfer } = withTransfers({ args: [big] });
 * console.log(transfer.length, big.length); // 1 1048576: big is intact
 * ```
 */
export function withTransfers<T>(
  message: T,
): { value: T; transfer: ArrayBuffer[] } {
  const transfer: ArrayBuffer[] = [];
  const copies = new Map<ArrayBufferView, ArrayBufferView>();
  const budget = { left: WALK_BUDGET };
  const value = walk(message, transfer, copies, budget) as T;
  return { value, transfer };
}

function walk(
  value: unknown,
  transfer: ArrayBuffer[],
  copies: Map<ArrayBufferView, ArrayBufferView>,
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
      return value;
    }
    let copy = copies.get(value);
    if (!copy) {
      copy = copyView(value);
      copies.set(value, copy);
      transfer.push(copy.buffer as ArrayBuffer);
    }
    return copy;
  }
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = walk(value[i], transfer, copies, budget);
      if (item !== value[i]) (out ??= value.slice())[i] = item;
    }
    return out ?? value;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  let out: Record<string, unknown> | undefined;
  for (const [key, item] of Object.entries(value)) {
    const next = walk(item, transfer, copies, budget);
    if (next !== item) (out ??= { ...value })[key] = next;
  }
  return out ?? value;
}

function copyView(view: ArrayBufferView): ArrayBufferView {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength)
    .slice();
  if (view instanceof DataView) return new DataView(bytes.buffer);
  const Ctor = view.constructor as new (buffer: ArrayBuffer) => ArrayBufferView;
  return new Ctor(bytes.buffer);
}
