/**
 * The hub's put values (`client.put`): each held once, in the cluster core
 * (the client's own for an embedded client, the controller's for a
 * connected one), until released; and which engines were sent each.
 *
 * @module
 */

import type { ArgRef, TaskSpec } from "../protocol/messages.ts";

/**
 * An engine's hold on put values: told when one it was sent is released.
 *
 * @example
 * ```ts
 * import type { PutHolder } from "./put_store.ts";
 * const holder: PutHolder = { released: (id) => console.log("free", id) };
 * ```
 */
export interface PutHolder {
  released(id: number): void;
}

/**
 * One put value as the hub holds it. Tasks take the entry itself when they
 * are submitted, so that a task still waiting for its engine when the value
 * is released still gets it (its engine is told to forget it right after).
 *
 * @example
 * ```ts
 * import { PutStore } from "./put_store.ts";
 * const store = new PutStore();
 * const entry = store.put(1, [1, 2, 3]);
 * console.log(entry.valueFor(false), entry.released); // [1, 2, 3] false
 * ```
 */
export class PutEntry {
  readonly id: number;
  /** The value as engines that share the hub's memory take it. */
  readonly value: unknown;
  #copy: unknown;
  #released = false;
  /** The engine lives that were sent it and have not lost it. */
  readonly holders: Set<PutHolder> = new Set();

  constructor(id: number, value: unknown) {
    this.id = id;
    this.value = value;
  }

  /** Whether it was released: no new task may take it. */
  get released(): boolean {
    return this.#released;
  }

  /**
   * The value for an engine: itself where memory is shared; elsewhere a
   * bare `SharedArrayBuffer` (an `ArrayBuffer` put) as a plain copy, which
   * the wire can carry (a typed array over one is copied as it is sent).
   */
  valueFor(sharesMemory: boolean): unknown {
    if (sharesMemory || !(this.value instanceof SharedArrayBuffer)) {
      return this.value;
    }
    this.#copy ??= new Uint8Array(this.value).slice().buffer;
    return this.#copy;
  }

  /** Marks it released and tells every engine that holds it. */
  release(): void {
    this.#released = true;
    for (const holder of [...this.holders]) holder.released(this.id);
    this.holders.clear();
  }
}

/**
 * The hub's put values by id.
 *
 * @example
 * ```ts
 * import { PutStore } from "./put_store.ts";
 * const store = new PutStore();
 * store.put(5, "big");
 * store.release([5]);
 * console.log(store.size); // 0
 * ```
 */
export class PutStore {
  #entries = new Map<number, PutEntry>();

  /** How many values it holds. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Holds `value` under `id`. A typed array or an `ArrayBuffer` is copied
   * once into a `SharedArrayBuffer`, which every Worker engine then takes
   * as a view of that same memory (no copy per engine); anything else is
   * held as given. Throws a `RangeError` for an id held already.
   */
  put(id: number, value: unknown): PutEntry {
    if (this.#entries.has(id)) {
      throw new RangeError(
        `put value ${id} is held already: every put needs an id of its ` +
          "own, from the cluster's nextTaskId()",
      );
    }
    const entry = new PutEntry(id, shareable(value));
    this.#entries.set(id, entry);
    return entry;
  }

  /**
   * Takes the entries `task`'s refs name (`entriesOf` finds them again
   * when the task is sent), so that the task gets its values even if they
   * are released before it reaches its engine. Returns, rather than
   * throws, an `Error` naming the first value that is not held (released,
   * or never put here): the task fails with it.
   */
  take(task: TaskSpec): Error | undefined {
    const refs: ArgRef[] | undefined = task.refs;
    if (refs === undefined || refs.length === 0) return undefined;
    const entries: PutEntry[] = [];
    for (const { arg, id } of refs) {
      const entry = this.#entries.get(id);
      if (entry === undefined) {
        return new Error(
          `task ${task.taskId}'s argument ${arg + 1} is put value ${id}, ` +
            "which the cluster does not hold: it was released (ref." +
            "release(), or its client closed). Put the value again with " +
            "client.put and pass the new ref",
        );
      }
      entries.push(entry);
    }
    taken.set(refs, entries);
    return undefined;
  }

  /** Releases these values, here and on every engine; unknown ids do nothing. */
  release(ids: Iterable<number>): void {
    for (const id of ids) {
      const entry = this.#entries.get(id);
      if (entry === undefined) continue;
      this.#entries.delete(id);
      entry.release();
    }
  }

  /** Releases every value. */
  clear(): void {
    this.release([...this.#entries.keys()]);
  }
}

/**
 * The entries each submitted task took, by its `refs` array: the one part
 * of a task that travels unchanged from submission to its `run` message
 * (through the scheduler, retries and dependencies), so that nothing on
 * the way needs to know of put values.
 */
const taken = new WeakMap<readonly ArgRef[], readonly PutEntry[]>();

/**
 * The entries that the task whose `refs` these are took at submission;
 * `undefined` for a task that took none.
 *
 * @example
 * ```ts
 * import { entriesOf, PutStore } from "./put_store.ts";
 * const store = new PutStore();
 * store.put(5, "big");
 * const refs = [{ arg: 0, id: 5 }];
 * store.take({ taskId: 6, fn: { kind: "source", source: "(x) => x" }, args: [null], refs });
 * console.log(entriesOf(refs)?.[0].value); // "big"
 * ```
 */
export function entriesOf(
  refs: readonly ArgRef[],
): readonly PutEntry[] | undefined {
  return taken.get(refs);
}

/**
 * `value` itself, or for a typed array, `DataView` or `ArrayBuffer` the
 * same bytes in shared memory, of the same type (an `ArrayBuffer` becomes
 * the `SharedArrayBuffer` itself).
 */
function shareable(value: unknown): unknown {
  if (value instanceof ArrayBuffer) {
    const shared = new SharedArrayBuffer(value.byteLength);
    new Uint8Array(shared).set(new Uint8Array(value));
    return shared;
  }
  if (!ArrayBuffer.isView(value) || value.buffer instanceof SharedArrayBuffer) {
    return value;
  }
  const shared = new SharedArrayBuffer(value.byteLength);
  new Uint8Array(shared).set(
    new Uint8Array(value.buffer, value.byteOffset, value.byteLength),
  );
  if (value instanceof DataView) return new DataView(shared);
  const Type = value.constructor as new (buffer: SharedArrayBuffer) => unknown;
  return new Type(shared);
}
