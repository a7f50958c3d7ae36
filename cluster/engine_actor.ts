/**
 * The engine actor: the client's side of one engine. Its mailbox takes
 * one message at a time (what the cluster asks, what the engine says, the
 * heartbeat) and hands each to the engine's `EngineLife`
 * (`engine_life.ts`), which says what it means; a crash of ours stops the
 * engine rather than leave its tasks pending.
 *
 * @module
 */

import { Actor } from "../actors/actor.ts";
import type { EngineLink, EngineWhere } from "../protocol/engine_link.ts";
import { messageOf } from "../protocol/errors.ts";
import type { EngineMemory, FromEngine } from "../protocol/messages.ts";
import { fromEngineProblem } from "../protocol/validate.ts";
import type { RegistryMessage } from "./registry.ts";
import { EngineLife } from "./engine_life.ts";
import type {
  EngineEvent,
  EngineMessage,
  EngineState,
} from "./engine_types.ts";

/**
 * Where an engine actor sends its engine's publications: the registry, of
 * which it needs nothing else (the cluster routes and unroutes tasks).
 */
type PublicationTarget = {
  tell(message: Extract<RegistryMessage, { kind: "publish" }>): void;
};

/**
 * Drives one engine over an `EngineLink`. Tasks queue here, not in the
 * engine, and go to the engine a few at a time (see `EngineLife`): that is
 * what lets `abort()` drop a queued task before it ever runs, what lets a
 * deliberate restart keep the queue, and what makes an engine's death fail
 * exactly the tasks it held.
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
  #life: EngineLife;
  #registry: PublicationTarget;

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
    this.#life = new EngineLife(
      engineId,
      link,
      onEvent,
      options,
      (message) => this.tell(message),
    );
  }

  /** Where the engine is in its life. */
  get state(): EngineState {
    return this.#life.state;
  }

  /** `true` while the engine can take tasks now (idle or busy). */
  get up(): boolean {
    return this.#life.up;
  }

  /** Where the engine runs, as its link knows it. */
  get where(): EngineWhere | undefined {
    return this.#life.link.where;
  }

  /**
   * Whether the engine shares memory with the client (a Worker engine): a
   * `SharedArrayBuffer` reaches only such engines.
   */
  get sharesMemory(): boolean {
    return this.#life.link.sharesMemory;
  }

  /** Why the engine last died, if it has. */
  get deathReason(): string | undefined {
    return this.#life.deathReason;
  }

  /** Its memory as its last `pong` said, while it is up. */
  get memory(): EngineMemory | undefined {
    return this.#life.figures.memory;
  }

  /** Publications it sent, over all its lives, and their bytes. */
  get publications(): { count: number; bytes: number } {
    return this.#life.figures.publications(this.#life.link);
  }

  /** How often the engine has been restarted. */
  get restarts(): number {
    return this.#life.restarts;
  }

  /** Tasks this engine has finished, successfully or not. */
  get tasksDone(): number {
    return this.#life.tasksDone;
  }

  /** Tasks waiting for this engine, including the running one. */
  get load(): number {
    return this.#life.tasks.load;
  }

  /** The running task's id, if any. */
  get currentTaskId(): number | undefined {
    return this.#life.tasks.head?.taskId;
  }

  /**
   * Stops the engine for good, even mid-task, failing what it held with an
   * `EngineError` that gives `reason`. Resolves once its thread or process
   * is gone.
   */
  stop(reason: string, options: { shutdown?: boolean } = {}): Promise<void> {
    this.tell({ kind: "stop", reason, shutdown: options.shutdown });
    return this.#life.gone;
  }

  protected receive(message: EngineMessage): void {
    const life = this.#life;
    switch (message.kind) {
      case "submit":
        life.submit(message.task);
        return;
      case "abort":
        life.tasks.abort(message.taskIds);
        return;
      case "engine":
        if (message.link === life.link) this.#heard(message.message);
        return;
      case "exit":
        if (message.link === life.link) {
          life.die(message.reason, message.cause ?? "other");
        }
        return;
      case "restart":
        life.restartWith(message.link);
        return;
      case "revive":
        life.revive(message.link);
        return;
      case "stop":
        life.stop(message.reason, message.event, message.shutdown);
        return;
      case "retire":
        life.retire(message.reason);
        return;
      case "heartbeat":
        life.heartbeat(message.misses);
        return;
    }
  }

  /** What the engine said, on its current link, means for its life. */
  #heard(message: FromEngine): void {
    const life = this.#life;
    life.heard();
    const problem = fromEngineProblem(message);
    if (problem !== undefined) {
      life.breach(problem);
      return;
    }
    switch (message.t) {
      case "ready":
        life.ready();
        return;
      case "pong":
        life.figures.pong(message);
        return;
      case "reset":
        life.reset(message.reason);
        return;
      case "fatal":
        life.fatal(message.reason, message.cause);
        return;
      case "drain":
        life.drain(message.reason);
        return;
      case "pub":
        life.figures.published(life.link, message.data);
        life.acknowledge();
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
        life.tasks.stream(message.taskId, message.name, message.text);
        return;
      case "cancelled":
        life.cancelled(message.taskIds);
        return;
      case "done":
        life.finish(message);
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
    this.#life.stop(
      `troupe's actor for it crashed: ${messageOf(error)}`,
      "gaveUp",
    );
  }

  /** What is told after a crash is answered here, so that nothing waits. */
  protected override onDropped(message: EngineMessage): void {
    if (message.kind === "submit") {
      this.#life.refuse(message.task);
    } else if (message.kind === "restart" || message.kind === "revive") {
      message.link.terminate();
    }
  }
}
