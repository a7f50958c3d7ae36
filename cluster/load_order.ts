/**
 * The engines a scheduler may hand a task to, least loaded first, with the
 * adaptive depth's rule of who may take how many: each choice costs
 * O(log n) in the number of engines, not a look at each of them.
 *
 * @module
 */

import type { AdaptiveDepth } from "./adaptive_depth.ts";
import { LoadHeap } from "./load_heap.ts";

/** What the order reads of an engine. */
export interface OrderedEngine {
  readonly engineId: number;
  /** Whether it takes tasks now. */
  readonly up: boolean;
  /** Tasks it holds that have not ended (direct ones too). */
  readonly load: number;
}

/**
 * The scheduler's engines by load, ties to the lowest id. A choice is made
 * within a pass (the handling of one scheduler message) and `took` tells
 * what was handed out; `endPass` closes the pass.
 *
 * Loads are read when an engine is `touch`ed (a task of the scheduler's
 * ended there, or someone said its load changed), at `resync`, and when it
 * comes to the top of a heap (a direct task raised it unseen): the least
 * loaded is then exact without reading every engine per task. Within a
 * pass, an engine handed a task keeps the count made here (its actor may
 * not have counted the task yet), as the scheduler's map did.
 *
 * The adaptive rule (`AdaptiveDepth.limit`, judged once per pass): an
 * engine that is not fresh may take one task if idle; a fresh one, once it
 * holds no more than half the depth, may be filled to the depth in the
 * pass. So idle plain engines and fresh ones at or below half are each at
 * the top of their own heap, and the engines being filled are in a third.
 *
 * @example
 * ```ts
 * import { AdaptiveDepth } from "./adaptive_depth.ts";
 * import { LoadOrder } from "./load_order.ts";
 * const engines = [0, 1].map((engineId) => ({ engineId, up: true, load: 0 }));
 * const order = new LoadOrder(new AdaptiveDepth<(typeof engines)[0]>());
 * order.resync(engines);
 * const first = order.choose("adaptive")!;
 * first.load++; // what handing it a task does
 * order.took(first);
 * console.log(first.engineId, order.choose("adaptive")?.engineId); // 0 1
 * order.endPass();
 * ```
 */
export class LoadOrder<E extends OrderedEngine> {
  #depth: AdaptiveDepth<E>;
  /** Up engines the depth calls fresh, by load. */
  #fresh = new LoadHeap<E>();
  /** The other up engines, by load. */
  #plain = new LoadHeap<E>();
  /** Engines filled to the depth in this pass that have room left. */
  #filling = new LoadHeap<E>();
  /** How many each engine being filled may hold, in this pass. */
  #caps = new Map<E, number>();
  /** Engines handed a task in this pass: their load is counted here. */
  #handed = new Set<E>();
  /** Every engine resynced or touched, by id, for tasks with targets. */
  #byId = new Map<number, E>();
  /** The depth in this pass, read once it is needed. */
  #full: number | undefined;

  /** Reads freshness and the depth from `depth`, the scheduler's. */
  constructor(depth: AdaptiveDepth<E>) {
    this.#depth = depth;
  }

  /** How many engines are up, as last seen. */
  get size(): number {
    return this.#fresh.size + this.#plain.size;
  }

  /** Forgets what it knew and reads `engines` again (outside a pass). */
  resync(engines: Iterable<E>): void {
    this.#fresh.clear();
    this.#plain.clear();
    this.#byId.clear();
    for (const engine of engines) this.touch(engine);
  }

  /** Reads `engine` again: its load, whether it is up, and fresh. */
  touch(engine: E): void {
    this.#byId.set(engine.engineId, engine);
    if (!engine.up) {
      this.#forget(engine);
      return;
    }
    const fresh = this.#depth.isFresh(engine);
    (fresh ? this.#plain : this.#fresh).delete(engine);
    (fresh ? this.#fresh : this.#plain).set(engine, engine.load);
  }

  /**
   * The engine a task with this mark (and these `targets`, if any) goes
   * to: the least loaded with room, ties to the lowest id; none when all
   * are full.
   */
  choose(
    mark: number | "adaptive",
    targets?: ReadonlySet<number>,
  ): E | undefined {
    if (targets) return this.#chooseAmong(targets, mark);
    const plain = this.#top(this.#plain);
    const fresh = this.#top(this.#fresh);
    if (mark !== "adaptive") {
      const best = this.#least(plain, fresh);
      return best && this.#loadOf(best) < mark ? best : undefined;
    }
    // A handed plain engine holds one at least: it is not idle.
    const idle = plain && this.#plain.loadOf(plain) === 0 ? plain : undefined;
    const half = this.#fullDepth() >> 1;
    const refill = fresh && this.#fresh.loadOf(fresh)! <= half
      ? fresh
      : undefined;
    return this.#least(this.#filling.peek(), this.#least(idle, refill));
  }

  /**
   * `engine`, chosen in this pass, was handed a task (after the depth's
   * `handOut`): it holds one more, and is fresh no more.
   */
  took(engine: E): void {
    const load = this.#loadOf(engine);
    const wasFresh = this.#fresh.delete(engine);
    this.#plain.set(engine, load + 1);
    this.#handed.add(engine);
    // A fresh engine at or below half the depth when the pass began is
    // filled to the depth in this pass, whatever task it took first.
    if (wasFresh && load <= this.#fullDepth() >> 1) {
      this.#caps.set(engine, this.#fullDepth());
    }
    const cap = this.#caps.get(engine);
    if (cap !== undefined && load + 1 < cap) {
      this.#filling.set(engine, load + 1);
    } else this.#filling.delete(engine);
  }

  /**
   * The pass ended: a fresh engine left idle is fresh no more (the depth's
   * `endPass`), so that the next tasks, which may be long, go to it one at
   * a time.
   */
  endPass(): void {
    // Most passes hand nothing out (a done that leaves the engine deep
    // enough): they leave nothing to clear.
    if (this.#handed.size > 0) {
      this.#filling.clear();
      this.#caps.clear();
      this.#handed.clear();
    }
    this.#full = undefined;
    for (;;) {
      const engine = this.#top(this.#fresh);
      if (!engine || this.#fresh.loadOf(engine) !== 0) return;
      this.#depth.rest(engine);
      this.#fresh.delete(engine);
      this.#plain.set(engine, 0);
    }
  }

  #fullDepth(): number {
    return this.#full ??= this.#depth.depth;
  }

  #forget(engine: E): void {
    this.#fresh.delete(engine);
    this.#plain.delete(engine);
    this.#filling.delete(engine);
    // As the depth's endPass did for an engine gone idle: it died, or it
    // drains, and comes back, if ever, one task at a time.
    this.#depth.rest(engine);
  }

  #loadOf(engine: E): number {
    return this.#fresh.loadOf(engine) ?? this.#plain.loadOf(engine)!;
  }

  /**
   * The top of `heap` once its load is the engine's own: an engine whose
   * load rose unseen (a direct task) sinks to its place, one gone down
   * leaves. Engines handed a task in this pass keep the count made here.
   */
  #top(heap: LoadHeap<E>): E | undefined {
    for (;;) {
      const engine = heap.peek();
      if (!engine || this.#handed.has(engine)) return engine;
      if (!this.#check(engine, heap)) continue;
      return engine;
    }
  }

  /** Whether `engine` in `heap` is up with its load read; it moves if not. */
  #check(engine: E, heap: LoadHeap<E>): boolean {
    if (!engine.up) {
      this.#forget(engine);
      return false;
    }
    const load = engine.load;
    if (load === heap.loadOf(engine)) return true;
    heap.set(engine, load);
    return false;
  }

  /** The lesser of two engines by load, then id; either may be absent. */
  #least(a: E | undefined, b: E | undefined): E | undefined {
    if (!a || !b) return a ?? b;
    const la = this.#loadOf(a);
    const lb = this.#loadOf(b);
    return la < lb || (la === lb && a.engineId < b.engineId) ? a : b;
  }

  /** `choose` for a task limited to `targets`: a look at each of them. */
  #chooseAmong(
    targets: ReadonlySet<number>,
    mark: number | "adaptive",
  ): E | undefined {
    let best: E | undefined;
    for (const id of targets) {
      const engine = this.#byId.get(id);
      if (!engine) continue;
      const heap = this.#fresh.has(engine)
        ? this.#fresh
        : this.#plain.has(engine)
        ? this.#plain
        : undefined;
      if (!heap) continue;
      if (!this.#handed.has(engine)) {
        // Read it as a top would be; it may have moved heaps if it went down.
        this.#check(engine, heap);
        if (!heap.has(engine)) continue;
      }
      const load = this.#loadOf(engine);
      const room = mark !== "adaptive"
        ? load < mark
        : this.#handed.has(engine)
        ? this.#filling.has(engine)
        : heap === this.#fresh
        ? load <= this.#fullDepth() >> 1
        : load === 0;
      if (room && this.#least(best, engine) === engine) best = engine;
    }
    return best;
  }
}
