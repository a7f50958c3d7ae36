/**
 * Which put values one life of an engine's task thread was sent, so that
 * each goes to it once: with the first task that needs it, again after the
 * thread was replaced or the engine restarted.
 *
 * @module
 */

import type { PutValue, RunMessage } from "../protocol/messages.ts";
import type { PutEntry, PutHolder } from "./put_store.ts";

/**
 * One thread life's put values. `attach` adds to a `run` the values it
 * lacks; a released value is forgotten by the engine (a `release`).
 *
 * @example
 * ```ts
 * import { PutDelivery } from "./put_delivery.ts";
 * import { PutStore } from "./put_store.ts";
 * const store = new PutStore();
 * const entry = store.put(1, "big");
 * const sent: string[] = [];
 * const delivery = new PutDelivery(false, (m) => void sent.push(m.t));
 * const run = { t: "run" as const, taskId: 2, args: [null],
 *   fn: { kind: "source" as const, source: "(x) => x" }, refs: [{ arg: 0, id: 1 }] };
 * console.log(delivery.attach(run, [entry]).values?.length); // 1
 * delivery.sent([entry]);
 * console.log(delivery.attach(run, [entry]).values); // undefined
 * store.release([1]);
 * console.log(sent); // ["release"]
 * ```
 */
export class PutDelivery implements PutHolder {
  #sharesMemory: boolean;
  #send: (message: { t: "release"; ids: number[] }) => void;
  #held = new Map<number, PutEntry>();

  /**
   * For a link that shares memory with the hub or not; `send` carries a
   * `release` to the engine.
   */
  constructor(
    sharesMemory: boolean,
    send: (message: { t: "release"; ids: number[] }) => void,
  ) {
    this.#sharesMemory = sharesMemory;
    this.#send = send;
  }

  /** `run`, with the values of `entries` this life has not been sent. */
  attach(run: RunMessage, entries: readonly PutEntry[]): RunMessage {
    let values: PutValue[] | undefined;
    for (const entry of entries) {
      if (this.#held.has(entry.id)) continue;
      values ??= [];
      if (!values.some((v) => v.id === entry.id)) {
        values.push({
          id: entry.id,
          value: entry.valueFor(this.#sharesMemory),
        });
      }
    }
    return values ? { ...run, values } : run;
  }

  /**
   * The `run` that `attach` made was sent: its values are held now. One
   * released meanwhile (its task was submitted before) is forgotten again.
   */
  sent(entries: readonly PutEntry[]): void {
    const gone: number[] = [];
    for (const entry of entries) {
      if (this.#held.has(entry.id)) continue;
      if (entry.released) {
        if (!gone.includes(entry.id)) gone.push(entry.id);
        continue;
      }
      this.#held.set(entry.id, entry);
      entry.holders.add(this);
    }
    if (gone.length > 0) this.#tell(gone);
  }

  /** The hub released value `id`: the engine forgets it. */
  released(id: number): void {
    if (this.#held.delete(id)) this.#tell([id]);
  }

  /** The thread is gone (replaced, or the engine ended): it holds nothing. */
  forget(): void {
    for (const entry of this.#held.values()) entry.holders.delete(this);
    this.#held.clear();
  }

  #tell(ids: number[]): void {
    try {
      this.#send({ t: "release", ids });
    } catch {
      // A link that cannot send reports its exit separately.
    }
  }
}
