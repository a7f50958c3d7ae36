/**
 * A connected client's picture of its controller's engines: the latest
 * `engines` snapshot, brought forward by each `engineEvent` until the next
 * snapshot lands.
 *
 * @module
 */

import type {
  EngineEvent,
  EngineStatus,
  RestartPolicy,
} from "../cluster/cluster.ts";

/**
 * The engines, as the controller last said. An engine event patches the
 * engine it names at once: the controller's snapshot comes after its events,
 * and a listener of the event that asks `engines()` must not see the engine
 * as it was before.
 *
 * @example
 * ```ts
 * import { EngineMirror } from "./engine_mirror.ts";
 * const mirror = new EngineMirror({
 *   engines: [],
 *   restartPolicy: { maxRestarts: 3, withinMs: 60_000 },
 * });
 * mirror.apply({ type: "registered", engineId: 0 });
 * console.log(mirror.ids()); // [0]
 * ```
 */
export class EngineMirror {
  #engines: EngineStatus[] = [];
  #unrunnable: string | undefined;
  /** The engines an idle pool's next start brings (0 from an older troupe). */
  #plannedEngines = 0;
  #restartPolicy: RestartPolicy;
  /** Why the mirror no longer follows the controller, once it does not. */
  #lost: string | undefined;

  /** Starts from the `attached` message's snapshot. */
  constructor(snapshot: {
    engines: EngineStatus[];
    unrunnable?: string;
    restartPolicy: RestartPolicy;
    plannedEngines?: number;
  }) {
    this.#restartPolicy = snapshot.restartPolicy;
    this.update(snapshot);
  }

  /**
   * Takes a snapshot of the controller's (`attached` or `engines`); returns
   * the ids of engines it no longer lists (an idle pool forgot them).
   */
  update(snapshot: {
    engines: EngineStatus[];
    unrunnable?: string;
    restartPolicy: RestartPolicy;
    plannedEngines?: number;
  }): number[] {
    if (this.#lost) return [];
    const listed = new Set(snapshot.engines.map((e) => e.engineId));
    const gone = this.#engines.map((e) => e.engineId)
      .filter((id) => !listed.has(id));
    this.#engines = [...snapshot.engines].sort((a, b) =>
      a.engineId - b.engineId
    );
    this.#unrunnable = snapshot.unrunnable;
    this.#restartPolicy = snapshot.restartPolicy;
    this.#plannedEngines = snapshot.plannedEngines ?? 0;
    return gone;
  }

  /** Brings the engine that `event` names up to date. */
  apply(event: EngineEvent): void {
    if (this.#lost) return;
    let status = this.#engines.find((e) => e.engineId === event.engineId);
    if (!status) {
      status = blank(event.engineId);
      this.#engines.push(status);
      this.#engines.sort((a, b) => a.engineId - b.engineId);
    }
    switch (event.type) {
      case "registered":
        status.state = "idle";
        break;
      case "died":
        Object.assign(status, idle(), {
          state: "restarting",
          deathReason: event.reason,
        });
        break;
      case "restarted":
        status.restarts = event.restarts;
        break;
      case "draining":
        status.state = "draining";
        break;
      case "gaveUp":
      case "retired":
        Object.assign(status, idle(), {
          state: "stopped",
          deathReason: event.reason,
        });
        break;
    }
  }

  /**
   * The controller is gone: the last snapshot stays, with no engine up,
   * and nothing can run.
   */
  lose(why: string): void {
    if (this.#lost) return;
    for (const status of this.#engines) {
      if (status.state === "stopped") continue;
      Object.assign(status, idle(), { state: "stopped", deathReason: why });
    }
    this.#lost = why;
  }

  /** A copy of every engine, in id order. */
  engines(): EngineStatus[] {
    return this.#engines.map((e) => ({ ...e }));
  }

  /** Ids of the engines up (idle or busy), ascending. */
  ids(): number[] {
    return this.#engines
      .filter((e) => e.state === "idle" || e.state === "busy")
      .map((e) => e.engineId);
  }

  /** Whether the controller has, or ever had, engine `engineId`. */
  has(engineId: number): boolean {
    return this.#engines.some((e) => e.engineId === engineId);
  }

  /** Why no load-balanced task can run, when that is so. */
  /** The controller's `plannedEngines()`, as it last said; 0 once lost. */
  get plannedEngines(): number {
    return this.#lost ? 0 : this.#plannedEngines;
  }

  get unrunnable(): string | undefined {
    return this.#lost ?? this.#unrunnable;
  }

  /** The controller's restart policy, as it last said. */
  get restartPolicy(): RestartPolicy {
    return this.#restartPolicy;
  }

  set restartPolicy(policy: RestartPolicy) {
    this.#restartPolicy = policy;
  }
}

function idle(): Pick<EngineStatus, "currentTaskId" | "load"> {
  return { currentTaskId: undefined, load: 0 };
}

function blank(engineId: number): EngineStatus {
  return {
    engineId,
    kind: "remote",
    state: "starting",
    restarts: 0,
    tasksDone: 0,
    currentTaskId: undefined,
    load: 0,
    deathReason: undefined,
  };
}
