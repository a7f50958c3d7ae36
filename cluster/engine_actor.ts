/**
 * The engine actor: the client's side of one engine, owning its whole
 * lifecycle: its link, its task queue, the task running on it, its
 * heartbeat, and what happens when it dies.
 *
 * @module
 */

import { CROSSES } from "../transport/crossable.ts";
import { Actor } from "../actors/actor.ts";
import type { EngineLink } from "../protocol/engine_link.ts";
import { GlobalsLedger } from "./globals_ledger.ts";
import {
  EngineError,
  type ErrorInfo,
  messageOf,
  RemoteError,
  TaskAbortedError,
} from "../protocol/errors.ts";
import { ackPublication } from "../protocol/flow_control.ts";
import {
  type DoneMessage,
  type FromEngine,
  type FunctionRef,
  RUNNING_SLOT,
  SHARED_SLOTS,
  TASK_PIPELINE,
} from "../protocol/messages.ts";
import type { Registry } from "./registry.ts";
import { fromEngineProblem } from "../protocol/validate.ts";

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
  fn: FunctionRef;
  /** `map`: `args` are columns and the task maps over their rows. */
  mode?: "apply" | "map";
  args: unknown[];
  observer: TaskObserver;
}

/**
 * Where an engine is in its life: `starting` until it says it is ready,
 * then `idle` or `busy`; `restarting` between a death and the supervisor's
 * restart; `stopped` for good (given up, or the client closed).
 */
export type EngineState =
  | "starting"
  | "idle"
  | "busy"
  | "restarting"
  | "stopped";

/**
 * What happens to an engine, as the client can observe it.
 *
 * @example
 * ```ts
 * import { Client, type EngineEvent } from "@troupe/parallel";
 * const log = (e: EngineEvent) =>
 *   console.log(e.type, e.engineId, "reason" in e ? e.reason : "");
 * await using client = await Client.start({ workers: 1, onEngineEvent: log });
 * ```
 */
export type EngineEvent =
  | { type: "registered"; engineId: number }
  | {
    type: "died";
    engineId: number;
    reason: string;
    /** `true` when troupe ended it on purpose (aborting a running task). */
    deliberate: boolean;
  }
  | { type: "restarted"; engineId: number; restarts: number }
  | { type: "gaveUp"; engineId: number; reason: string };

/** What the engine actor handles. */
export type EngineMessage =
  | { kind: "submit"; task: Task }
  | { kind: "abort"; taskIds: ReadonlySet<number> }
  | { kind: "engine"; link: EngineLink; message: FromEngine }
  | { kind: "exit"; link: EngineLink; reason: string }
  | { kind: "restart"; link: EngineLink }
  | { kind: "stop"; reason: string; event?: "gaveUp"; shutdown?: boolean }
  | { kind: "heartbeat"; misses: number };

/**
 * Drives one engine over an `EngineLink`. Tasks queue here, not in the
 * engine, and go to the engine one at a time: that is what lets `abort()`
 * drop a queued task before it ever runs, what lets a deliberate restart keep
 * the queue, and what makes an engine's death fail exactly the tasks it held.
 *
 * @example
 * ```ts
 * import { EngineActor } from "./engine_actor.ts";
 * import { Registry } from "./registry.ts";
 * import type { EngineLink } from "../protocol/engine_link.ts";
 * function answer(link: EngineLink) {
 *   const engine = new EngineActor(0, link, new Registry());
 *   engine.tell({
 *     kind: "submit",
 *     task: {
 *       taskId: 1,
 *       fn: { kind: "source", source: "() => 42" },
 *       args: [],
 *       observer: { started() {}, stream() {}, done: (o) => console.log(o) },
 *     },
 *   });
 * }
 * ```
 */
export class EngineActor extends Actor<EngineMessage> {
  /** The id users see; a restarted engine keeps it. */
  readonly engineId: number;
  #link!: EngineLink;
  #registry: Registry;
  #onEvent: (event: EngineEvent) => void;
  #acks!: Int32Array;
  #state: EngineState = "starting";
  #queue: Task[] = [];
  #queueHead = 0;
  /**
   * Tasks sent to the engine and not finished, in order: the first runs,
   * the rest wait in the engine (see `TASK_PIPELINE`).
   */
  #inFlight: Task[] = [];
  /** The running task that `abort()` is ending by ending the engine. */
  #aborting: Task | undefined;
  /** Tasks sent ahead that `abort()` asked the engine to drop. */
  #cancelling = new Set<Task>();
  /** Each `cancel` sent and not yet answered, in order: its tasks. */
  #cancelRequests: Task[][] = [];
  /** Tasks whose observer has been told how they ended. */
  #settled = new WeakSet<Task>();
  /** Queued tasks dropped by `abort()`; skipped when their turn comes. */
  #aborted = new Set<Task>();
  #tasksDone = 0;
  #restarts = 0;
  /** What the client set on the engine's globals, and when it lost them. */
  #globals = new GlobalsLedger();
  #deathReason: string | undefined;
  #stopReason: string | undefined;
  #heardSinceBeat = true;
  #missedBeats = 0;
  #everReady = false;
  /** How long the engine has to say `ready` after it was (re)started. */
  #startTimeoutMs: number;
  /** When the current link was attached (`performance.now()` ms). */
  #startedAt = 0;
  /** How long tasks queued for it wait while it is down. */
  #noEngineTimeoutMs: number;
  /** Since when it has been down (died and not ready again), if it is. */
  #downSince: number | undefined;
  #linkGone: Promise<void> = Promise.resolve();

  /**
   * Takes over `link`, a freshly started engine, and initialises it.
   * `onEvent` hears of the engine's registration, deaths and restarts. An
   * engine that does not say it is ready within `startTimeoutMs` of each
   * start is taken for dead, and tasks queued for it while it is down fail
   * once it has been down for `noEngineTimeoutMs` (both checked at each
   * heartbeat).
   */
  constructor(
    engineId: number,
    link: EngineLink,
    registry: Registry,
    onEvent: (event: EngineEvent) => void = () => {},
    options: { startTimeoutMs?: number; noEngineTimeoutMs?: number } = {},
  ) {
    super();
    this.engineId = engineId;
    this.#registry = registry;
    this.#onEvent = onEvent;
    this.#startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    this.#noEngineTimeoutMs = options.noEngineTimeoutMs ??
      DEFAULT_NO_ENGINE_TIMEOUT_MS;
    this.#attach(link);
  }

  /** Where the engine is in its life. */
  get state(): EngineState {
    return this.#state;
  }

  /** `true` while the engine can take tasks now (idle or busy). */
  get up(): boolean {
    return this.#state === "idle" || this.#state === "busy";
  }

  /**
   * Whether the engine shares memory with the client (a Worker engine): a
   * `SharedArrayBuffer` reaches only such engines.
   */
  get sharesMemory(): boolean {
    return this.#link.sharesMemory;
  }

  /** Why the engine last died, if it has. */
  get deathReason(): string | undefined {
    return this.#deathReason;
  }

  /** How often the engine has been restarted. */
  get restarts(): number {
    return this.#restarts;
  }

  /** Tasks this engine has finished, successfully or not. */
  get tasksDone(): number {
    return this.#tasksDone;
  }

  /** Tasks waiting for this engine, including the running one. */
  get load(): number {
    const queued = this.#queue.length - this.#queueHead - this.#aborted.size;
    // Tasks being cancelled have failed already: they are no one's work.
    return queued + this.#inFlight.length - this.#cancelling.size;
  }

  /** The running task's id, if any. */
  get currentTaskId(): number | undefined {
    return this.#inFlight[0]?.taskId;
  }

  /**
   * Stops the engine for good, even mid-task, failing what it held with an
   * `EngineError` that gives `reason`. Resolves once its thread or process
   * is gone.
   */
  stop(reason: string, options: { shutdown?: boolean } = {}): Promise<void> {
    this.tell({ kind: "stop", reason, shutdown: options.shutdown });
    return this.#linkGone;
  }

  protected receive(message: EngineMessage): void {
    switch (message.kind) {
      case "submit":
        if (this.#state === "stopped") {
          this.#fail(message.task, this.#stoppedError(message.task.taskId));
        } else {
          this.#queue.push(message.task);
          this.#dispatch();
        }
        return;
      case "abort":
        this.#abort(message.taskIds);
        return;
      case "engine":
        if (message.link === this.#link) this.#handleEngine(message.message);
        return;
      case "exit":
        if (message.link === this.#link) this.#die(message.reason);
        return;
      case "restart":
        if (this.#state === "restarting") {
          this.#restarts++;
          this.#attach(message.link);
        } else {
          message.link.terminate();
        }
        return;
      case "stop":
        this.#stop(message.reason, message.event, message.shutdown);
        return;
      case "heartbeat":
        this.#heartbeat(message.misses);
        return;
    }
  }

  /**
   * A bug of ours, not the engine's: the actor cannot be trusted with its
   * state any more, so it stops for good and fails everything it held,
   * rather than leave those tasks pending.
   */
  protected override onCrash(error: unknown): void {
    console.error(`troupe: engine actor ${this.engineId} crashed:`, error);
    this.#stop(
      `troupe's actor for it crashed: ${messageOf(error)}`,
      "gaveUp",
    );
  }

  /** What is told after a crash is answered here, so that nothing waits. */
  protected override onDropped(message: EngineMessage): void {
    if (message.kind === "submit") {
      this.#fail(message.task, this.#stoppedError(message.task.taskId));
    } else if (message.kind === "restart") {
      message.link.terminate();
    }
  }

  #attach(link: EngineLink): void {
    this.#link = link;
    this.#state = "starting";
    this.#heardSinceBeat = true;
    this.#missedBeats = 0;
    this.#startedAt = performance.now();
    const acks = new SharedArrayBuffer(
      SHARED_SLOTS * Int32Array.BYTES_PER_ELEMENT,
    );
    this.#acks = new Int32Array(acks);
    link.onMessage = (message) => this.tell({ kind: "engine", link, message });
    link.onExit = (reason) => this.tell({ kind: "exit", link, reason });
    try {
      link.send({
        t: "init",
        engineId: this.engineId,
        ...(link.sharesMemory ? { acks } : {}),
        ...(link.maxFrameBytes ? { maxFrameBytes: link.maxFrameBytes } : {}),
      });
    } catch (error) {
      this.tell({ kind: "exit", link, reason: `it could not start: ${error}` });
    }
  }

  #handleEngine(message: FromEngine): void {
    this.#heardSinceBeat = true;
    const problem = fromEngineProblem(message);
    if (problem !== undefined) {
      this.#breach(problem);
      return;
    }
    switch (message.t) {
      case "ready":
        if (this.#state !== "starting") return;
        this.#state = "idle";
        this.#downSince = undefined;
        if (this.#everReady) {
          this.#onEvent({
            type: "restarted",
            engineId: this.engineId,
            restarts: this.#restarts,
          });
        } else {
          this.#everReady = true;
          this.#onEvent({ type: "registered", engineId: this.engineId });
        }
        this.#dispatch();
        return;
      case "pong":
        return;
      case "reset":
        this.#reset(message.reason);
        return;
      case "fatal":
        this.#linkGone = this.#link.terminate();
        this.#die(message.reason);
        return;
      case "pub":
        ackPublication(this.#acks);
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
      case "stream": {
        const running = this.#inFlight[0];
        if (running?.taskId === message.taskId) {
          running.observer.stream(message.name, message.text);
        }
        return;
      }
      case "cancelled":
        this.#cancelled(new Set(message.taskIds));
        return;
      case "done":
        this.#finish(message);
        return;
    }
  }

  #finish(message: DoneMessage): void {
    const task = this.#inFlight[0];
    if (!task || task.taskId !== message.taskId || this.#aborting) return;
    this.#inFlight.shift();
    this.#cancelling.delete(task);
    if (this.#inFlight.length === 0) this.#state = "idle";
    this.#tasksDone++;
    if (message.ok) this.#globals.finished(task.fn, task.args);
    if (this.#settled.has(task)) {
      // Aborted while sent ahead, but it had started: its result is void.
      this.#startHead();
      this.#dispatch();
      return;
    }
    this.#settled.add(task);
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
      const error = new RemoteError(info, {
        engineId: this.engineId,
        taskId: task.taskId,
        hint: this.#globals.hint(this.engineId, info),
      });
      task.observer.done({ ok: false, error, started, completed });
    }
    this.#startHead();
    this.#dispatch();
  }

  /** The next task sent ahead is the one running now. */
  #startHead(): void {
    const head = this.#inFlight[0];
    if (!head) return;
    head.observer.started();
  }

  #dispatch(): void {
    while (
      this.up && this.#inFlight.length < TASK_PIPELINE &&
      this.#queueHead < this.#queue.length
    ) {
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
          mode: task.mode,
          args: task.args,
        });
      } catch (error) {
        this.#fail(task, unsendable(this.engineId, task.taskId, error));
        continue;
      }
      this.#inFlight.push(task);
      this.#state = "busy";
      if (this.#inFlight.length === 1) task.observer.started();
    }
  }

  #abort(taskIds: ReadonlySet<number>): void {
    for (let i = this.#queueHead; i < this.#queue.length; i++) {
      const task = this.#queue[i];
      if (taskIds.has(task.taskId) && !this.#aborted.has(task)) {
        this.#aborted.add(task);
        this.#fail(
          task,
          new TaskAbortedError({
            engineId: this.engineId,
            taskId: task.taskId,
          }),
        );
      }
    }
    const [running, ...ahead] = this.#inFlight;
    if (running && taskIds.has(running.taskId)) this.#abortRunning(running);
    const cancel = ahead.filter((task) =>
      taskIds.has(task.taskId) && !this.#cancelling.has(task)
    );
    if (cancel.length > 0) {
      // They fail now: an engine busy with a loop that never yields could
      // not confirm for a long time. The engine drops them when it can.
      for (const task of cancel) {
        this.#cancelling.add(task);
        this.#fail(
          task,
          new TaskAbortedError({
            engineId: this.engineId,
            taskId: task.taskId,
          }),
        );
      }
      this.#cancelRequests.push(cancel);
      this.#link.send({ t: "cancel", taskIds: cancel.map((t) => t.taskId) });
    }
  }

  /** A running task can only be stopped by ending its thread. */
  #abortRunning(task: Task): void {
    if (this.#aborting) return;
    // An engine process replaces its task thread itself (`reset` follows);
    // a Worker is terminated and the supervisor restarts it. The tasks
    // queued behind it survive either way.
    this.#aborting = task;
    if (this.#link.interrupt) this.#link.interrupt();
    else this.#linkGone = this.#link.terminate();
  }

  /**
   * The engine answered the oldest `cancel`: it dropped `taskIds`. A task of
   * that request it did not drop had started by then; if it still runs, it
   * is stopped the hard way.
   */
  #cancelled(taskIds: ReadonlySet<number>): void {
    const asked = this.#cancelRequests[0];
    const unasked = [...taskIds].filter((id) =>
      !asked?.some((task) => task.taskId === id)
    );
    if (unasked.length > 0) {
      const tasks = `task${unasked.length > 1 ? "s" : ""} ${
        unasked.join(", ")
      }`;
      this.#breach(
        `a "cancelled" message naming ${tasks}, which the client did not ` +
          "ask it to cancel",
      );
      return;
    }
    this.#cancelRequests.shift();
    this.#inFlight = this.#inFlight.filter((t) => !taskIds.has(t.taskId));
    for (const task of asked) this.#cancelling.delete(task);
    const head = this.#inFlight[0];
    if (head && asked.includes(head)) this.#abortRunning(head);
    if (this.#inFlight.length === 0 && this.up) this.#state = "idle";
    this.#dispatch();
  }

  /**
   * The engine's task thread is gone on purpose. The aborted task fails;
   * the tasks sent ahead of it go back to the front of the queue (the new
   * thread has none of them), except those being cancelled, which fail.
   */
  #takeBackInFlight(aborting: Task): void {
    const [, ...ahead] = this.#inFlight;
    this.#inFlight = [];
    this.#fail(
      aborting,
      new TaskAbortedError({
        engineId: this.engineId,
        taskId: aborting.taskId,
      }),
    );
    const keep = ahead.filter((task) => !this.#settled.has(task));
    this.#cancelling.clear();
    this.#cancelRequests = [];
    this.#queue = [...keep, ...this.#queue.slice(this.#queueHead)];
    this.#queueHead = 0;
  }

  /** Every task sent to the engine is lost with it. */
  #loseInFlight(error: (task: Task) => Error): void {
    const lost = this.#inFlight;
    this.#inFlight = [];
    this.#cancelling.clear();
    this.#cancelRequests = [];
    for (const task of lost) this.#fail(task, error(task));
  }

  /** The engine replaced its task thread; it says `ready` when it is back. */
  #reset(reason: string): void {
    const aborting = this.#aborting;
    this.#aborting = undefined;
    this.#state = "starting";
    this.#startedAt = performance.now(); // A new thread has its own deadline.
    this.#globals.lost(
      aborting
        ? `its task thread was replaced to abort task ${aborting.taskId}`
        : reason,
    );
    if (aborting) {
      this.#takeBackInFlight(aborting);
    } else {
      this.#deathReason = reason;
      this.#loseInFlight((task) => this.#deathError(task.taskId));
    }
    this.#restarts++;
  }

  #die(reason: string): void {
    if (this.#state === "stopped" || this.#state === "restarting") return;
    const aborting = this.#aborting;
    this.#aborting = undefined;
    this.#state = "restarting";
    this.#downSince ??= performance.now();
    if (aborting) {
      this.#takeBackInFlight(aborting);
      reason = `it was restarted to abort task ${aborting.taskId}`;
    } else {
      this.#deathReason = reason;
      this.#loseInFlight((task) => this.#deathError(task.taskId));
      this.#failQueue((task) => this.#deathError(task.taskId));
    }
    this.#globals.lost(reason);
    this.#onEvent({
      type: "died",
      engineId: this.engineId,
      reason,
      deliberate: aborting !== undefined,
    });
  }

  #stop(reason: string, event?: "gaveUp", shutdown = false): void {
    if (this.#state === "stopped") return;
    const wasUp = this.#state !== "restarting";
    this.#state = "stopped";
    this.#stopReason = reason;
    if (wasUp) {
      this.#linkGone = shutdown && this.#link.shutdown
        ? this.#link.shutdown()
        : this.#link.terminate();
    }
    this.#aborting = undefined;
    this.#loseInFlight((task) => this.#stoppedError(task.taskId));
    this.#failQueue((task) => this.#stoppedError(task.taskId));
    if (event) this.#onEvent({ type: event, engineId: this.engineId, reason });
  }

  /**
   * Called every heartbeat period. An engine that said nothing for a period
   * gets a ping; one that then stays silent for `misses` periods is dead. A
   * Worker's silence counts only while its thread is not running one of our
   * tasks: a task may be a loop that never yields, and that is work, not
   * death; a thread stuck outside any task (in a timer a task left behind)
   * is dead to us.
   */
  #heartbeat(misses: number): void {
    if (
      this.#state === "starting" &&
      performance.now() - this.#startedAt > this.#startTimeoutMs
    ) {
      this.#linkGone = this.#link.terminate();
      this.#die(
        `it did not say it was ready within ${this.#startTimeoutMs} ms of ` +
          "being started (startTimeoutMs)",
      );
      return;
    }
    if (
      this.#downSince !== undefined &&
      performance.now() - this.#downSince > this.#noEngineTimeoutMs
    ) {
      // A remote engine may never reconnect: its queue must not wait on it.
      this.#failQueue((task) =>
        new EngineError(
          `it has not been up for ${this.#noEngineTimeoutMs} ms ` +
            `(noEngineTimeoutMs) since it died because ${this.#deathReason}`,
          {
            engineId: this.engineId,
            taskId: task.taskId,
            advice: "Run the task on an engine that is up (client.ids), or " +
              "start this one again.",
          },
        )
      );
    }
    if (!this.up) return;
    const head = this.#inFlight[0];
    const counts = this.#link.answersWhileBusy || !head ||
      (this.#link.sharesMemory &&
        Atomics.load(this.#acks, RUNNING_SLOT) !== head.taskId);
    if (this.#heardSinceBeat || !counts) this.#missedBeats = 0;
    else this.#missedBeats++;
    this.#heardSinceBeat = false;
    if (this.#missedBeats >= misses) {
      this.#linkGone = this.#link.terminate();
      this.#die(
        head && !this.#link.answersWhileBusy
          ? `it missed ${misses} heartbeats in a row, stuck outside any ` +
            "task (a timer or callback a task left behind that never returns?)"
          : `it missed ${misses} heartbeats in a row`,
      );
      return;
    }
    try {
      this.#link.send({ t: "ping" });
    } catch {
      // A link that cannot send reports its exit separately.
    }
  }

  /**
   * The engine sent something that does not fit the protocol: nothing it
   * says can be trusted after that, so it is ended, as a death.
   */
  #breach(problem: string): void {
    this.#linkGone = this.#link.terminate();
    this.#die(`it sent a message that does not fit the protocol: ${problem}`);
  }

  #failQueue(error: (task: Task) => Error): void {
    const queued = this.#queue.slice(this.#queueHead);
    this.#queue = [];
    this.#queueHead = 0;
    for (const task of queued) {
      if (!this.#aborted.has(task)) this.#fail(task, error(task));
    }
    this.#aborted.clear();
  }

  #deathError(taskId: number): EngineError {
    return new EngineError(this.#deathReason ?? "unknown", {
      engineId: this.engineId,
      taskId,
    });
  }

  #stoppedError(taskId: number): EngineError {
    return new EngineError(this.#stopReason ?? "it was stopped", {
      engineId: this.engineId,
      taskId,
      advice: "The engine will not come back: run the task on another engine.",
    });
  }

  #fail(task: Task, error: Error): void {
    if (this.#settled.has(task)) return;
    this.#settled.add(task);
    task.observer.done({ ok: false, error });
  }
}

/**
 * How long an engine has to say it is ready, unless told otherwise
 * (`ClientOptions.startTimeoutMs`).
 *
 * @example
 * ```ts
 * import { DEFAULT_START_TIMEOUT_MS } from "./engine_actor.ts";
 * console.log(DEFAULT_START_TIMEOUT_MS / 1000, "s"); // 60 s
 * ```
 */
export const DEFAULT_START_TIMEOUT_MS = 60_000;

/**
 * How long a task waits for an engine to be up, unless told otherwise
 * (`ClientOptions.noEngineTimeoutMs`).
 *
 * @example
 * ```ts
 * import { DEFAULT_NO_ENGINE_TIMEOUT_MS } from "./engine_actor.ts";
 * console.log(DEFAULT_NO_ENGINE_TIMEOUT_MS / 1000, "s"); // 60 s
 * ```
 */
export const DEFAULT_NO_ENGINE_TIMEOUT_MS = 60_000;

function unsendable(engineId: number, taskId: number, error: unknown): Error {
  const text = messageOf(error);
  if (error instanceof RangeError) {
    // Too big for a frame: the message says the limit and what to do.
    return new RangeError(
      `task ${taskId} could not be sent to engine ${engineId}: ${text}.`,
    );
  }
  // The views refuse most such values at the call; what is left here is
  // what only this engine's transport cannot carry (`crossable.ts`).
  const advice = text.includes("What crosses")
    ? ""
    : ` Pass plain data: ${CROSSES}.`;
  return new TypeError(
    `task ${taskId} could not be sent to engine ${engineId}: ${text}.` +
      advice,
  );
}
