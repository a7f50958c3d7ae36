/**
 * A table keyed by task id, for ids that mostly come in increasing order
 * and mostly leave in about the order they came: a window of an array
 * from the oldest live id on, rather than a `Map` that rehashes as tens of
 * thousands of tiny tasks are submitted at once and end.
 *
 * @module
 */

/**
 * How far past the window's end an id may land and still go in the window:
 * one further goes in the `Map` too. A controller's clients have blocks of
 * ids 2^32 apart (`remote/wire.ts`), and a window stretched from one block
 * to the next would be 2^32 slots long.
 */
const MAX_GAP = 4096;

/**
 * Values by whole-number id. An id from the oldest live one on goes in the
 * window (its slot, `id - base`); one below it (out of order), or far past
 * its end (another block of ids), goes in a `Map` beside it. The window's
 * front moves on as its oldest ids leave, so it spans from the oldest live
 * id to the newest: a task that stays long keeps the ids after it in the
 * window until it leaves.
 *
 * @example
 * ```ts
 * import { IdTable } from "./id_table.ts";
 * const table = new IdTable<string>();
 * table.set(1, "a");
 * table.set(2, "b");
 * console.log(table.get(2), table.size); // "b" 2
 * console.log(table.delete(1), table.delete(1), table.size); // true false 1
 * ```
 */
export class IdTable<V> {
  /** Values of ids `#base`, `#base + 1`, ... (`undefined`: none). */
  #window: (V | undefined)[] = [];
  /** Where the window's live part starts in `#window`. */
  #head = 0;
  /** The id of `#window[#head]`. */
  #base = 0;
  /** Ids below the window (set out of order), or far past its end. */
  #below = new Map<number, V>();
  #size = 0;

  /** How many ids have a value. */
  get size(): number {
    return this.#size;
  }

  /** The value of `id`, if it has one. */
  get(id: number): V | undefined {
    if (id < this.#base) return this.#below.get(id);
    const value = this.#window[this.#head + id - this.#base];
    if (value !== undefined || this.#below.size === 0) return value;
    return this.#below.get(id);
  }

  /** Sets the value of `id` (a whole number); `undefined` is no value. */
  set(id: number, value: V): void {
    if (this.#below.size > 0 && this.#below.has(id)) {
      this.#below.set(id, value);
      return;
    }
    if (this.#size === this.#below.size) {
      // Nothing in the window: it starts again here, at this id unless
      // that would put ids set out of order inside it (they stay below).
      this.#window.length = 0;
      this.#head = 0;
      if (this.#below.size === 0 || id > this.#base) this.#base = id;
    }
    if (id < this.#base) {
      if (!this.#below.has(id)) this.#size++;
      this.#below.set(id, value);
      return;
    }
    const slot = this.#head + id - this.#base;
    if (slot - this.#window.length > MAX_GAP) {
      this.#size++;
      this.#below.set(id, value);
      return;
    }
    while (this.#window.length < slot) this.#window.push(undefined);
    if (this.#window[slot] === undefined) this.#size++;
    this.#window[slot] = value;
  }

  /** Removes the value of `id`; whether it had one. */
  delete(id: number): boolean {
    if (id < this.#base) {
      const had = this.#below.delete(id);
      if (had) this.#size--;
      return had;
    }
    const slot = this.#head + id - this.#base;
    if (this.#window[slot] === undefined) {
      const had = this.#below.size > 0 && this.#below.delete(id);
      if (had) this.#size--;
      return had;
    }
    this.#window[slot] = undefined;
    this.#size--;
    // The front moves on past the ids that left.
    const window = this.#window;
    while (this.#head < window.length && window[this.#head] === undefined) {
      this.#head++;
      this.#base++;
    }
    if (this.#head === window.length) {
      window.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > window.length) {
      // Drop the dead front now and then: a cheap shift.
      this.#window = window.slice(this.#head);
      this.#head = 0;
    }
    return true;
  }
}
