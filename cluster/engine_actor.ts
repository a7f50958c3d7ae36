/**
 * The engine actor: the client's side of one engine, owning its lifecycle
 * (attach, ready, reset, death, stop) over its link. Its tasks are kept by
 * a `TaskPipeline` and its liveness judged by a `Liveness`; this file says
 * what each thing the engine says or does means for them.
 *
 * @module
 */

import { Actor } from "../actors/actor.ts";
import type {
  DeathCause,
  EngineLink,
  EngineWhere,
} from "../protocol/engine_link.ts";
import { GlobalsLedger } from "./globals_ledger.ts";
import { messageOf } from "../protocol/errors.ts";
import type {
  DoneMessage,
  EngineMemory,
  FromEngine,
} from "../protocol/messages.ts";
import { EngineFigures } from "./engine_figures.ts";
import type { RegistryMessage } from "./registry.ts";
import { fromEngineProblem } from "../protocol/validate.ts";
import { AttachedLink } from "./attached_link.ts";
import { Liveness } from "./liveness.ts";
import { TaskPipeline } from "./task_pipeline.ts";
import {
  diedError,
  downTooLongError,
  reportedOutcome,
  stoppedError,
} from "./engine_failures.ts";
import type {
  EngineEvent,
  EngineMessage,
  EngineState,
  Task,
} from "./engine_types.ts";

/**
 * Where an engine actor sends its engine's publications: the registry, of
 * which it needs nothing else (the cluster routes and unroutes tasks).
 */
type PublicationTarget = {
  tell(message: Extract<RegistryMessage, { kind: "publish" }>): void;
};

/** Where the engine is in its life; `up` is `idle` or `busy`. */
type Life = "starting" | "up" | "restarting" | "stopped";

/**
 * Drives one engine over an `EngineLink`. Tasks queue here, not in the
 * engine, and go to the engine a few at a time: that is what lets `abort()`
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
  #held!: AttachedLink;
  #registry: PublicationTarget;
  #onEvent: (event: EngineEvent) => void;
  #life: Life = "starting";
  #tasks: TaskPipeline;
  #liveness: Liveness;
  #tasksDone = 0;
  #restarts = 0;
  /** What the client set on the engine's globals, and when it lost them. */
  #globals = new GlobalsLedger();
  #deathReason: string | undefined;
  #stopReason: string | undefined;
  #everReady = false;
  /** Why the engine drains, while it does; see `#drain`. */
  #draining: string | undefined;
  /** Whether a drained engine is stopped for good rather than restarted. */
  #retiring = false;
  /** Its memory and publications (the metrics). */
  #figures = new EngineFigures();

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
    registry: PublicationTarget,
    onEvent: (event: EngineEvent) => void = () => {},
    options: { startTimeoutMs?: number; noEngineTimeoutMs?: number } = {},
  ) {
    super();
    this.engineId = engineId;
    this.#registry = registry;
    this.#onEvent = onEvent;
    this.#liveness = new Liveness(options);
    this.#tasks = new TaskPipeline(engineId, {
      send: (message) => this.#held.send(message),
      stopRunning: () => this.#held.stopRunning(),
    });
    this.#attach(link);
  }

  /** Where the engine is in its life. */
  get state(): EngineState {
    if (this.#life !== "up") return this.#life;
    if (this.#draining !== undefined) return "draining";
    return this.#tasks.busy ? "busy" : "idle";
  }

  /** `true` while the engine can take tasks now (idle or busy). */
  get up(): boolean {
    return this.#life === "up" && this.#draining === undefined;
  }

  /** Where the engine runs, as its link knows it. */
  get where(): EngineWhere | undefined {
    return this.#held.link.where;
  }

  /**
   * Whether the engine shares memory with the client (a Worker engine): a
   * `SharedArrayBuffer` reaches only such engines.
   */
  get sharesMemory(): boolean {
    return this.#held.link.sharesMemory;
  }

  /** Why the engine last died, if it has. */
  get deathReason(): string | undefined {
    return this.#deathReason;
  }

  /** Its memory as its last `pong` said, while it is up. */
  get memory(): EngineMemory | undefined {
    return this.#figures.memory;
  }

  /** Publications it sent, over all its lives, and their bytes. */
  get publications(): { count: number; bytes: number } {
    return this.#figures.publications(this.#held.link);
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
    return this.#tasks.load;
  }

  /** The running task's id, if any. */
  get currentTaskId(): number | undefined {
    return this.#tasks.head?.taskId;
  }

  /**
   * Stops the engine for good, even mid-task, failing what it held with an
   * `EngineError` that gives `reason`. Resolves once its thread or process
   * is gone.
   */
  stop(reason: string, options: { shutdown?: boolean } = {}): Promise<void> {
    this.tell({ kind: "stop", reason, shutdown: options.shutdown });
    return this.#held.gone;
  }

  protected receive(message: EngineMessage): void {
    switch (message.kind) {
      case "submit":
        this.#tasks.submit(message.task);
        if (this.#life === "stopped") {
          this.#tasks.failQueue((task) => this.#stopped(task));
        } else {
          if (this.#draining !== undefined) this.#tasks.handBackQueued();
          this.#sendAhead();
        }
        return;
      case "abort":
        this.#tasks.abort(message.taskIds);
        return;
      case "engine":
        if (message.link === this.#held.link) {
          this.#handleEngine(message.message);
        }
        return;
      case "exit":
        if (message.link === this.#held.link) {
          this.#die(message.reason, message.cause ?? "other");
        }
        return;
      case "restart":
        if (this.#life === "restarting") {
          this.#restarts++;
          this.#attach(message.link);
        } else {
          message.link.terminate();
        }
        return;
      case "stop":
        this.#stop(message.reason, message.event, message.shutdown);
        return;
      case "retire":
        this.#retiring = true;
        if (this.#life === "restarting") this.#stop(message.reason, "retired");
        else this.#drain(message.reason);
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
      this.#tasks.submit(message.task);
      this.#tasks.failQueue((task) => this.#stopped(task));
    } else if (message.kind === "restart") {
      message.link.terminate();
    }
  }

  #attach(link: EngineLink): void {
    if (this.#held) this.#figures.linkEnded(this.#held.link);
    this.#life = "starting";
    this.#draining = undefined;
    this.#liveness.starting();
    this.#held = new AttachedLink(link, this.engineId, {
      message: (message) => this.tell({ kind: "engine", link, message }),
      exit: (reason, cause) => this.tell({ kind: "exit", link, reason, cause }),
    });
  }

  #handleEngine(message: FromEngine): void {
    this.#liveness.heard();
    const problem = fromEngineProblem(message);
    if (problem !== undefined) {
      this.#breach(problem);
      return;
    }
    switch (message.t) {
      case "ready":
        if (this.#life !== "starting") return;
        this.#life = "up";
        this.#liveness.up();
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
        this.#sendAhead();
        return;
      case "pong":
        this.#figures.pong(message);
        return;
      case "reset":
        this.#reset(message.reason);
        return;
      case "fatal":
        this.#held.terminate();
        this.#die(message.reason, message.cause ?? "fatal");
        return;
      case "drain":
        this.#drain(message.reason);
        return;
      case "pub":
        this.#figures.published(this.#held.link, message.data);
        this.#held.acknowledge();
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
        this.#tasks.stream(message.taskId, message.name, message.text);
        return;
      case "cancelled": {
        const unasked = this.#tasks.cancelled(message.taskIds);
        if (unasked !== undefined) this.#breach(unasked);
        else this.#sendAhead();
        return;
      }
      case "done":
        this.#finish(message);
        return;
    }
  }

  #finish(message: DoneMessage): void {
    const task = this.#tasks.doneFor(message.taskId);
    if (!task) return;
    this.#tasksDone++;
    if (message.ok) this.#globals.finished(task.fn, task.args);
    this.#tasks.finishHead(() =>
      reportedOutcome(
        this.engineId,
        message,
        (info) => this.#globals.hint(this.engineId, info),
      )
    );
    this.#sendAhead();
  }

  #sendAhead(): void {
    if (this.#draining !== undefined) this.#drained();
    else if (this.#life === "up") this.#tasks.sendAhead();
  }

  /**
   * The engine takes no new task: those held here that another engine may
   * run go back to the load balancer, its running ones finish, and then it
   * is stopped. A drained engine is started again (through its launcher,
   * under its id) unless it is retiring; its direct tasks wait for that.
   */
  #drain(reason: string): void {
    if (this.#draining !== undefined || this.#life === "stopped") return;
    this.#draining = reason;
    this.#tasks.handBackQueued();
    this.#onEvent({ type: "draining", engineId: this.engineId, reason });
    this.#drained();
  }

  #drained(): void {
    const reason = this.#draining;
    if (reason === undefined || this.#tasks.busy) return;
    if (this.#retiring) {
      this.#stop(reason, "retired", true);
      return;
    }
    this.#held.shutdown();
    this.#die(`it drained (${reason})`, "drained");
  }

  /** The engine replaced its task thread; it says `ready` when it is back. */
  #reset(reason: string): void {
    this.#life = "starting";
    this.#liveness.starting(); // A new thread has its own deadline.
    const aborted = this.#tasks.threadGone();
    if (aborted === undefined) {
      this.#deathReason = reason;
      this.#tasks.loseSent((task) => this.#died(task));
      this.#globals.lost(reason);
    } else {
      this.#globals.lost(
        `its task thread was replaced to abort task ${aborted}`,
      );
    }
    this.#restarts++;
  }

  /** The engine is gone; `drained` when it was ended once it had drained. */
  #die(reason: string, cause: DeathCause): void {
    if (this.#life === "stopped" || this.#life === "restarting") return;
    const drained = cause === "drained";
    this.#life = "restarting";
    this.#figures.down();
    this.#liveness.down();
    const aborted = this.#tasks.threadGone();
    if (drained) {
      // Nothing runs; what is queued is direct, and waits for the engine.
      this.#deathReason = reason;
    } else if (aborted === undefined) {
      this.#deathReason = reason;
      this.#tasks.loseSent((task) => this.#died(task));
      this.#tasks.failQueue((task) => this.#died(task));
    } else {
      reason = `it was restarted to abort task ${aborted}`;
      cause = "aborted";
    }
    this.#globals.lost(reason);
    this.#onEvent({
      type: "died",
      engineId: this.engineId,
      reason,
      cause,
      deliberate: drained || aborted !== undefined,
    });
  }

  #stop(
    reason: string,
    event?: "gaveUp" | "retired",
    shutdown = false,
  ): void {
    if (this.#life === "stopped") return;
    const wasUp = this.#life !== "restarting";
    this.#life = "stopped";
    this.#stopReason = reason;
    if (wasUp) {
      if (shutdown) this.#held.shutdown();
      else this.#held.terminate();
    }
    this.#tasks.loseSent((task) => this.#stopped(task));
    this.#tasks.failQueue((task) => this.#stopped(task));
    if (event) this.#onEvent({ type: event, engineId: this.engineId, reason });
  }

  /** Called every heartbeat period; `Liveness` judges it. */
  #heartbeat(misses: number): void {
    const head = this.#tasks.head;
    const life = this.#life;
    // A job a scheduler still holds in its queue has not started yet.
    if (life === "starting" && this.#held.link.queued) {
      this.#liveness.starting();
    }
    const verdict = this.#liveness.heartbeat({
      life: life === "starting" || life === "up" ? life : "down",
      misses,
      holdsTask: head !== undefined,
      silentWhileBusy: !this.#held.link.answersWhileBusy,
      runsOurTask: this.#held.runs(head?.taskId),
    });
    if (verdict.expired) {
      this.#tasks.failQueue((task) =>
        downTooLongError(
          this.engineId,
          task.taskId,
          this.#liveness.noEngineTimeoutMs,
          this.#deathReason,
        )
      );
    }
    if (verdict.dead !== undefined) {
      this.#held.terminate();
      this.#die(verdict.dead, verdict.cause ?? "heartbeat");
    } else if (verdict.ping) {
      this.#held.ping();
    }
  }

  /**
   * The engine sent something that does not fit the protocol: nothing it
   * says can be trusted after that, so it is ended, as a death.
   */
  #breach(problem: string): void {
    this.#held.terminate();
    this.#die(
      `it sent a message that does not fit the protocol: ${problem}`,
      "protocol",
    );
  }

  #died(task: Task): Error {
    return diedError(this.engineId, task.taskId, this.#deathReason);
  }

  #stopped(task: Task): Error {
    return stoppedError(this.engineId, task.taskId, this.#stopReason);
  }
}
