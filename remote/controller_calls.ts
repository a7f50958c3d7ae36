/**
 * A connected client's calls to its controller (`ControllerCall`) that wait
 * for their `reply`: each bounded by a timeout and by the connection's end.
 *
 * @module
 */

import { TimeoutError } from "../protocol/errors.ts";
import type { ControllerCall, ToController, WireError } from "./wire.ts";

/** How long a call waits for its reply when it says nothing else. */
export const CALL_TIMEOUT_MS = 60_000;

/**
 * How much longer than a call's own `timeoutMs` the client waits: the
 * controller's answer to a call that timed out there (which says what was
 * missing) must have the time to arrive.
 */
const REPLY_GRACE_MS = 5_000;

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * The calls in flight, by id.
 *
 * @example
 * ```ts
 * import { ControllerCalls } from "./controller_calls.ts";
 * const calls = new ControllerCalls((error) => error as unknown as Error);
 * const sent: unknown[] = [];
 * const history = calls.call((m) => sent.push(m), { kind: "history" });
 * calls.answer({ t: "reply", id: 1, ok: true, value: [1, 2] });
 * console.log(await history); // [1, 2]
 * ```
 */
export class ControllerCalls {
  #next = 0;
  #pending = new Map<number, Pending>();
  #ended: Error | undefined;
  #revive: (wire: WireError) => Error;

  /** `revive` turns a failed reply's error back into an `Error`. */
  constructor(revive: (wire: WireError) => Error) {
    this.#revive = revive;
  }

  /**
   * Sends `call` with `send` and resolves with the reply's value; rejects
   * with the reply's error, a `TimeoutError` after `timeoutMs` (the call's
   * own bound and a few seconds more, else 60 s), or the connection's end.
   */
  call(
    send: (message: ToController) => void,
    call: ControllerCall,
    timeoutMs?: number,
  ): Promise<unknown> {
    if (this.#ended) return Promise.reject(this.#ended);
    const id = ++this.#next;
    const own = "timeoutMs" in call ? call.timeoutMs : undefined;
    const bound = timeoutMs ??
      (own === undefined ? CALL_TIMEOUT_MS : own + REPLY_GRACE_MS);
    const { promise, resolve, reject } = Promise.withResolvers<unknown>();
    const timer = setTimeout(() => {
      this.#pending.delete(id);
      reject(
        new TimeoutError(
          `the controller did not answer ${call.kind} within ${bound} ms`,
        ),
      );
    }, bound);
    this.#pending.set(id, { resolve, reject, timer });
    try {
      send({ t: "call", id, call });
    } catch (error) {
      this.#settle(id)?.reject(error as Error);
    }
    return promise;
  }

  /** A `reply` came. One for no call in flight (timed out) is dropped. */
  answer(
    reply:
      | { t: "reply"; id: number; ok: true; value: unknown }
      | { t: "reply"; id: number; ok: false; error: WireError },
  ): void {
    const pending = this.#settle(reply.id);
    if (!pending) return;
    if (reply.ok) pending.resolve(reply.value);
    else pending.reject(this.#revive(reply.error));
  }

  /** The connection ended: every call in flight, and any later, rejects. */
  end(error: Error): void {
    this.#ended ??= error;
    for (const id of [...this.#pending.keys()]) {
      this.#settle(id)?.reject(this.#ended);
    }
  }

  #settle(id: number): Pending | undefined {
    const pending = this.#pending.get(id);
    if (!pending) return undefined;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    return pending;
  }
}
