/**
 * The line of load-balanced tasks waiting for an engine: oldest first,
 * cheap at its front however long it grows.
 *
 * @module
 */

/** What a pass over the line does with one item. */
export type Verdict = "take" | "skip" | "stop";

/**
 * A first-in, first-out line that a scheduler hands out from the front.
 * Taking from the front costs nothing per item left behind (a head index,
 * not `Array.shift`), so that 100,000 queued tasks handed out one by one
 * cost 100,000 steps, not 100,000²; the array is compacted now and then.
 *
 * @example
 * ```ts
 * import { WaitingLine } from "./waiting_line.ts";
 * const line = new WaitingLine<number>();
 * for (const n of [1, 2, 3, 4]) line.push(n);
 * line.pass((n) => (n === 1 ? "take" : n === 2 ? "skip" : "stop"));
 * console.log(line.length, line.toArray()); // 3 [ 2, 3, 4 ]
 * ```
 */
export class WaitingLine<T> {
  /** The items, oldest first, from `#head` on. */
  #items: T[] = [];
  #head = 0;

  /** How many items wait. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** The item at the front, if any. */
  get first(): T | undefined {
    return this.#head < this.#items.length
      ? this.#items[this.#head]
      : undefined;
  }

  /** `item` joins the end of the line. */
  push(item: T): void {
    this.#items.push(item);
  }

  /** `item` goes first (a task run again keeps its place before later ones). */
  unshift(item: T): void {
    if (this.#head > 0) this.#items[--this.#head] = item;
    else this.#items.unshift(item);
  }

  /**
   * Visits items from the front: each one `visit` takes leaves the line,
   * each one it skips stays (in order), and `stop` ends the pass there. A
   * pass costs the items it visits, not the length of the line.
   */
  pass(visit: (item: T) => Verdict): void {
    const items = this.#items;
    const skipped: T[] = [];
    let i = this.#head;
    for (; i < items.length; i++) {
      const verdict = visit(items[i]);
      if (verdict === "stop") break;
      if (verdict === "skip") skipped.push(items[i]);
    }
    // The skipped items go back into slots this pass emptied, in order.
    const start = i - skipped.length;
    for (let k = this.#head; k < start; k++) items[k] = undefined as T;
    skipped.forEach((item, k) => (items[start + k] = item));
    this.#head = start;
    if (this.#head === items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > items.length) {
      this.#compact();
    }
  }

  /**
   * Keeps the items `keep` holds for, in order; for the rare passes over
   * the whole line. `keep` may have effects (failing what it drops).
   */
  filter(keep: (item: T) => boolean): void {
    this.#items = this.#compact().filter(keep);
  }

  /** Empties the line; returns what waited, oldest first. */
  clear(): T[] {
    const items = this.#compact();
    this.#items = [];
    return items;
  }

  /** A copy of what waits, oldest first. */
  toArray(): T[] {
    return this.#compact().slice();
  }

  #compact(): T[] {
    if (this.#head > 0) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return this.#items;
  }
}
