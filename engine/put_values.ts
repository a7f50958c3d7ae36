/**
 * The put values an engine's task thread keeps (`client.put`), and how a
 * task's `refs` become its arguments.
 *
 * @module
 */

import type { ReleaseMessage, RunMessage } from "../protocol/messages.ts";

/**
 * The put values this thread was sent, by id, until released. A `run`
 * message is taken in when it arrives, not when its task starts: a
 * `release` that follows it (the client let go of the value while the task
 * waited here) must not take the value from under it.
 *
 * @example
 * ```ts
 * import { PutValues } from "./put_values.ts";
 * const store = new PutValues();
 * const run = store.takeIn({
 *   t: "run",
 *   taskId: 1,
 *   fn: { kind: "source", source: "(a, b) => a[b]" },
 *   args: [null, 1],
 *   refs: [{ arg: 0, id: 9 }],
 *   values: [{ id: 9, value: [10, 20] }],
 * });
 * console.log(run.args, store.size); // [[10, 20], 1] 1
 * store.release({ t: "release", ids: [9] });
 * console.log(store.size); // 0
 * ```
 */
export class PutValues {
  #values = new Map<number, unknown>();

  /** How many put values the thread keeps. */
  get size(): number {
    return this.#values.size;
  }

  /**
   * Keeps the values `message` carries, and returns it with its `refs`
   * replaced by their values. Throws an `Error` that names the value when
   * one is not kept here: the task fails with it.
   */
  takeIn(message: RunMessage): RunMessage {
    const { values, refs } = message;
    if (values) {
      for (const { id, value } of values) this.#values.set(id, value);
    }
    if (!refs || refs.length === 0) return message;
    const args = [...message.args];
    for (const { arg, id } of refs) {
      if (!this.#values.has(id)) {
        throw new Error(
          `argument ${arg + 1} is put value ${id}, which this engine does ` +
            "not hold (it was released, or the client did not send it): " +
            "put the value again with client.put and pass the new ref",
        );
      }
      args[arg] = this.#values.get(id);
    }
    return { ...message, args, values: undefined, refs: undefined };
  }

  /** Forgets the values `message` names; unknown ids are ignored. */
  release(message: ReleaseMessage): void {
    for (const id of message.ids) this.#values.delete(id);
  }
}
