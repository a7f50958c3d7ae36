/**
 * Coalescing the messages that are ready into one `postMessage` between
 * threads. A post costs the same whether it carries one message or fifty
 * (the host's post op, a clone, and the receiver's turn of its event
 * loop), so the messages sent in one turn of the sender's code travel
 * together. The first message of a turn is posted at once, as it is: a
 * lone message waits for nothing, not even for the code after it (which
 * may block its thread until the other side answers). The ones sent after
 * it in the same turn are posted as one array when that code is done (a
 * microtask).
 *
 * Batches are transparent: `deliverPosted` hands the receiver each message
 * in order, as if each had been posted alone. No protocol message is an
 * array, so an array is always a batch.
 *
 * @module
 */

import { packMessage, unpackMessage } from "./transferables.ts";

/** How a batch reaches the other thread (`postMessage` of a port). */
export type Post = (value: unknown, transfer: ArrayBuffer[]) => void;

/**
 * Messages waiting for the end of the sender's turn. Each message is
 * packed (`packMessage`) when it is added, so that what cannot be carried
 * (a large detached buffer, a value `packMessage` refuses) throws at once,
 * to the caller that sent it.
 *
 * @example
 * ```ts
 * import { Outbox } from "./post_batch.ts";
 * const posted: unknown[] = [];
 * const outbox = new Outbox((value) => posted.push(value), console.error);
 * outbox.add({ t: "ping", n: 1 }); // posted at once
 * outbox.add({ t: "ping", n: 2 });
 * outbox.add({ t: "ping", n: 3 });
 * await Promise.resolve();
 * console.log(posted); // [{ t: "ping", n: 1 }, [{ n: 2 ... }, { n: 3 ... }]]
 * ```
 */
export class Outbox {
  #post: Post;
  #lost: (error: unknown) => void;
  #values: unknown[] = [];
  #transfers: ArrayBuffer[][] = [];
  /** Whether this turn has posted: later messages wait for its end. */
  #turn = false;
  #flush = () => this.flush();

  /**
   * Posts with `post`. `lost` hears of a message that could not be posted
   * at the flush, which `add` could not foresee: the caller then knows its
   * thread misses a message and must end it, since the protocol has no way
   * to ask again.
   */
  constructor(post: Post, lost: (error: unknown) => void) {
    this.#post = post;
    this.#lost = lost;
  }

  /**
   * Posts `message` now if it is the first of this turn, or queues it for
   * the end of the turn; throws at once if it cannot go.
   */
  add(message: unknown): void {
    const { value, transfer } = packMessage(message);
    if (!this.#turn) {
      this.#turn = true;
      queueMicrotask(this.#flush);
      this.#post(value, transfer);
      return;
    }
    this.#values.push(value);
    this.#transfers.push(transfer);
  }

  /** Posts what is queued now, as one post, and ends the turn. */
  flush(): void {
    this.#turn = false;
    const values = this.#values;
    const transfers = this.#transfers;
    if (values.length === 0) return;
    this.#values = [];
    this.#transfers = [];
    if (values.length === 1) {
      this.#postEach(values, transfers);
      return;
    }
    try {
      this.#post(values, transfers.flat());
    } catch {
      // One of them cannot be cloned: the others still go, in order.
      this.#postEach(values, transfers);
    }
  }

  #postEach(values: unknown[], transfers: ArrayBuffer[][]): void {
    for (let i = 0; i < values.length; i++) {
      try {
        this.#post(values[i], transfers[i]);
      } catch (error) {
        this.#lost(error);
      }
    }
  }
}

/**
 * Hands `onMessage` each message of what one post carried, in order, as
 * it was sent (unpacked). Every message is delivered even if a handler
 * throws; the first error is thrown again once all have been.
 *
 * @example
 * ```ts
 * import { deliverPosted } from "./post_batch.ts";
 * deliverPosted([{ t: "pong" }, { t: "pong" }], (m) => console.log(m));
 * deliverPosted({ t: "pong" }, (m) => console.log(m)); // a lone message
 * ```
 */
export function deliverPosted<In>(
  data: unknown,
  onMessage: (message: In) => void,
): void {
  if (!Array.isArray(data)) {
    onMessage(unpackMessage(data as In));
    return;
  }
  let failure: { error: unknown } | undefined;
  for (const value of data) {
    try {
      onMessage(unpackMessage(value as In));
    } catch (error) {
      failure ??= { error };
    }
  }
  if (failure) throw failure.error;
}
