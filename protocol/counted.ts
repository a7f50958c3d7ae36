/**
 * A count as a message says it.
 *
 * @module
 */

/**
 * `n` and `what`, in the plural unless `n` is 1, `n` with thousands
 * separators: "1 more connection", "1,999 more connections".
 *
 * @example
 * ```ts
 * import { counted } from "./counted.ts";
 * console.log(counted(1, "byte"), counted(1999, "byte")); // "1 byte" "1,999 bytes"
 * ```
 */
export function counted(n: number, what: string): string {
  return `${n.toLocaleString("en-US")} ${what}${n === 1 ? "" : "s"}`;
}
