/**
 * The engine actor: the client's side of one engine, owning its whole
 * lifecycle: its link, its task queue, the task running on it, and what
 * happens when it dies.
 *
 * @module
 */

import { Actor } from "./actor.ts";
import type { EngineLink } from "./engine_link.ts";
import {
  EngineError,
  type ErrorInfo,
  RemoteError,
  TaskAbortedError,
} from "./errors.ts";
import {
  ACK_SLOT,
  type DoneMessage,
  type FromEngine,
  type SourceFunction,
} from "./messages.ts";
import type { Registry } from "./registry.ts";

/** How a task ended, as the engine actor reports it. */
export type TaskOutcome =
  | { ok: true; value: unknown; started: number; completed: number }
  | { ok: false; error: Error; started?: number; completed?: number };

/** Follows one task through its engine. */
export interface TaskObserver {
  /** The task was handed to the engine: it is running now. */
  started(): void;
  /** The task wrote to the console. */
  stream(name: "stdout" | "stderr", text: string): void;
  /** The task ended; called exactly once, whatever happened. */
  done(outcome: TaskOutcome): void;
}

/** One unit of work for one engine. */
export interface Task {
  taskId: number;
  fn: SourceFunction;
  args: unknown[];
  observer: TaskObserver;
}

/** Where an engine is in its life. */
export type EngineState = "starting" | "idle" | "busy" | "dead";

/**
 * What happens to an engine, as the client can observe it.
 *
 * @example
 * ```ts
 * import type { EngineEvent } from "./engine_actor.ts";
 * const log = (e: EngineEvent) =>
 *   console.log(e.type, e.engineId, e.type === "died" ? e.reason : "");
 * ```
 */
export type EngineEvent =
  | { type: "registered"; engineId: number }
  | { type: "died"; engineId: number; reason: string };

/** What the engine actor handles. */
export type EngineMessage =
  | { kind: "submit"; task: Task }
  | { kind: "abort"; taskIds: ReadonlySet<number> }
  | { kind: "engine"; message: FromEngine }
  | { kind: "exit"; reason: string }
  | { kind: "stop"; reason: string };

/**
 * Drives one engine over an `EngineLink`. Tasks queue here, not in the
 * engine, and go to the engine one at a time: that is what lets `abort()`
 * drop a queued task before it ever runs, and what makes the engine's death
 * fail exactly the tasks it held.
 *
 * @example
 * ```ts
 * import { EngineActor } from "./engine_actor.ts";
 * import { Registry } from "./registry.ts";
 * import type { EngineLink } from "./engine_link.ts";
 * declare const link: EngineLink;
 * const engine = new EngineActor(0, link, new Registry());
 * engine.tell({
 *   kind: "submit",
 *   task: {
 *     taskId: 1,
 *     fn: { kind: "source", source: "() => 42" },
 *     args: [],
 *     observer: { started() {}, stream() {}, done: (o) => console.log(o) },
 *   },
 * });
 * ```
 */
export class EngineActor extends Actor<EngineMessage> {
  /** The id users see; a restarted engine keeps it. */
  readonly engineId: number;
  #link: EngineLink;
  #registry: Registry;
  #acks: Int32Array;
  #state: EngineState = "starting";
  #queue: Task[] = [];
  #queueHead = 0;
  #running: Task | undefined;
  #tasksDone = 0;
  #deathReason: string | undefined;
  #onEvent: (event: EngineEvent) => void;
  /** Queued tasks dropped by `abort()`; skipped when their turn comes. */
  #aborted = new Set<Task>();
  #exited: PromiseWithResolvers<void> = Promise.withResolvers();
  #ready: PromiseWithResolvers<void> = Promise.withResolvers();
  #terminated: Promise<void> | undefined;

  /**
   * Takes over `link`, a freshly started engine, and initialises it.
   * `onEvent` hears of the engine's registration and death.
   */
  constructor(
    engineId: number,
    link: EngineLink,
    registry: Registry,
    onEvent: (event: EngineEvent) => void = () => {},
  ) {
    super();
    this.engineId = engineId;
    this.#onEvent = onEvent;
    this.#registry = registry;
    this.#link = link;
    const acks = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
    this.#acks = new Int32Array(acks);
    link.onMessage = (message) => this.tell({ kind: "engine", message });
    link.onExit = (reason) => this.tell({ kind: "exit", reason });
    link.send({ t: "init", engineId, acks });
  }

  /** Where the engine is in its life. */
  get state(): EngineState {
    return this.#state;
  }

  /** Why the engine died, once it has. */
  get deathReason(): string | undefined {
    return this.#deathReason;
  }

  /** Tasks this engine has finished, successfully or not. */
  get tasksDone(): number {
    return this.#tasksDone;
  }

  /** Tasks waiting for this engine, including the running one. */
  get load(): number {
    return this.#queue.length - this.#queueHead + (this.#running ? 1 : 0);
  }

  /** The running task's id, if any. */
  get currentTaskId(): number | undefined {
    return this.#running?.taskId;
  }

  /** Resolves once the engine is ready for tasks; rejects if it died first. */
  get ready(): Promise<void> {
    return this.#ready.promise;
  }

  /** Resolves once the engine is gone and its tasks have failed. */
  get exited(): Promise<void> {
    return this.#exited.promise;
  }

  /**
   * Ends the engine now, even mid-task, failing what it held with an
   * `EngineError` that gives `reason`. Resolves once the engine is gone.
   */
  terminate(reason: string): Promise<void> {
    this.tell({ kind: "stop", reason });
    return this.#terminated ?? Promise.resolve();
  }

  protected receive(message: EngineMessage): void {
    switch (message.kind) {
      case "submit":
        if (this.#state === "dead") {
          this.#fail(message.task, this.#deathError(message.task.taskId));
        } else {
          this.#queue.push(message.task);
          this.#dispatch();
        }
        break;
      case "abort":
        this.#abortQueued(message.taskIds);
        break;
      case "engine":
        this.#handleEngine(message.message);
        break;
      case "exit":
        this.#die(message.reason);
        break;
      case "stop":
        this.#terminated ??= this.#link.terminate();
        this.#die(message.reason);
        break;
    }
  }

  protected override onCrash(error: unknown): void {
    console.error(`troupe: engine actor ${this.engineId} crashed:`, error);
    this.#terminated ??= this.#link.terminate();
    this.#die(`its actor crashed: ${error}`);
  }

  #handleEngine(message: FromEngine): void {
    switch (message.t) {
      case "ready":
        if (this.#state !== "starting") return;
        this.#state = "idle";
        this.#ready.resolve();
        this.#onEvent({ type: "registered", engineId: this.engineId });
        this.#dispatch();
        return;
      case "pub":
        Atomics.store(this.#acks, ACK_SLOT, message.seq);
        this.#registry.tell({
          kind: "publish",
          publication: {
            engineId: this.engineId,
            taskId: message.taskId,
            seq: message.seq,
            time: message.time,
            data: message.data,
          },
        });
        return;
      case "stream":
        if (this.#running?.taskId === message.taskId) {
          this.#running.observer.stream(message.name, message.text);
        }
        return;
      case "done":
        this.#finish(message);
        return;
    }
  }

  #finish(message: DoneMessage): void {
    const task = this.#running;
    if (!task || task.taskId !== message.taskId) return;
    this.#running = undefined;
    this.#state = "idle";
    this.#tasksDone++;
    this.#registry.tell({ kind: "unwatch", taskId: task.taskId });
    const { started, completed } = message;
    if (message.ok) {
      task.observer.done({
        ok: true,
        value: message.value,
        started,
        completed,
      });
    } else {
      const info: ErrorInfo = message.error ??
        { name: "Error", message: "the engine reported no error" };
      const error = new RemoteError(this.engineId, task.taskId, info);
      task.observer.done({ ok: false, error, started, completed });
    }
    this.#dispatch();
  }

  #dispatch(): void {
    while (this.#state === "idle" && this.#queueHead < this.#queue.length) {
      const task = this.#queue[this.#queueHead];
      this.#queue[this.#queueHead++] = undefined as unknown as Task;
      if (this.#queueHead > 1024 && this.#queueHead * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#queueHead);
        this.#queueHead = 0;
      }
      if (this.#aborted.delete(task)) continue;
      try {
        this.#link.send({
          t: "run",
          taskId: task.taskId,
          fn: task.fn,
          args: task.args,
        });
      } catch (error) {
        this.#fail(task, unsendable(this.engineId, task.taskId, error));
        continue;
      }
      this.#running = task;
      this.#state = "busy";
      task.observer.started();
    }
  }

  #abortQueued(taskIds: ReadonlySet<number>): void {
    for (let i = this.#queueHead; i < this.#queue.length; i++) {
      const task = this.#queue[i];
      if (taskIds.has(task.taskId) && !this.#aborted.has(task)) {
        this.#aborted.add(task);
        this.#fail(task, new TaskAbortedError(this.engineId, task.taskId));
      }
    }
  }

  #die(reason: string): void {
    if (this.#state === "dead") return;
    this.#state = "dead";
    this.#deathReason = reason;
    const lost = this.#running ? [this.#running] : [];
    lost.push(...this.#queue.slice(this.#queueHead));
    this.#running = undefined;
    this.#queue = [];
    this.#queueHead = 0;
    for (const task of lost) {
      if (!this.#aborted.has(task)) {
        this.#fail(task, this.#deathError(task.taskId));
      }
    }
    this.#aborted.clear();
    this.#ready.reject(new EngineError(this.engineId, reason));
    this.#ready.promise.catch(() => {});
    this.#exited.resolve();
    this.#onEvent({ type: "died", engineId: this.engineId, reason });
  }

  #deathError(taskId: number): EngineError {
    return new EngineError(
      this.engineId,
      this.#deathReason ?? "unknown",
      taskId,
    );
  }

  #fail(task: Task, error: Error): void {
    this.#registry.tell({ kind: "unwatch", taskId: task.taskId });
    task.observer.done({ ok: false, error });
  }
}

function unsendable(engineId: number, taskId: number, error: unknown): Error {
  const why = (error instanceof Error ? error.message : String(error))
    .replace(/\.+$/, "");
  return new TypeError(
    `task ${taskId} could not be sent to engine ${engineId}: ${why}. ` +
      "Arguments must be structured-cloneable data (no functions, class " +
      "instances with private state, or sockets); pass plain values.",
  );
}
