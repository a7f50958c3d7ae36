/**
 * The actor runtime: an object that owns its state and changes it only by
 * handling one message at a time from its mailbox.
 *
 * @module
 */

/**
 * Base class of troupe's actors. `tell` never runs a handler re-entrantly:
 * a message told while another is being handled waits its turn, so each
 * handler sees the state its predecessor left. When the mailbox is idle the
 * message is handled at once, without a microtask hop, which keeps the
 * engine's hot path short.
 *
 * A handler that throws crashes the actor: it handles nothing more, `onCrash`
 * runs (a supervisor decides what happens next), and every message left in
 * the mailbox or told later goes to `onDropped`, so that whoever waits on
 * one can be answered.
 *
 * @example
 * ```ts
 * import { Actor } from "./actor.ts";
 * class Counter extends Actor<"inc"> {
 *   count = 0;
 *   protected receive(): void {
 *     this.count++;
 *   }
 * }
 * const c = new Counter();
 * c.tell("inc");
 * console.log(c.count); // 1
 * ```
 */
export abstract class Actor<M> {
  #mailbox: M[] = [];
  #handling = false;
  #crashed = false;

  /** Queues `message`; handles it now when nothing else is being handled. */
  tell(message: M): void {
    if (this.#crashed) {
      this.onDropped(message);
      return;
    }
    if (this.#handling) {
      this.#mailbox.push(message);
      return;
    }
    this.#handling = true;
    // Where the handler that throws was: -1 for `message`, which an idle
    // mailbox handles without queueing it. Most tells find it idle, and a
    // push would allocate the mailbox's store for each (emptied after).
    let i = -1;
    try {
      this.receive(message);
      for (i = 0; i < this.#mailbox.length; i++) {
        this.receive(this.#mailbox[i]);
      }
      this.#mailbox.length = 0;
    } catch (error) {
      this.#crashed = true;
      const left = this.#mailbox.slice(i + 1);
      this.#mailbox.length = 0;
      this.#handling = false;
      this.onCrash(error);
      for (const dropped of left) this.onDropped(dropped);
    } finally {
      this.#handling = false;
    }
  }

  /** Handles one message. Must not be called directly: use `tell`. */
  protected abstract receive(message: M): void;

  /** Called once when a handler throws. The default rethrows nothing. */
  protected onCrash(_error: unknown): void {}

  /**
   * Called, after a crash, for each message that will never be handled.
   * The default drops it.
   */
  protected onDropped(_message: M): void {}
}
