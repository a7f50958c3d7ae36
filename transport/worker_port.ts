/**
 * The thread side of a `WorkerLink`.
 *
 * @module
 */

import { parentPort } from "node:worker_threads";
import { packMessage } from "./transferables.ts";
import { deliverPosted } from "./post_batch.ts";

/**
 * Carries messages between this thread and the one that started it.
 * `post` works from code that never yields: the message is on its way before
 * `post` returns.
 *
 * @example
 * ```ts
 * import { WorkerPort } from "./worker_port.ts";
 * // The serve() of a thread entry, which a WorkerLink starts:
 * function serve() {
 *   const port = new WorkerPort<string, string>();
 *   port.onMessage = (text) => port.post(text.toUpperCase());
 * }
 * ```
 */
export class WorkerPort<Out, In> {
  /**
   * Called for each message from the parent thread, in order: those the
   * parent coalesced into one post (`Outbox`) one by one.
   */
  onMessage: (message: In) => void = () => {};

  /** Must run on a thread started by a `WorkerLink`. */
  constructor() {
    if (!parentPort) {
      throw new Error("WorkerPort must run inside a troupe engine thread");
    }
    // The thread's own message event rather than `parentPort.on`: Deno's
    // `parentPort` listener walks every message it delivers, property by
    // property, for MessagePorts to wrap (patchMessagePortIfFound, ~8% of
    // a Worker engine's time on tiny tasks); troupe sends none. Like
    // `parentPort.on`, the listener keeps the thread alive.
    globalThis.addEventListener(
      "message",
      (event: Event) =>
        deliverPosted<In>(
          (event as MessageEvent).data,
          (m) => this.onMessage(m),
        ),
    );
  }

  /** Sends one message; throws at once if it cannot be cloned. */
  post(message: Out): void {
    const { value, transfer } = packMessage(message);
    parentPort!.postMessage(value, transfer);
  }
}
