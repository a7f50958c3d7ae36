/**
 * The supervisor: starts engine actors, watches their heartbeats, and
 * restarts the ones that die, OTP-style.
 *
 * @module
 */

import { Actor } from "../actors/actor.ts";
import { MAX_TIMER_MS, unrefTimer } from "../actors/async.ts";
import { AwayEngines } from "./away_engines.ts";
import { EngineActor } from "./engine_actor.ts";
import type { EngineEvent } from "./engine_types.ts";
import type { EngineLink, LinkFactory } from "../protocol/engine_link.ts";
import type { Registry } from "./registry.ts";
import { ClientClosedError } from "../protocol/errors.ts";
import {
  DEFAULT_HEARTBEAT_MISSES,
  DEFAULT_HEARTBEAT_MS,
} from "../protocol/heartbeat.ts";
import {
  backoffMs,
  checkPolicy,
  DEFAULT_RESTART_POLICY,
  type RestartPolicy,
} from "./restart_policy.ts";

export {
  DEFAULT_RESTART_POLICY,
  type RestartPolicy,
} from "./restart_policy.ts";

/** Where an engine runs. */
export type EngineKind = "worker" | "process" | "remote";

/** How a supervisor starts. */
export interface SupervisorOptions {
  /** Where publications go. */
  registry: Registry;
  /** The restart policy; it can be changed later. */
  restart?: RestartPolicy;
  /** Heartbeat period in ms. */
  heartbeatMs?: number;
  /**
   * Periods without an answer after which an engine is dead; defaults to
   * `DEFAULT_HEARTBEAT_MISSES`.
   */
  heartbeatMisses?: number;
  /**
   * How long an engine has to say it is ready after each start, in ms;
   * past that it counts as a death. Defaults to 60 000.
   */
  startTimeoutMs?: number;
  /**
   * How long tasks queued for an engine that is down wait for it, in ms.
   * Defaults to 60 000.
   */
  noEngineTimeoutMs?: number;
  /** Hears every engine's lifecycle. */
  onEvent?: (event: EngineEvent) => void;
}

/** What the supervisor handles. */
export type SupervisorMessage =
  | { kind: "event"; event: EngineEvent }
  | { kind: "restartDue"; engineId: number };

/**
 * Owns the engine actors. When one dies it decides, per engine, whether to
 * restart it under the same id (after a backoff) or to give it up, so that one
 * crashing engine never costs the others anything. Restarts that troupe
 * causes itself (aborting a running task) are immediate and not counted.
 *
 * @example
 * ```ts
 * import { Supervisor } from "./supervisor.ts";
 * import { Registry } from "./registry.ts";
 * import type { LinkFactory } from "../protocol/engine_link.ts";
 * async function runOne(spawn: LinkFactory) {
 *   const supervisor = new Supervisor({ registry: new Registry() });
 *   supervisor.startEngine(0, "worker", spawn);
 *   await supervisor.close("done");
 * }
 * ```
 */
export class Supervisor extends Actor<SupervisorMessage> {
  #engines = new Map<number, EngineActor>();
  /**
   * `#engines` in id order, made when one is added: the scheduler asks for
   * every engine on each pass, and sorting them each time made a task's
   * cost grow with the number of engines.
   */
  #inOrder: EngineActor[] = [];
  #kinds = new Map<number, EngineKind>();
  /** How to start each engine again; remote engines come back by themselves. */
  #spawners = new Map<number, LinkFactory>();
  #registry: Registry;
  #policy: RestartPolicy;
  #onEvent: (event: EngineEvent) => void;
  /** Per engine, when its counted restarts happened (ms, monotonic). */
  #history = new Map<number, number[]>();
  /** Why each engine told to retire is (its drain ends in a stop). */
  #retiring = new Map<number, string>();
  /** Remote engines given up while away, which may still come back. */
  #awayTooLong = new AwayEngines();
  /** The highest id an engine has had: below it, an absent one was forgotten. */
  #highest = -1;
  #pending = new Map<number, ReturnType<typeof setTimeout>>();
  #heartbeat: ReturnType<typeof setInterval>;
  #startTimeoutMs: number | undefined;
  #noEngineTimeoutMs: number | undefined;
  #closed = false;

  /** Starts the heartbeat; engines come with `startEngine`. */
  constructor(options: SupervisorOptions) {
    super();
    this.#registry = options.registry;
    this.#policy = checkPolicy(options.restart ?? DEFAULT_RESTART_POLICY);
    this.#onEvent = options.onEvent ?? (() => {});
    this.#startTimeoutMs = options.startTimeoutMs;
    this.#noEngineTimeoutMs = options.noEngineTimeoutMs;
    const misses = options.heartbeatMisses ?? DEFAULT_HEARTBEAT_MISSES;
    this.#heartbeat = setInterval(() => {
      for (const engine of this.#engines.values()) {
        engine.tell({ kind: "heartbeat", misses });
      }
    }, options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
    // Idle engines must not keep the process alive; pending work holds it
    // (see client/keep_alive.ts), and the beat runs while it does.
    unrefTimer(this.#heartbeat);
  }

  /** The restart policy in force. */
  get policy(): RestartPolicy {
    return { ...this.#policy };
  }

  /** Changes the restart policy; it applies from the next death on. */
  set policy(policy: RestartPolicy) {
    this.#policy = checkPolicy(policy);
  }

  /**
   * Starts a new engine under `engineId` with `spawn`, which is called again
   * to restart it.
   */
  startEngine(
    engineId: number,
    kind: EngineKind,
    spawn: LinkFactory,
  ): EngineActor {
    const engine = this.#add(engineId, kind, spawn(engineId));
    this.#spawners.set(engineId, spawn);
    return engine;
  }

  /**
   * Takes on an engine that started on its own (a remote engine that
   * connected). An engine that comes back under an id it had is that
   * engine again, with a restart counted.
   */
  adopt(engineId: number, link: EngineLink): EngineActor {
    const engine = this.#engines.get(engineId);
    if (engine?.state === "restarting" && !this.#spawners.has(engineId)) {
      engine.tell({ kind: "restart", link });
      return engine;
    }
    if (engine?.state === "stopped" && this.#awayTooLong.delete(engineId)) {
      engine.tell({ kind: "revive", link });
      return engine;
    }
    return this.#add(engineId, "remote", link);
  }

  /**
   * Whether a connecting engine that asks for `engineId` may have it:
   * that remote engine is restarting, or it was given up while away and
   * this is the same process (pid and host as its last hello said), back
   * from a pause longer than `restart.withinMs` (a laptop's sleep, a
   * partition). Another process asking for the id gets a new one.
   */
  mayReturn(
    engineId: number,
    hello: { pid?: number; hostname?: string },
  ): boolean {
    if (this.#kinds.get(engineId) !== "remote") return false;
    const state = this.#engines.get(engineId)?.state;
    if (state === "restarting") return true;
    return state === "stopped" &&
      this.#awayTooLong.isSameProcess(engineId, hello);
  }

  /** Where engine `engineId` runs. */
  kindOf(engineId: number): EngineKind | undefined {
    return this.#kinds.get(engineId);
  }

  #add(engineId: number, kind: EngineKind, link: EngineLink): EngineActor {
    if (this.#closed) {
      link.terminate();
      throw new ClientClosedError({ what: "start an engine" });
    }
    if (this.#engines.has(engineId)) {
      link.terminate();
      throw new Error(`engine ${engineId} exists already`);
    }
    const engine = new EngineActor(
      engineId,
      link,
      this.#registry,
      (event) => this.tell({ kind: "event", event }),
      {
        startTimeoutMs: this.#startTimeoutMs,
        noEngineTimeoutMs: this.#noEngineTimeoutMs,
      },
    );
    this.#engines.set(engineId, engine);
    // Ids mostly come in order: sort only when this one does not.
    const last = this.#inOrder.at(-1);
    this.#inOrder.push(engine);
    if (last && last.engineId > engineId) {
      this.#inOrder.sort((a, b) => a.engineId - b.engineId);
    }
    this.#kinds.set(engineId, kind);
    this.#highest = Math.max(this.#highest, engineId);
    return engine;
  }

  /**
   * Tells these engines to retire: each finishes its running task, hands
   * back its load-balanced ones, then stops for good. Kept, so that a
   * `follow` of an engine that drains to stop is told it cannot be met.
   */
  retire(engineIds: Iterable<number>, reason: string): void {
    for (const engineId of engineIds) {
      const engine = this.#engines.get(engineId);
      if (!engine) continue;
      this.#retiring.set(engineId, reason);
      engine.tell({ kind: "retire", reason });
    }
  }

  /** Why engine `engineId` was told to retire, if it was. */
  retiringBecause(engineId: number): string | undefined {
    return this.#retiring.get(engineId);
  }

  /** Whether engine `engineId` was had, stopped, and then forgotten. */
  forgot(engineId: number): boolean {
    return engineId >= 0 && engineId <= this.#highest &&
      !this.#engines.has(engineId);
  }

  /** The engine with this id, if the client ever had it. */
  get(engineId: number): EngineActor | undefined {
    return this.#engines.get(engineId);
  }

  /**
   * Drops these engines from what the supervisor keeps, if they are
   * stopped for good (others stay): an idle pool stops a set on each idle
   * spell, and keeping every one made `engines()` grow for ever. Their
   * ids are not given out again: new ones are above the engines kept.
   * Returns the ids dropped.
   */
  forget(engineIds: Iterable<number>): number[] {
    const dropped: number[] = [];
    for (const engineId of engineIds) {
      if (this.#engines.get(engineId)?.state !== "stopped") continue;
      this.#engines.delete(engineId);
      this.#kinds.delete(engineId);
      this.#spawners.delete(engineId);
      this.#history.delete(engineId);
      this.#retiring.delete(engineId);
      this.#awayTooLong.delete(engineId);
      clearTimeout(this.#pending.get(engineId));
      this.#pending.delete(engineId);
      dropped.push(engineId);
    }
    if (dropped.length > 0) {
      this.#registry.tell({ kind: "forget", engineIds: dropped });
      this.#inOrder = this.#inOrder.filter((e) =>
        this.#engines.has(e.engineId)
      );
    }
    return dropped;
  }

  /** Every engine, in id order, as a fresh array. */
  all(): EngineActor[] {
    return this.#inOrder.slice();
  }

  /** How many engines `all()` would give, without making the array. */
  get size(): number {
    return this.#inOrder.length;
  }

  /**
   * Stops restarting, stops every engine (even mid-task; their tasks fail
   * with an `EngineError` that gives `reason`) and the heartbeat. With
   * `shutdown`, remote engines are told to exit rather than wait for a
   * client. Resolves once every thread and process is gone.
   */
  async close(
    reason: string,
    options: { shutdown?: boolean } = {},
  ): Promise<void> {
    this.#closed = true;
    clearInterval(this.#heartbeat);
    for (const timer of this.#pending.values()) clearTimeout(timer);
    this.#pending.clear();
    await Promise.all(
      this.all().map((engine) => engine.stop(reason, options)),
    );
  }

  protected receive(message: SupervisorMessage): void {
    switch (message.kind) {
      case "event":
        this.#onEvent(message.event);
        if (message.event.type === "died") this.#onDeath(message.event);
        return;
      case "restartDue": {
        this.#pending.delete(message.engineId);
        const engine = this.#engines.get(message.engineId);
        const spawn = this.#spawners.get(message.engineId);
        if (this.#closed || engine?.state !== "restarting") return;
        if (!spawn) {
          engine.tell({
            kind: "stop",
            reason: this.#awayTooLong.givenUp(
              message.engineId,
              engine.where,
              this.#policy.withinMs,
              engine.deathReason ?? "its link ended",
            ),
            event: "gaveUp",
          });
          return;
        }
        try {
          engine.tell({ kind: "restart", link: spawn(message.engineId) });
        } catch (error) {
          engine.tell({
            kind: "stop",
            reason: `it could not be restarted: ${error}`,
            event: "gaveUp",
          });
        }
        return;
      }
    }
  }

  protected override onCrash(error: unknown): void {
    console.error("troupe: the supervisor crashed:", error);
  }

  #onDeath(event: EngineEvent & { type: "died" }): void {
    const { engineId } = event;
    if (this.#closed) return;
    if (!this.#spawners.has(engineId)) {
      this.#awaitReconnect(engineId);
      return;
    }
    if (event.deliberate) {
      this.tell({ kind: "restartDue", engineId });
      return;
    }
    const { maxRestarts, withinMs } = this.#policy;
    const now = performance.now();
    const recent = (this.#history.get(engineId) ?? [])
      .filter((t) => now - t < withinMs);
    if (recent.length >= maxRestarts) {
      this.#history.delete(engineId);
      this.#engines.get(engineId)?.tell({
        kind: "stop",
        reason: `given up after ${recent.length} restarts within ` +
          `${withinMs} ms; it last died because ${event.reason}`,
        event: "gaveUp",
      });
      return;
    }
    recent.push(now);
    this.#history.set(engineId, recent);
    const delay = backoffMs(this.#policy, recent.length);
    const timer = setTimeout(
      () => this.tell({ kind: "restartDue", engineId }),
      delay,
    );
    unrefTimer(timer);
    this.#pending.set(engineId, timer);
  }

  /**
   * A remote engine restarts itself and reconnects under its id; until
   * then it waits. One that was killed and started again joins under a new
   * id, and its old id would wait forever (a `restarting` engine more with
   * every such cycle): past the restart window it is given up.
   */
  #awaitReconnect(engineId: number): void {
    clearTimeout(this.#pending.get(engineId));
    this.#pending.delete(engineId);
    const { withinMs } = this.#policy;
    if (withinMs > MAX_TIMER_MS) return; // Weeks: as good as forever.
    const timer = setTimeout(
      () => this.tell({ kind: "restartDue", engineId }),
      withinMs,
    );
    unrefTimer(timer);
    this.#pending.set(engineId, timer);
  }
}
