/**
 * One engine's life over its link, the state machine inside an
 * `EngineActor`: attach, ready, reset, drain, death, stop. Its tasks are
 * kept by a `TaskPipeline` and its liveness judged by a `Liveness`; this
 * file says what each thing the engine says or does means for them. The
 * actor around it owns the mailbox (one message at a time, crash safety).
 *
 * @module
 */

import type { DeathCause, EngineLink } from "../protocol/engine_link.ts";
import { GlobalsLedger } from "./globals_ledger.ts";
import type { DoneMessage } from "../protocol/messages.ts";
import { EngineFigures } from "./engine_figures.ts";
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

/** Where the engine is in its life; `up` is `idle` or `busy`. */
type Life = "starting" | "up" | "restarting" | "stopped";

/**
 * The life of engine `engineId`, driven by its actor: each method is what
 * one message means, handled one at a time. Tasks queue here, not in the
 * engine, and go to the engine a few at a time: that is what lets `abort()`
 * drop a queued task before it ever runs, what lets a deliberate restart
 * keep the queue, and what makes an engine's death fail exactly the tasks
 * it held.
 *
 * @example
 * ```ts
 * import { EngineLife } from "./engine_life.ts";
 * import type { EngineLink } from "../protocol/engine_link.ts";
 * function live(link: EngineLink) {
 *   // An actor's mailbox is what `tell` reaches: see EngineActor.
 *   const life = new EngineLife(0, link, () => {}, {}, () => {});
 *   console.log(life.state); // "starting"
 * }
 * ```
 */
export class EngineLife {
  /** The id users see; a restarted engine keeps it. */
  readonly engineId: number;
  #held!: AttachedLink;
  #onEvent: (event: EngineEvent) => void;
  /** The actor's mailbox: what the link says arrives there. */
  #tell: (message: EngineMessage) => void;
  #life: Life = "starting";
  /** Its tasks: the queue, those sent ahead, the running one. */
  readonly tasks: TaskPipeline;
  #liveness: Liveness;
  // Read by the actor (its getters), written only here.
  /** Tasks this engine has finished, successfully or not. */
  tasksDone = 0;
  /** How often the engine has been restarted. */
  restarts = 0;
  /** What the client set on the engine's globals, and when it lost them. */
  #globals = new GlobalsLedger();
  /** Why the engine last died, if it has. */
  deathReason: string | undefined;
  #stopReason: string | undefined;
  #everReady = false;
  /** Why the engine drains, while it does; see `drain`. */
  #draining: string | undefined;
  /** Whether a drained engine is stopped for good rather than restarted. */
  #retiring = false;
  /** Its memory and publications (the metrics). */
  readonly figures: EngineFigures = new EngineFigures();

  /** Takes over `link`; see `EngineActor`'s constructor. */
  constructor(
    engineId: number,
    link: EngineLink,
    onEvent: (event: EngineEvent) => void,
    options: { startTimeoutMs?: number; noEngineTimeoutMs?: number },
    tell: (message: EngineMessage) => void,
  ) {
    this.engineId = engineId;
    this.#onEvent = onEvent;
    this.#tell = tell;
    this.#liveness = new Liveness(options);
    this.tasks = new TaskPipeline(engineId, {
      send: (message) => this.#held.send(message),
      stopRunning: () => this.#held.stopRunning(),
    });
    this.#attach(link);
  }

  /** Where the engine is in its life. */
  get state(): EngineState {
    if (this.#life !== "up") return this.#life;
    if (this.#draining !== undefined) return "draining";
    return this.tasks.busy ? "busy" : "idle";
  }

  /** `true` while the engine can take tasks now (idle or busy). */
  get up(): boolean {
    return this.#life === "up" && this.#draining === undefined;
  }

  /** The engine's current link. */
  get link(): EngineLink {
    return this.#held.link;
  }

  /** Resolves once the current link's thread or process is gone. */
  get gone(): Promise<void> {
    return this.#held.gone;
  }

  /** `task` is submitted: queued, or failed at once if stopped. */
  submit(task: Task): void {
    this.tasks.submit(task);
    if (this.#life === "stopped") {
      this.tasks.failQueue((task) => this.#stopped(task));
    } else {
      if (this.#draining !== undefined) this.tasks.handBackQueued();
      this.#sendAhead();
    }
  }

  /** Fails `task` at once, as the stopped engine's (its actor crashed). */
  refuse(task: Task): void {
    this.tasks.submit(task);
    this.tasks.failQueue((task) => this.#stopped(task));
  }

  /** A new link for the engine, if it is restarting; else it is ended. */
  restartWith(link: EngineLink): void {
    if (this.#life === "restarting") {
      this.restarts++;
      this.#attach(link);
    } else {
      link.terminate();
    }
  }

  /**
   * A new link for an engine given up while it was away (a remote engine
   * that came back too late, as the same process): it starts again under
   * its id, as a restart. Only a stopped engine is revived.
   */
  revive(link: EngineLink): void {
    if (this.#life !== "stopped") {
      link.terminate();
      return;
    }
    this.restarts++;
    this.#stopReason = undefined;
    this.#attach(link);
  }

  /** Retires the engine: it drains, then stops for good. */
  retire(reason: string): void {
    this.#retiring = true;
    if (this.#life === "restarting") this.stop(reason, "retired");
    else this.drain(reason);
  }

  #attach(link: EngineLink): void {
    if (this.#held) this.figures.linkEnded(this.#held.link);
    this.#life = "starting";
    this.#draining = undefined;
    this.#liveness.starting();
    this.#held = new AttachedLink(link, this.engineId, {
      message: (message) => this.#tell({ kind: "engine", link, message }),
      exit: (reason, cause) =>
        this.#tell({ kind: "exit", link, reason, cause }),
    });
  }

  /** The engine said something: it lives. */
  heard(): void {
    this.#liveness.heard();
  }

  /** The engine is ready: up, and its first tasks go out. */
  ready(): void {
    if (this.#life !== "starting") return;
    this.#life = "up";
    this.#liveness.up();
    if (this.#everReady) {
      this.#onEvent({
        type: "restarted",
        engineId: this.engineId,
        restarts: this.restarts,
      });
    } else {
      this.#everReady = true;
      this.#onEvent({ type: "registered", engineId: this.engineId });
    }
    this.#sendAhead();
  }

  /** The engine ended itself (`fatal`): a death. */
  fatal(reason: string, cause: DeathCause | undefined): void {
    this.#held.terminate();
    this.die(reason, cause ?? "fatal");
  }

  /** A publication was taken in: the engine may send more. */
  acknowledge(): void {
    this.#held.acknowledge();
  }

  /** The engine cancelled these tasks (asked by `abort`). */
  cancelled(taskIds: readonly number[]): void {
    const unasked = this.tasks.cancelled(taskIds);
    if (unasked !== undefined) this.breach(unasked);
    else this.#sendAhead();
  }

  /** A task's `done`: its outcome, and the next task goes out. */
  finish(message: DoneMessage): void {
    const task = this.tasks.doneFor(message.taskId);
    if (!task) return;
    this.tasksDone++;
    if (message.ok) this.#globals.finished(task.fn, task.args);
    this.tasks.finishHead(() =>
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
    else if (this.#life === "up") this.tasks.sendAhead();
  }

  /**
   * The engine takes no new task: those held here that another engine may
   * run go back to the load balancer, its running ones finish, and then it
   * is stopped. A drained engine is started again (through its launcher,
   * under its id) unless it is retiring; its direct tasks wait for that.
   */
  drain(reason: string): void {
    if (this.#draining !== undefined || this.#life === "stopped") return;
    this.#draining = reason;
    this.tasks.handBackQueued();
    this.#onEvent({ type: "draining", engineId: this.engineId, reason });
    this.#drained();
  }

  #drained(): void {
    const reason = this.#draining;
    if (reason === undefined || this.tasks.busy) return;
    if (this.#retiring) {
      this.stop(reason, "retired", true);
      return;
    }
    this.#held.shutdown();
    this.die(`it drained (${reason})`, "drained");
  }

  /** The engine replaced its task thread; it says `ready` when it is back. */
  reset(reason: string): void {
    this.#life = "starting";
    this.#liveness.starting(); // A new thread has its own deadline.
    const aborted = this.tasks.threadGone();
    if (aborted === undefined) {
      this.deathReason = reason;
      this.tasks.loseSent((task) => this.#died(task));
      this.#globals.lost(reason);
    } else {
      this.#globals.lost(
        `its task thread was replaced to abort task ${aborted}`,
      );
    }
    this.restarts++;
  }

  /** The engine is gone; `drained` when it was ended once it had drained. */
  die(reason: string, cause: DeathCause): void {
    if (this.#life === "stopped" || this.#life === "restarting") return;
    const drained = cause === "drained";
    this.#life = "restarting";
    this.figures.down();
    this.#liveness.down();
    const aborted = this.tasks.threadGone();
    if (drained) {
      // Nothing runs; what is queued is direct, and waits for the engine.
      this.deathReason = reason;
    } else if (aborted === undefined) {
      this.deathReason = reason;
      this.tasks.loseSent((task) => this.#died(task));
      this.tasks.failQueue((task) => this.#died(task));
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

  /** Stops the engine for good, failing what it held. */
  stop(
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
    this.tasks.loseSent((task) => this.#stopped(task));
    this.tasks.failQueue((task) => this.#stopped(task));
    if (event) this.#onEvent({ type: event, engineId: this.engineId, reason });
  }

  /** Called every heartbeat period; `Liveness` judges it. */
  heartbeat(misses: number): void {
    const head = this.tasks.head;
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
      this.tasks.failQueue((task) =>
        downTooLongError(
          this.engineId,
          task.taskId,
          this.#liveness.noEngineTimeoutMs,
          this.deathReason,
        )
      );
    }
    if (verdict.dead !== undefined) {
      this.#held.terminate();
      this.die(verdict.dead, verdict.cause ?? "heartbeat");
    } else if (verdict.ping) {
      this.#held.ping();
    }
  }

  /**
   * The engine sent something that does not fit the protocol: nothing it
   * says can be trusted after that, so it is ended, as a death.
   */
  breach(problem: string): void {
    this.#held.terminate();
    this.die(
      `it sent a message that does not fit the protocol: ${problem}`,
      "protocol",
    );
  }

  #died(task: Task): Error {
    return diedError(this.engineId, task.taskId, this.deathReason);
  }

  #stopped(task: Task): Error {
    return stoppedError(this.engineId, task.taskId, this.#stopReason);
  }
}
