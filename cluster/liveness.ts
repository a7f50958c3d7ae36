/**
 * The engine actor's judgement of whether its engine is alive: the start
 * deadline, the missed heartbeats, and how long it has been down. It keeps
 * the clocks and says why an engine is to be taken for dead; the actor
 * acts on it.
 *
 * @module
 */

import { MissedBeats } from "../protocol/heartbeat.ts";

/**
 * How long an engine has to say it is ready, unless told otherwise
 * (`ClientOptions.startTimeoutMs`).
 *
 * @example
 * ```ts
 * import { DEFAULT_START_TIMEOUT_MS } from "./liveness.ts";
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
 * import { DEFAULT_NO_ENGINE_TIMEOUT_MS } from "./liveness.ts";
 * console.log(DEFAULT_NO_ENGINE_TIMEOUT_MS / 1000, "s"); // 60 s
 * ```
 */
export const DEFAULT_NO_ENGINE_TIMEOUT_MS = 60_000;

/**
 * What the judgement needs to know of the engine at a heartbeat.
 *
 * @example
 * ```ts
 * import type { BeatContext } from "./liveness.ts";
 * // A Worker whose thread runs one of our tasks: its silence is work.
 * const busyWorker: BeatContext = {
 *   life: "up",
 *   misses: 3,
 *   holdsTask: true,
 *   silentWhileBusy: true,
 *   runsOurTask: true,
 * };
 * ```
 */
export interface BeatContext {
  /** `down`: it died and has not been restarted yet, or it is stopped. */
  life: "starting" | "up" | "down";
  /** How many silent periods in a row make it dead. */
  misses: number;
  /** Whether a task of ours is in the engine. */
  holdsTask: boolean;
  /** Whether it cannot answer while its thread runs a task (a Worker). */
  silentWhileBusy: boolean;
  /**
   * Whether its thread runs that task of ours now: known where memory is
   * shared, assumed elsewhere.
   */
  runsOurTask: boolean;
}

/**
 * What a heartbeat found.
 *
 * @example
 * ```ts
 * import type { BeatVerdict } from "./liveness.ts";
 * const fine: BeatVerdict = { expired: false, ping: true };
 * ```
 */
export interface BeatVerdict {
  /** Why it is to be taken for dead now (its link ended), if it is. */
  dead?: string;
  /** `dead`'s class: silent too long, or not ready in time. */
  cause?: "heartbeat" | "start_timeout";
  /** Whether the tasks queued for it have waited too long for it. */
  expired: boolean;
  /** Whether to ping it, so that it has something to answer. */
  ping: boolean;
}

/**
 * One engine's clocks and missed beats, and the reasons they give to take
 * it for dead.
 *
 * @example
 * ```ts
 * import { Liveness } from "./liveness.ts";
 * const liveness = new Liveness({ startTimeoutMs: 60_000 });
 * liveness.starting();
 * const verdict = liveness.heartbeat({
 *   life: "starting",
 *   misses: 3,
 *   holdsTask: false,
 *   silentWhileBusy: true,
 *   runsOurTask: false,
 * });
 * console.log(verdict.dead); // undefined: it has a minute to be ready
 * ```
 */
export class Liveness {
  /** How long the engine has to say `ready` after each start. */
  readonly startTimeoutMs: number;
  /** How long tasks queued for it wait while it is down. */
  readonly noEngineTimeoutMs: number;
  #beats = new MissedBeats();
  /** When the current link or task thread started (`performance.now()`). */
  #startedAt = 0;
  /** Since when it has been down (died and not ready again), if it is. */
  #downSince: number | undefined;

  constructor(
    options: { startTimeoutMs?: number; noEngineTimeoutMs?: number } = {},
  ) {
    this.startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    this.noEngineTimeoutMs = options.noEngineTimeoutMs ??
      DEFAULT_NO_ENGINE_TIMEOUT_MS;
  }

  /**
   * A link was attached, or the engine replaced its task thread: each start
   * has its own deadline, and the old silence is void.
   */
  starting(): void {
    this.#startedAt = performance.now();
    this.#beats.reset();
  }

  /** The engine said something. */
  heard(): void {
    this.#beats.heard();
  }

  /** The engine said it is ready. */
  up(): void {
    this.#downSince = undefined;
  }

  /** The engine died; the first death of a run of them starts the clock. */
  down(): void {
    this.#downSince ??= performance.now();
  }

  /**
   * Judges one heartbeat period. A starting engine is dead once it is past
   * its start deadline. While it is down, the tasks queued for it expire
   * after `noEngineTimeoutMs` (a remote engine may never reconnect). An
   * engine that is up gets a ping, and is dead once it has stayed silent
   * for `misses` periods that count: a Worker's silence does not count
   * while its thread runs one of our tasks (a loop that never yields is
   * work, not death); a thread stuck outside any task (in a timer a task
   * left behind) is dead to us.
   */
  heartbeat(context: BeatContext): BeatVerdict {
    const { life, misses, holdsTask, silentWhileBusy } = context;
    const late = life === "starting" ? this.#lateStart() : undefined;
    if (late !== undefined) {
      return {
        dead: late,
        cause: "start_timeout",
        expired: false,
        ping: false,
      };
    }
    const expired = this.#downTooLong();
    if (life !== "up") return { expired, ping: false };
    const working = holdsTask && silentWhileBusy && context.runsOurTask;
    if (this.#beats.beat(!working) < misses) return { expired, ping: true };
    const dead = holdsTask && silentWhileBusy
      ? `it missed ${misses} heartbeats in a row, stuck outside any ` +
        "task (a timer or callback a task left behind that never returns?)"
      : `it missed ${misses} heartbeats in a row`;
    return { dead, cause: "heartbeat", expired, ping: false };
  }

  #lateStart(): string | undefined {
    if (performance.now() - this.#startedAt <= this.startTimeoutMs) return;
    return `it did not say it was ready within ${this.startTimeoutMs} ms ` +
      "of being started (startTimeoutMs)";
  }

  #downTooLong(): boolean {
    return this.#downSince !== undefined &&
      performance.now() - this.#downSince > this.noEngineTimeoutMs;
  }
}
