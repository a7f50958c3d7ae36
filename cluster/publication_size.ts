/**
 * How big a publication's data is, for `troupe_publication_bytes_total`
 * when no frame says it (a Worker's post is a structured clone, whose size
 * nobody tells): a bounded structural estimate.
 *
 * @module
 */

/** Values looked at, at most: a huge publication costs no more than this. */
const MAX_NODES = 256;

/**
 * About how many bytes `value` holds: a typed array's or buffer's
 * `byteLength`, a string's length, 8 per number, 1 per boolean, the keys
 * of objects; past `MAX_NODES` values it stops counting (an estimate from
 * below).
 *
 * @example
 * ```ts
 * import { estimatedBytes } from "./publication_size.ts";
 * console.log(estimatedBytes({ step: 1, y: new Float64Array(100) })); // 813
 * ```
 */
export function estimatedBytes(value: unknown): number {
  let bytes = 0;
  let nodes = 0;
  // One stack for every call: a publication costs no allocation here.
  const stack = STACK;
  stack.length = 0;
  stack.push(value);
  while (stack.length > 0 && nodes < MAX_NODES) {
    const v = stack.pop();
    nodes++;
    switch (typeof v) {
      case "number":
        bytes += 8;
        continue;
      case "string":
        bytes += v.length;
        continue;
      case "boolean":
        bytes += 1;
        continue;
      case "bigint":
        bytes += 8;
        continue;
      case "object":
        break;
      default:
        continue;
    }
    if (v === null) continue;
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) {
      bytes += v.byteLength;
    } else if (v instanceof SharedArrayBuffer) {
      bytes += v.byteLength;
    } else if (Array.isArray(v)) {
      // Never more on the stack than can still be looked at.
      const n = Math.min(v.length, MAX_NODES - nodes - stack.length);
      for (let i = n - 1; i >= 0; i--) stack.push(v[i]);
    } else if (v instanceof Map || v instanceof Set) {
      for (const item of v) {
        if (nodes + stack.length >= MAX_NODES) break;
        stack.push(item);
      }
    } else {
      for (const key in v as Record<string, unknown>) {
        if (nodes + stack.length >= MAX_NODES) break;
        bytes += key.length;
        stack.push((v as Record<string, unknown>)[key]);
      }
    }
  }
  stack.length = 0; // Holds nothing of the publication afterwards.
  return bytes;
}

const STACK: unknown[] = [];
