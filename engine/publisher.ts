/**
 * `publishData` inside an engine: checks what the task publishes, sends it
 * while the publication window has room (`protocol/flow_control.ts`) and the
 * engine's pace allows a post (`engine/publish_pace.ts`), and otherwise
 * merges the calls into one publication, sent once both allow it again or
 * when the task ends.
 *
 * @module
 */

import type { EnginePort } from "../protocol/engine_link.ts";
import { messageOf } from "../protocol/errors.ts";
import { PublishWindow } from "../protocol/flow_control.ts";
import { checkCrossable } from "../transport/crossing_check.ts";
import { PublishPace } from "./publish_pace.ts";
import { describeType } from "./task_errors.ts";

/**
 * One engine's publisher. `runningTask` tells which task is running now,
 * if any: publications belong to it, and outside a task there is none to
 * publish for.
 *
 * @example
 * ```ts
 * import { Publisher } from "./publisher.ts";
 * import type { EnginePort } from "../protocol/engine_link.ts";
 * import { newSharedSlots } from "../protocol/messages.ts";
 * const sent: unknown[] = [];
 * const port: EnginePort = { post: (m) => void sent.push(m), onMessage() {} };
 * const slots = new Int32Array(newSharedSlots());
 * const publisher = new Publisher(port, 0, slots, () => 7);
 * publisher.publish({ i: 1 });
 * console.log(sent); // [{ t: "pub", taskId: 7, seq: 1, time: ..., data: { i: 1 } }]
 * ```
 */
export class Publisher {
  #port: EnginePort;
  #engineId: number;
  #window: PublishWindow;
  #pace: PublishPace;
  #runningTask: () => number | undefined;
  /** `publishData` calls so far; a publication's seq is its last call. */
  #calls = 0;
  #pending: Record<string, unknown> | undefined;
  #pendingTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Publishes through `port`, paced by the shared `slots`' count and by
   * `pace` (the engine's own by default).
   */
  constructor(
    port: EnginePort,
    engineId: number,
    slots: Int32Array<ArrayBufferLike>,
    runningTask: () => number | undefined,
    pace: PublishPace = new PublishPace(),
  ) {
    this.#port = port;
    this.#engineId = engineId;
    this.#window = new PublishWindow(slots);
    this.#pace = pace;
    this.#runningTask = runningTask;
  }

  /** What `publishData(data)` does. Throws on bad input, saying why. */
  publish(data: Record<string, unknown>): void {
    if (this.#runningTask() === undefined) {
      throw new Error(
        `publishData() was called on engine ${this.#engineId} while no task ` +
          "was running (e.g. from a timer the task left behind). Call it " +
          "from the task itself, before the task returns.",
      );
    }
    if (data === null || typeof data !== "object" || Array.isArray(data)) {
      throw new TypeError(
        "publishData() takes an object of named values, e.g. " +
          `publishData({ a, i }); it got ${describeType(data)}`,
      );
    }
    checkCrossable(data, "the data given to publishData()");
    this.#calls++;
    if (this.#pending === undefined && this.#mayPost()) {
      this.#send(data);
      return;
    }
    // The client is behind, or this loop publishes faster than posts are
    // worth: merge instead of queueing, so a fast publisher costs bounded
    // memory and little time.
    this.#pending = mergeCopies(this.#pending ?? {}, data);
    if (this.#mayPost()) this.#flushPending(false);
    else this.#pendingTimer ??= setTimeout(() => this.#retryPending(), 1);
  }

  /**
   * The running task is ending: what it published and is still merged is
   * sent now, room or not, so that its last values arrive with it.
   */
  flush(): void {
    this.#flushPending(true);
  }

  #retryPending(): void {
    this.#pendingTimer = undefined;
    if (this.#pending === undefined || this.#runningTask() === undefined) {
      return;
    }
    if (this.#mayPost()) this.#flushPending(false);
    else this.#pendingTimer = setTimeout(() => this.#retryPending(), 1);
  }

  /** The window first: reading it costs less than the pace's clock. */
  #mayPost(): boolean {
    return this.#window.hasRoom() && this.#pace.hasToken();
  }

  /** Sends merged publications: when there is room, or at the task's end. */
  #flushPending(force: boolean): void {
    if (
      this.#pending === undefined || !(force || this.#mayPost())
    ) return;
    const data = this.#pending;
    this.#pending = undefined;
    clearTimeout(this.#pendingTimer);
    this.#pendingTimer = undefined;
    this.#send(data);
  }

  #send(data: Record<string, unknown>): void {
    try {
      this.#port.post({
        t: "pub",
        taskId: this.#runningTask()!,
        seq: this.#calls,
        time: Date.now(),
        data,
      });
    } catch (error) {
      throw new TypeError(
        `publishData() could not send its data: ${messageOf(error)}. ` +
          "Publish plain data: numbers, strings, arrays, typed arrays and " +
          "plain objects of those.",
      );
    }
    this.#window.sent();
    this.#pace.spend();
  }
}

/**
 * Merges `data` into `into` key by key, later keys winning (as `mergeData`
 * does, without an object in between: a busy loop makes garbage enough),
 * copying only what the task could still change: a primitive is its own
 * copy, an object is cloned so that the merged value is as it was at this
 * call, as a post would have taken it.
 */
function mergeCopies(
  into: Record<string, unknown>,
  data: Record<string, unknown>,
): Record<string, unknown> {
  for (const key of Object.keys(data)) {
    const value = data[key];
    into[key] = typeof value === "object" && value !== null
      ? cloneForLater(value)
      : value;
  }
  return into;
}

function cloneForLater(value: object): object {
  try {
    return structuredClone(value);
  } catch (error) {
    throw new TypeError(
      `publishData() could not copy its data: ${messageOf(error)}. ` +
        "Publish plain data: numbers, strings, arrays, typed arrays and " +
        "plain objects of those.",
    );
  }
}
