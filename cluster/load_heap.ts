/**
 * Engines ordered by load, the least loaded first (ties to the lowest id):
 * what the scheduler asks for each task, answered without looking at every
 * engine.
 *
 * @module
 */

/** What a heap orders: anything with an engine id. */
export interface Ranked {
  readonly engineId: number;
}

/**
 * A binary min-heap of engines keyed by a load the caller sets, ties broken
 * by engine id (the scheduler's "ties to the first"). The least loaded is
 * `peek()` in O(1); setting an engine's load or removing it costs
 * O(log n), because each engine's place in the heap is kept.
 *
 * @example
 * ```ts
 * import { LoadHeap } from "./load_heap.ts";
 * const heap = new LoadHeap<{ engineId: number }>();
 * const [a, b, c] = [{ engineId: 0 }, { engineId: 1 }, { engineId: 2 }];
 * heap.set(a, 2);
 * heap.set(b, 1);
 * heap.set(c, 1);
 * console.log(heap.peek()?.engineId); // 1: the least loaded, then the lowest id
 * heap.set(b, 5);
 * console.log(heap.peek()?.engineId, heap.loadOf(b)); // 2 5
 * ```
 */
export class LoadHeap<E extends Ranked> {
  #items: E[] = [];
  /** `#loads[i]` is the load of `#items[i]`. */
  #loads: number[] = [];
  /** Where each engine is in `#items`. */
  #at = new Map<E, number>();

  /** How many engines the heap holds. */
  get size(): number {
    return this.#items.length;
  }

  /** Whether `engine` is in the heap. */
  has(engine: E): boolean {
    return this.#at.has(engine);
  }

  /** The load `engine` was given, if it is in the heap. */
  loadOf(engine: E): number | undefined {
    const i = this.#at.get(engine);
    return i === undefined ? undefined : this.#loads[i];
  }

  /** The least loaded engine (the lowest id among equals), if any. */
  peek(): E | undefined {
    return this.#items[0];
  }

  /** `engine` now has `load`: added if it was not in the heap. */
  set(engine: E, load: number): void {
    let i = this.#at.get(engine);
    if (i === undefined) {
      i = this.#items.length;
      this.#items.push(engine);
      this.#loads.push(load);
      this.#at.set(engine, i);
      this.#up(i);
      return;
    }
    const before = this.#loads[i];
    this.#loads[i] = load;
    if (load < before) this.#up(i);
    else if (load > before) this.#down(i);
  }

  /** Takes `engine` out of the heap; whether it was in. */
  delete(engine: E): boolean {
    const i = this.#at.get(engine);
    if (i === undefined) return false;
    this.#at.delete(engine);
    const last = this.#items.length - 1;
    const moved = this.#items[last];
    const movedLoad = this.#loads[last];
    this.#items.pop();
    this.#loads.pop();
    if (i < last) {
      // The last engine fills the hole, then finds its place either way.
      this.#items[i] = moved;
      this.#loads[i] = movedLoad;
      this.#at.set(moved, i);
      this.#up(i);
      this.#down(this.#at.get(moved)!);
    }
    return true;
  }

  /** Empties the heap. */
  clear(): void {
    if (this.#items.length === 0) return;
    this.#items.length = 0;
    this.#loads.length = 0;
    this.#at.clear();
  }

  /** The engines in the heap, in no particular order. */
  values(): IterableIterator<E> {
    return this.#at.keys();
  }

  #less(i: number, j: number): boolean {
    const a = this.#loads[i];
    const b = this.#loads[j];
    return a < b ||
      (a === b && this.#items[i].engineId < this.#items[j].engineId);
  }

  #swap(i: number, j: number): void {
    const items = this.#items;
    const loads = this.#loads;
    [items[i], items[j]] = [items[j], items[i]];
    [loads[i], loads[j]] = [loads[j], loads[i]];
    this.#at.set(items[i], i);
    this.#at.set(items[j], j);
  }

  #up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(i, parent)) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const n = this.#items.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) return;
      const right = left + 1;
      const child = right < n && this.#less(right, left) ? right : left;
      if (!this.#less(child, i)) return;
      this.#swap(i, child);
      i = child;
    }
  }
}
