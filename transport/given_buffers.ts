/**
 * Buffers given away: large arrays that the sender will not use again, so
 * that the post to a thread moves them (a transfer) instead of copying
 * them. An engine process's relay decodes a frame from its client and
 * hands it on to its task thread at once: the frame's arrays are its own,
 * and an 80 MB copy there would be the only copy between the socket and the
 * task. Anything else posts copies (`packMessage`): a caller's arrays stay
 * whole.
 *
 * @module
 */

/**
 * Arrays at least this large are given away. A frame with one is at least
 * as large, so it was read into a buffer of its own (FrameDecoder's direct
 * reads start below this size): moving that buffer moves nothing else.
 */
export const GIVE_AWAY_BYTES: number = 2 ** 20;

/** How many values one message is searched through. */
const WALK_BUDGET = 4096;

const given = new WeakSet<ArrayBuffer>();

/**
 * Marks the buffers of the large arrays in `message` (plain objects and
 * arrays are searched, up to a budget) as given away: the next
 * `packMessage` that meets them transfers them, and they are detached here.
 * Call it only on a message whose arrays nothing else holds, right before
 * it is posted.
 *
 * @example
 * ```ts
 * import { giveAwayLarge, isGiven } from "./given_buffers.ts";
 * const message = { args: [new Float64Array(1 << 20)] };
 * giveAwayLarge(message);
 * console.log(isGiven(message.args[0].buffer)); // true
 * ```
 */
export function giveAwayLarge(message: unknown): void {
  walkLarge(message, give);
}

const give = (view: ArrayBufferView) => given.add(view.buffer as ArrayBuffer);

/**
 * The large arrays in `message` (at least `GIVE_AWAY_BYTES`, over an
 * `ArrayBuffer`), searched as `giveAwayLarge` searches.
 *
 * @example
 * ```ts
 * import { largeArraysOf } from "./given_buffers.ts";
 * const big = new Float64Array(1 << 20);
 * console.log(largeArraysOf({ big, small: new Float64Array(4) })[0] === big); // true
 * ```
 */
export function largeArraysOf(message: unknown): ArrayBufferView[] {
  const found: ArrayBufferView[] = [];
  walkLarge(message, (view) => found.push(view));
  return found;
}

function walkLarge(
  message: unknown,
  visit: (view: ArrayBufferView) => void,
): void {
  let left = WALK_BUDGET;
  const stack: unknown[] = [message];
  const seen = new Set<object>();
  while (stack.length > 0 && left-- > 0) {
    const value = stack.pop();
    if (value === null || typeof value !== "object" || seen.has(value)) {
      continue;
    }
    seen.add(value);
    if (ArrayBuffer.isView(value)) {
      if (
        value.byteLength >= GIVE_AWAY_BYTES &&
        value.buffer instanceof ArrayBuffer
      ) {
        visit(value);
      }
      continue;
    }
    // Only as many items as the budget allows: a map's chunk of 100,000
    // numbers is not walked.
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length && stack.length < left; i++) {
        stack.push(value[i]);
      }
      continue;
    }
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) continue;
    for (const key in value) {
      if (stack.length >= left) break;
      stack.push((value as Record<string, unknown>)[key]);
    }
  }
}

/**
 * Whether `buffer` was given away (`giveAwayLarge`).
 *
 * @example
 * ```ts
 * import { isGiven } from "./given_buffers.ts";
 * console.log(isGiven(new ArrayBuffer(8))); // false
 * ```
 */
export function isGiven(buffer: ArrayBuffer): boolean {
  return given.has(buffer);
}
