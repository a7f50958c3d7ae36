/**
 * The tasks of one engine, from their submission to their end: the queue
 * that holds them here, the few sent ahead to the engine (`TASK_PIPELINE`)
 * so that it never waits for a round trip between tasks, and what aborting
 * one does wherever it is. Every task has one phase at a time, and every
 * observer hears `done` exactly once: this file is where that is kept.
 *
 * @module
 */

import { TaskAbortedError } from "../protocol/errors.ts";
import { TASK_PIPELINE } from "../protocol/messages.ts";
import type { Task, TaskOutcome } from "./engine_types.ts";
import { unsendableError } from "./engine_failures.ts";
import type { Entry, PipelineLink } from "./task_phases.ts";

export type { PipelineLink };

/**
 * One engine's tasks and their phases. The engine actor owns one and tells
 * it what the engine said; it sends `run` and `cancel` messages and tells
 * each task's observer how it goes.
 *
 * @example
 * ```ts
 * import { TaskPipeline } from "./task_pipeline.ts";
 * const sent: string[] = [];
 * const pipeline = new TaskPipeline(0, {
 *   send: (message) => void sent.push(message.t),
 *   stopRunning() {},
 * });
 * pipeline.submit({
 *   taskId: 1,
 *   fn: { kind: "source", source: "() => 42" },
 *   args: [],
 *   observer: { started() {}, stream() {}, done: (o) => console.log(o) },
 * });
 * pipeline.sendAhead();
 * console.log(sent, pipeline.load); // ["run"] 1
 * ```
 */
export class TaskPipeline {
  #engineId: number;
  #link: PipelineLink;
  /** Tasks not sent yet, from `#queueHead` on (a cheap shift). */
  #queue: Entry[] = [];
  #queueHead = 0;
  /**
   * Tasks sent to the engine and not out of it, in order: the first is the
   * one it runs, the rest wait in the engine.
   */
  #sent: Entry[] = [];
  /** Tasks held whose observer has not heard `done`. */
  #untold = 0;
  /** `cancel` messages sent, and answered, since the thread started. */
  #cancelsSent = 0;
  #cancelsAnswered = 0;
  /** The running task whose thread is being ended to abort it. */
  #stopping: Entry | undefined;

  constructor(engineId: number, link: PipelineLink) {
    this.#engineId = engineId;
    this.#link = link;
  }

  /** Tasks held that have not ended, the running one included. */
  get load(): number {
    return this.#untold;
  }

  /** Whether any task is in the engine. */
  get busy(): boolean {
    return this.#sent.length > 0;
  }

  /** The task the engine runs (or ran last, if it has not said). */
  get head(): Task | undefined {
    return this.#sent[0]?.task;
  }

  /** Queues `task`; `sendAhead` sends it when its turn comes. */
  submit(task: Task): void {
    this.#queue.push({ task, phase: "queued", cancel: 0 });
    this.#untold++;
  }

  /**
   * Sends queued tasks until `TASK_PIPELINE` are in the engine. Nothing is
   * sent while the running task's thread is being ended: the new thread
   * would have none of it, and the old one might run it.
   */
  sendAhead(): void {
    while (
      !this.#stopping && this.#sent.length < TASK_PIPELINE &&
      this.#queueHead < this.#queue.length
    ) {
      const entry = this.#queue[this.#queueHead];
      this.#queue[this.#queueHead++] = undefined as unknown as Entry;
      if (this.#queueHead > 1024 && this.#queueHead * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#queueHead);
        this.#queueHead = 0;
      }
      if (entry.phase !== "queued") continue; // Aborted while it waited.
      const { taskId, fn, mode, args, refs } = entry.task;
      try {
        this.#link.send(
          refs
            ? { t: "run", taskId, fn, mode, args, refs }
            : { t: "run", taskId, fn, mode, args },
        );
      } catch (error) {
        this.#settle(entry, unsendableError(this.#engineId, taskId, error));
        continue;
      }
      entry.phase = "sent";
      this.#sent.push(entry);
      this.#startHead();
    }
  }

  /**
   * Aborts the tasks of `taskIds` that are held: a queued one fails now and
   * is never sent; one sent ahead fails now and the engine is asked to drop
   * it; the running one is stopped, and fails once its thread is gone.
   */
  abort(taskIds: ReadonlySet<number>): void {
    for (let i = this.#queueHead; i < this.#queue.length; i++) {
      const entry = this.#queue[i];
      if (entry.phase === "queued" && taskIds.has(entry.task.taskId)) {
        this.#settle(entry, this.#aborted(entry));
      }
    }
    const [head, ...ahead] = this.#sent;
    if (head?.phase === "running" && taskIds.has(head.task.taskId)) {
      this.#stop(head);
    }
    for (const entry of ahead) {
      // Asked back already: it fails now, and the recall's answer ends it.
      if (entry.phase === "recalling" && taskIds.has(entry.task.taskId)) {
        this.#tell(
          entry,
          { ok: false, error: this.#aborted(entry) },
          "cancelling",
        );
      }
    }
    const cancel = ahead.filter((entry) =>
      entry.phase === "sent" && taskIds.has(entry.task.taskId)
    );
    if (cancel.length === 0) return;
    // A thread being ended drops them itself: no request to answer then.
    const request = this.#stopping ? 0 : ++this.#cancelsSent;
    for (const entry of cancel) {
      entry.cancel = request;
      this.#tell(
        entry,
        { ok: false, error: this.#aborted(entry) },
        "cancelling",
      );
    }
    if (request > 0) {
      this.#link.send({
        t: "cancel",
        taskIds: cancel.map((e) => e.task.taskId),
      });
    }
  }

  /**
   * The engine answered the oldest `cancel`: it dropped `taskIds`. A task
   * of that request it kept had started by then; if it still runs, it is
   * stopped the hard way. Returns what breaks the protocol, if anything.
   */
  cancelled(taskIds: readonly number[]): string | undefined {
    const request = this.#cancelsAnswered < this.#cancelsSent
      ? this.#cancelsAnswered + 1
      : undefined;
    const asked = this.#sent.filter((entry) =>
      (entry.phase === "cancelling" || entry.phase === "recalling") &&
      entry.cancel === request
    );
    const askedIds = new Set(asked.map((entry) => entry.task.taskId));
    const unasked = taskIds.filter((id) => !askedIds.has(id));
    if (unasked.length > 0) {
      const tasks = `task${unasked.length > 1 ? "s" : ""} ${
        unasked.join(", ")
      }`;
      return `a "cancelled" message naming ${tasks}, which the client did ` +
        "not ask it to cancel";
    }
    if (request === undefined) return; // An empty answer to nothing: moot.
    this.#cancelsAnswered = request;
    const dropped = new Set(taskIds);
    const back: Entry[] = [];
    this.#sent = this.#sent.filter((entry) => {
      if (!dropped.has(entry.task.taskId)) return true;
      if (entry.phase === "recalling") back.push(entry);
      entry.phase = "settled";
      return false;
    });
    // A recalled task the engine kept had started: it runs as any other.
    for (const entry of asked) {
      if (entry.phase === "recalling") entry.phase = "sent";
    }
    const head = this.#sent[0];
    if (head?.phase === "cancelling" && head.cancel === request) {
      this.#stop(head);
    } else {
      this.#startHead();
    }
    for (const entry of back) {
      this.#untold--;
      entry.task.observer.handBack!();
    }
  }

  /**
   * The task that a `done` for `taskId` ends, if the engine may end one
   * now: the running one (a `done` from a thread being ended is void).
   */
  doneFor(taskId: number): Task | undefined {
    const head = this.#sent[0];
    if (!head || head.task.taskId !== taskId || this.#stopping) return;
    return head.task;
  }

  /**
   * The running task (`doneFor`'s) ended with `outcome`: its observer hears
   * it, unless it was aborted while sent ahead (its result is void then),
   * and the next task sent is the one running now.
   */
  finishHead(outcome: () => TaskOutcome): void {
    const head = this.#sent.shift();
    if (!head) return;
    if (head.phase === "recalling") {
      // It ran before the engine read the recall: it is done, not back.
      head.phase = "running";
      head.task.observer.started();
    }
    if (head.phase === "running") this.#tell(head, outcome(), "settled");
    else head.phase = "settled";
    this.#startHead();
  }

  /** Console output of the running task reaches its observer. */
  stream(taskId: number, name: "stdout" | "stderr", text: string): void {
    const head = this.#sent[0];
    if (head?.phase === "running" && head.task.taskId === taskId) {
      head.task.observer.stream(name, text);
    }
  }

  /**
   * The engine's thread is gone (replaced or dead). If that was to stop
   * the running task, it fails as aborted, the tasks sent ahead of it go
   * back to the front of the queue (those being cancelled have failed
   * already), and its id is returned; otherwise nothing changes here and
   * the caller decides what is lost.
   */
  threadGone(): number | undefined {
    const stopped = this.#stopping;
    if (!stopped) return;
    this.#stopping = undefined;
    if (stopped.phase === "running") {
      this.#settle(stopped, this.#aborted(stopped));
    } else {
      stopped.phase = "settled";
    }
    const back: Entry[] = [];
    for (const entry of this.#sent.slice(1)) {
      if (entry.phase === "sent" || entry.phase === "recalling") {
        entry.phase = "queued";
        back.push(entry);
      } else {
        entry.phase = "settled";
      }
    }
    this.#sent = [];
    this.#cancelsAnswered = this.#cancelsSent;
    this.#queue = [...back, ...this.#queue.slice(this.#queueHead)];
    this.#queueHead = 0;
    return stopped.task.taskId;
  }

  /** Every task in the engine is lost with it; each fails with `error`. */
  loseSent(error: (task: Task) => Error): void {
    this.#stopping = undefined;
    this.#cancelsAnswered = this.#cancelsSent;
    // One at a time: should an observer throw, the actor's crash handling
    // fails the rest, still here, with its own loseSent.
    while (this.#sent.length > 0) {
      const entry = this.#sent.shift()!;
      if (entry.phase === "cancelling") entry.phase = "settled";
      else this.#settle(entry, error(entry.task));
    }
  }

  /**
   * Gives back every queued task whose observer takes it back (the load
   * balancer's), for another engine to run; the others stay queued. Those
   * sent ahead are asked back (a `cancel`): each the engine drops is given
   * back once it says so; one it had started runs to its end here.
   */
  handBackQueued(): void {
    const kept: Entry[] = [];
    while (this.#queueHead < this.#queue.length) {
      const entry = this.#queue[this.#queueHead++];
      if (entry.phase !== "queued") continue;
      const { handBack } = entry.task.observer;
      if (!handBack) {
        kept.push(entry);
        continue;
      }
      entry.phase = "settled";
      this.#untold--;
      handBack();
    }
    this.#queue = kept;
    this.#queueHead = 0;
    this.#recall();
  }

  /** Every queued task fails with `error`. */
  failQueue(error: (task: Task) => Error): void {
    // One at a time, as in `loseSent`.
    while (this.#queueHead < this.#queue.length) {
      const entry = this.#queue[this.#queueHead++];
      if (entry.phase === "queued") this.#settle(entry, error(entry.task));
    }
    this.#queue = [];
    this.#queueHead = 0;
  }

  /** The first task sent runs now, unless it was aborted while it waited. */
  #startHead(): void {
    const head = this.#sent[0];
    if (head?.phase !== "sent") return;
    head.phase = "running";
    head.task.observer.started();
  }

  /**
   * Asks the engine for the tasks sent ahead that another engine may run.
   * A thread being ended drops them itself (`threadGone` queues them).
   */
  #recall(): void {
    if (this.#stopping) return;
    const recall = this.#sent.slice(1).filter((entry) =>
      entry.phase === "sent" && entry.task.observer.handBack
    );
    if (recall.length === 0) return;
    const request = ++this.#cancelsSent;
    for (const entry of recall) {
      entry.phase = "recalling";
      entry.cancel = request;
    }
    this.#link.send({
      t: "cancel",
      taskIds: recall.map((entry) => entry.task.taskId),
    });
  }

  /** Only ending its thread stops a running task; one at a time. */
  #stop(head: Entry): void {
    if (this.#stopping) return;
    this.#stopping = head;
    this.#link.stopRunning();
  }

  #aborted(entry: Entry): TaskAbortedError {
    return new TaskAbortedError({
      engineId: this.#engineId,
      taskId: entry.task.taskId,
    });
  }

  #settle(entry: Entry, error: Error): void {
    this.#tell(entry, { ok: false, error }, "settled");
  }

  /**
   * The one place an observer hears `done`. A task is told once: telling
   * one that was told is a bug of ours, and the actor's crash handling
   * (which fails what it held) is better than a second outcome.
   */
  #tell(
    entry: Entry,
    outcome: TaskOutcome,
    phase: "cancelling" | "settled",
  ): void {
    if (entry.phase === "cancelling" || entry.phase === "settled") {
      throw new Error(`task ${entry.task.taskId} would be told twice`);
    }
    entry.phase = phase;
    this.#untold--;
    entry.task.observer.done(outcome);
  }
}
