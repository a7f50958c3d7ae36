/**
 * The engine actor's hold on its current link: the `init` that starts the
 * engine (with the shared memory of acks and the running task's id, where
 * the link shares memory), the ways the actor ends the engine or its task,
 * and when the engine is gone. A restart attaches a new one.
 *
 * @module
 */

import type { DeathCause, EngineLink } from "../protocol/engine_link.ts";
import { ackPublication } from "../protocol/flow_control.ts";
import {
  type FromEngine,
  newSharedSlots,
  type RunMessage,
  RUNNING_SLOT,
  type ToEngine,
} from "../protocol/messages.ts";
import { PutDelivery } from "./put_delivery.ts";
import { entriesOf } from "./put_store.ts";

/** Where what the engine says and its end are told. */
export interface LinkHandlers {
  message(message: FromEngine): void;
  /** The engine is gone, or could not be started, for `reason`. */
  exit(reason: string, cause?: DeathCause): void;
}

/**
 * One link, attached: `init` sent, its messages and exit routed.
 *
 * @example
 * ```ts
 * import { AttachedLink } from "./attached_link.ts";
 * import type { EngineLink } from "../protocol/engine_link.ts";
 * function start(link: EngineLink): AttachedLink {
 *   return new AttachedLink(link, 0, {
 *     message: (m) => console.log(m.t), // "ready", once it is
 *     exit: (reason) => console.log("gone:", reason),
 *   });
 * }
 * ```
 */
export class AttachedLink {
  readonly link: EngineLink;
  #acks: Int32Array;
  #gone: Promise<void> = Promise.resolve();
  /** The put values this life of the engine's thread was sent. */
  #puts: PutDelivery;

  /** Routes `link` to `handlers` and sends it `init` for `engineId`. */
  constructor(link: EngineLink, engineId: number, handlers: LinkHandlers) {
    this.link = link;
    const acks = newSharedSlots();
    this.#acks = new Int32Array(acks);
    this.#puts = new PutDelivery(link.sharesMemory, (m) => link.send(m));
    // Forgotten as the news arrives, before the actor hears it: a `run`
    // sent from now on reaches the new thread, so it carries its values.
    link.onMessage = (message) => {
      // Not yet checked against the protocol (the actor does that): a
      // malformed frame such as `null` must reach it, not throw here.
      if (message?.t === "reset") this.#puts.forget();
      handlers.message(message);
    };
    link.onExit = (reason, cause) => {
      this.#puts.forget();
      handlers.exit(reason, cause);
    };
    try {
      link.send({
        t: "init",
        engineId,
        ...(link.sharesMemory ? { acks } : {}),
        ...(link.maxFrameBytes ? { maxFrameBytes: link.maxFrameBytes } : {}),
      });
    } catch (error) {
      handlers.exit(`it could not start: ${error}`, "start_failed");
    }
  }

  /**
   * Sends `message`; a `run` whose task takes put values (its `refs`)
   * carries those this thread was not sent yet. Throws when the link
   * cannot carry it (nothing sent).
   */
  send(message: ToEngine): void {
    const puts = message.t === "run" && message.refs
      ? entriesOf(message.refs)
      : undefined;
    if (puts === undefined) {
      this.link.send(message);
      return;
    }
    this.link.send(this.#puts.attach(message as RunMessage, puts));
    this.#puts.sent(puts);
  }

  /** Resolves once the engine that the actor ended is gone. */
  get gone(): Promise<void> {
    return this.#gone;
  }

  /** Ends the engine now, even mid-task. */
  terminate(): void {
    this.#gone = this.link.terminate();
  }

  /** Ends the engine for good; a remote one is told to exit. */
  shutdown(): void {
    this.#gone = this.link.shutdown
      ? this.link.shutdown()
      : this.link.terminate();
  }

  /**
   * Ends the running task, which only ending its thread can do: an engine
   * process replaces its task thread itself (`reset` follows); a Worker is
   * terminated and the supervisor restarts it.
   */
  stopRunning(): void {
    if (!this.link.interrupt) {
      this.terminate();
      return;
    }
    // The process may replace the thread any time from now, before its
    // `reset` comes back: a run sent meanwhile may reach the new thread,
    // so it carries its values (the old thread, if it gets them, is ending).
    this.#puts.forget();
    this.link.interrupt();
  }

  /** Pings the engine, so that it has something to answer. */
  ping(): void {
    try {
      this.link.send({ t: "ping" });
    } catch {
      // A link that cannot send reports its exit separately.
    }
  }

  /** A publication was taken in: the engine may publish one more. */
  acknowledge(): void {
    ackPublication(this.#acks);
  }

  /**
   * Whether the engine's thread runs task `taskId` now, as far as can be
   * told: known where memory is shared, assumed elsewhere.
   */
  runs(taskId: number | undefined): boolean {
    return !this.link.sharesMemory ||
      Atomics.load(this.#acks, RUNNING_SLOT) === taskId;
  }
}
