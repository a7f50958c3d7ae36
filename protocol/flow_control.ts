/**
 * Publication flow control: the window that keeps a busy publisher from
 * flooding the client. The engine may have `PUBLISH_WINDOW` publications in
 * flight; the receiving side counts each one it has taken in, in the
 * `ACK_SLOT` of the shared slots (`InitMessage.acks`), and the engine reads
 * that count without yielding, so that even a task that never awaits is
 * paced. Past the window the engine merges what it publishes instead of
 * sending it (`engine/publisher.ts`).
 *
 * Who takes a publication in: the engine actor, over a link that shares
 * memory (a Worker); an engine process's relay, once the publication's
 * frame is written to the socket.
 *
 * @module
 */

import { ACK_SLOT } from "./messages.ts";

/**
 * How many publications an engine may have in flight before it merges the
 * rest. Large enough to never throttle a sane publisher, small enough to
 * bound the client's queue when a busy loop publishes millions of times.
 *
 * @example
 * ```ts
 * import { PUBLISH_WINDOW } from "./flow_control.ts";
 * console.log(`at most ${PUBLISH_WINDOW} publications in flight`);
 * ```
 */
export const PUBLISH_WINDOW = 64;

/**
 * The sending side of the window: counts what it sends, and compares that
 * with what the receiver has taken in.
 *
 * @example
 * ```ts
 * import { ackPublication, PublishWindow } from "./flow_control.ts";
 * import { newSharedSlots } from "./messages.ts";
 * const slots = new Int32Array(newSharedSlots());
 * const window = new PublishWindow(slots);
 * while (window.hasRoom()) window.sent();
 * ackPublication(slots); // the receiver took one in
 * console.log(window.hasRoom()); // true
 * ```
 */
export class PublishWindow {
  #slots: Int32Array<ArrayBufferLike>;
  #sent = 0;

  /**
   * Over the shared slots the receiver counts in. Slots that nobody shares
   * are never counted in: the window fills once and stays full.
   */
  constructor(slots: Int32Array<ArrayBufferLike>) {
    this.#slots = slots;
  }

  /** Whether one more publication may be sent now. */
  hasRoom(): boolean {
    return this.#sent - Atomics.load(this.#slots, ACK_SLOT) < PUBLISH_WINDOW;
  }

  /** One publication was sent. */
  sent(): void {
    this.#sent++;
  }
}

/**
 * The receiving side: counts one publication as taken in, at once or, with
 * `written`, once it settles (however it settles: a publication that could
 * not be written is taken in all the same, or the window would wait for it
 * forever).
 *
 * @example
 * ```ts
 * import { ackPublication } from "./flow_control.ts";
 * import { ACK_SLOT, newSharedSlots } from "./messages.ts";
 * const slots = new Int32Array(newSharedSlots());
 * ackPublication(slots);
 * await ackPublication(slots, Promise.resolve());
 * console.log(Atomics.load(slots, ACK_SLOT)); // 2
 * ```
 */
export function ackPublication(
  slots: Int32Array<ArrayBufferLike>,
  written?: Promise<unknown>,
): Promise<void> | undefined {
  const ack = () => void Atomics.add(slots, ACK_SLOT, 1);
  if (written === undefined) {
    ack();
    return undefined;
  }
  return written.then(ack, ack);
}
