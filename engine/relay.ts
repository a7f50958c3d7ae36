/**
 * The engine process's main thread: relays between the client's connection
 * and the thread that runs tasks. Heartbeats are answered here, so a task
 * that never yields cannot make its engine look dead, and publications are
 * paced by the socket: one counts as taken in once its frame is written.
 *
 * @module
 */

import type {
  DoneMessage,
  FromEngine,
  SpareMessage,
  ToEngine,
} from "../protocol/messages.ts";
import { newSharedSlots, RUNNING_SLOT } from "../protocol/messages.ts";
import { ackPublication } from "../protocol/flow_control.ts";
import type { DeathCause } from "../protocol/engine_link.ts";
import {
  DEFAULT_HEARTBEAT_MISSES,
  MissedBeats,
} from "../protocol/heartbeat.ts";
import type { FramedConnection } from "../transport/framed_connection.ts";
import { giveAwayLarge, largeArraysOf } from "../transport/given_buffers.ts";
import { WorkerLink } from "../transport/worker_link.ts";

import "./worker.ts"; // In the module graph: cached with this one.
const TASK_THREAD = new URL("./worker.ts", import.meta.url);

/**
 * Runs one engine over one authenticated connection until either ends.
 * `closed` resolves with why: `"stop"` when the client asked the engine to
 * stop, otherwise a description of what was lost.
 *
 * @example
 * ```ts
 * import { Relay } from "./relay.ts";
 * import type { FramedConnection } from "../transport/framed_connection.ts";
 * // Once the handshake on `conn` has given this engine its id:
 * async function relay(conn: FramedConnection, engineId: number) {
 *   const why = await new Relay(conn, engineId, 2048).closed;
 *   console.log(`engine ${engineId} done: ${why}`);
 * }
 * ```
 */
export class Relay {
  #conn: FramedConnection;
  #engineId: number;
  #maxHeapMb: number | undefined;
  #sandboxed: boolean;
  #thread!: WorkerLink;
  #acks!: Int32Array;
  #interrupting = false;
  /** Runs sent to the thread and not yet done or cancelled. */
  #pending = 0;
  /** The task thread's heap, as its last pong said. */
  #threadHeap = 0;
  /** Pings in a row that found the thread silent outside any task. */
  #threadBeats = new MissedBeats();
  #done: PromiseWithResolvers<string> = Promise.withResolvers();
  #finished = false;
  /**
   * Why a publication of a running task could not be sent, by task: the
   * task fails when it ends, so that the loss is never silent.
   */
  #lostPublications = new Map<number, string>();

  /**
   * Starts the task thread and begins relaying; `sandboxed`: the process
   * runs under `ClientOptions.permissions`, which its tasks' permission
   * errors name.
   */
  constructor(
    conn: FramedConnection,
    engineId: number,
    maxHeapMb: number | undefined,
    options: { sandboxed?: boolean } = {},
  ) {
    this.#conn = conn;
    this.#engineId = engineId;
    this.#maxHeapMb = maxHeapMb;
    this.#sandboxed = options.sandboxed ?? false;
    conn.onClose = (reason) => this.#finish(`connection lost: ${reason}`);
    this.#startThread();
    conn.onValue = (value) => this.#fromClient(value as ToEngine);
  }

  /** Resolves once the relay has ended, with why. */
  get closed(): Promise<string> {
    return this.#done.promise;
  }

  #startThread(): void {
    const thread = new WorkerLink(TASK_THREAD, {
      name: `troupe engine ${this.#engineId}`,
      maxHeapMb: this.#maxHeapMb,
    });
    const acks = newSharedSlots();
    this.#thread = thread;
    this.#acks = new Int32Array(acks);
    this.#pending = 0;
    this.#lostPublications.clear();
    this.#threadBeats.reset();
    thread.onMessage = (message) => this.#fromThread(message);
    thread.onExit = (reason, cause) =>
      this.#threadExited(thread, reason, cause);
    thread.send({
      t: "init",
      engineId: this.#engineId,
      acks,
      ...(this.#sandboxed ? { sandboxed: true } : {}),
    });
  }

  #fromClient(message: ToEngine): void {
    switch (message.t) {
      case "init":
        // The thread was initialised when it started. The client's frame
        // limit holds both ways from now on: what this engine would send
        // over it fails here, alone, instead of closing the connection.
        if (
          Number.isSafeInteger(message.maxFrameBytes) &&
          message.maxFrameBytes! > 0
        ) {
          this.#conn.maxFrameBytes = message.maxFrameBytes!;
        }
        return;
      case "ping":
        if (this.#stuck()) {
          this.#send({
            t: "fatal",
            reason: `it missed ${DEFAULT_HEARTBEAT_MISSES} heartbeats in a ` +
              "row, its task thread stuck outside any task (a timer or " +
              "callback a task left behind that never returns?)",
          });
          return;
        }
        this.#send({
          t: "pong",
          memory: {
            heapBytes: this.#threadHeap,
            rssBytes: Deno.memoryUsage().rss,
          },
        });
        // The thread checks its own health when it can answer (and says
        // its heap, which the next pong carries).
        this.#thread.send(message);
        return;
      case "interrupt":
        if (this.#interrupting) return;
        this.#interrupting = true;
        this.#thread.terminate();
        return;
      case "run":
        this.#pending++;
        // Decoded from a frame and handed on: its large arrays are moved.
        giveAwayLarge(message);
        this.#thread.send(message);
        return;
      case "cancel":
      case "release":
        this.#thread.send(message);
        return;
      case "stop":
        this.#finish("stop");
        return;
    }
  }

  /**
   * A thread that answers nothing while our task is not what it runs is
   * stuck: this side answers the heartbeats, so it must tell. (A thread
   * that runs a task which never yields is working.)
   */
  #stuck(): boolean {
    const outsideTask = this.#pending > 0 &&
      Atomics.load(this.#acks, RUNNING_SLOT) === 0;
    // The client's default: this side cannot know the client's own count.
    return this.#threadBeats.beat(outsideTask) >= DEFAULT_HEARTBEAT_MISSES;
  }

  #fromThread(message: FromEngine): void {
    this.#threadBeats.heard();
    if (message.t === "done") this.#pending--;
    else if (message.t === "cancelled") {
      this.#pending -= message.taskIds.length;
    }
    switch (message.t) {
      case "pong":
        if (message.memory) this.#threadHeap = message.memory.heapBytes;
        return;
      case "pub":
        // Taken in once its frame is written; at once if it was not sent.
        ackPublication(this.#acks, this.#send(message));
        return;
      case "done": {
        const sent = this.#send(this.#withLostPublication(message));
        const { value } = message;
        if (typeof value === "object" && value !== null) {
          sent?.then(() => this.#giveBack(value));
        }
        return;
      }
      default:
        this.#send(message);
    }
  }

  /**
   * Gives the thread back the copies of large arrays it sent in `value`,
   * now written (or never to be): nothing here reads them any more, and
   * its next copies of their size go into memory already touched.
   */
  #giveBack(value: object): void {
    if (this.#finished) return;
    const arrays = largeArraysOf(value)
      .filter((view) => view.byteLength === view.buffer.byteLength)
      .map((view) => new Uint8Array(view.buffer));
    if (arrays.length === 0) return;
    const spare: SpareMessage = { t: "spare", arrays };
    giveAwayLarge(spare); // Moved, not copied.
    this.#thread.send(spare);
  }

  #threadExited(thread: WorkerLink, reason: string, cause?: DeathCause) {
    if (thread !== this.#thread || this.#finished) return;
    if (this.#interrupting) {
      this.#interrupting = false;
      this.#send({ t: "reset", reason: "the running task was interrupted" });
      this.#startThread();
      return;
    }
    // The client ends the engine on `fatal`; this process then reconnects
    // with a fresh thread, or exits if the client started it.
    this.#send({ t: "fatal", reason, ...(cause ? { cause } : {}) });
  }

  /**
   * A task that ran to its end but lost a publication fails, saying which
   * and why; the other publications were sent.
   */
  #withLostPublication(message: DoneMessage): DoneMessage {
    const lost = this.#lostPublications.get(message.taskId);
    if (lost === undefined) return message;
    this.#lostPublications.delete(message.taskId);
    if (!message.ok) return message;
    return {
      ...message,
      ok: false,
      value: undefined,
      error: {
        name: "RangeError",
        message: `the task ended, but ${lost}. The task fails so that ` +
          "the loss is not silent; its other publications were sent",
      },
    };
  }

  #send(message: FromEngine): Promise<void> | undefined {
    try {
      // What the thread posted is this side's own copy: its large arrays
      // go to the socket from where they are. A `done` while the thread
      // has more runs to finish is followed by theirs: tiny tasks' dones
      // then share a write (a system call and a wake of the client each).
      const moreComing = message.t === "done" && this.#pending > 0;
      return this.#conn.sendOwned(message, moreComing).catch(() => {});
    } catch (error) {
      // Too big for a frame (a `RangeError`), or a value the thread could
      // clone but msgpack cannot encode.
      const why = (error as Error).message;
      const name = error instanceof RangeError ? "RangeError" : "TypeError";
      if (message.t === "done") {
        this.#send({
          ...message,
          ok: false,
          value: undefined,
          error: {
            name,
            message:
              `the task's result could not be sent to the client: ${why}`,
          },
        });
      } else if (message.t === "pub") {
        const lost = `publishData's data (publication ${message.seq}) ` +
          `could not be sent to the client: ${why}`;
        this.#lostPublications.set(message.taskId, lost);
        this.#send({
          t: "stream",
          taskId: message.taskId,
          name: "stderr",
          text: `troupe: ${lost}\n`,
        });
      } else if (message.t === "stream") {
        this.#send({
          ...message,
          text:
            `troupe: ${message.text.length} characters of ${message.name} ` +
            `could not be sent to the client: ${why}\n`,
        });
      }
      return undefined;
    }
  }

  #finish(reason: string): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#conn.close(reason);
    this.#thread.terminate().then(() => this.#done.resolve(reason));
  }
}
