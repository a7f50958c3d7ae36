/**
 * How many load-balanced tasks an engine holds at once when the view did
 * not say (`highWaterMark` unset): chosen from the measured task durations
 * against the round trip to the engine.
 *
 * @module
 */

import { TASK_PIPELINE } from "../protocol/messages.ts";

/** The most an engine holds: what its actor sends ahead without waiting. */
export const MAX_ADAPTIVE_DEPTH: number = TASK_PIPELINE;

/** A round trip to a Worker engine on a busy machine, until one is seen. */
const FIRST_ROUND_TRIP_MS = 0.2;

/** The weight of each new duration in their running mean. */
const WEIGHT = 0.25;

/** How far one longer round trip raises the estimate towards itself. */
const RISE = 0.02;

/** What is kept of a task from its hand-out to its end. */
export interface HandOutStamp {
  /** When it was handed to its engine (`performance.now()` ms). */
  sentAt: number;
  /** Whether its engine held nothing else then (its `done` times a trip). */
  alone: boolean;
}

/** How a finished task went: the engine's clock (ms), if it ran. */
export interface RanTimes {
  started?: number;
  completed?: number;
}

/**
 * ipyparallel keeps one task per engine (`hwm = 1`) so that no task waits
 * behind a slow one while another engine idles. That costs a round trip
 * of idle engine per task, which matters only where tasks are shorter
 * than a round trip. So an engine holds `1 + ⌊roundTrip / duration⌋`
 * tasks (at most `MAX_ADAPTIVE_DEPTH`): one for tasks as long as a round
 * trip or longer (as ipyparallel), enough to cover the round trip for
 * shorter ones. Until a task has been timed, it is 1.
 *
 * An engine gets more than one task only right after it finished one
 * (it is "fresh"), in the pass that handles that `done` or while it still
 * holds tasks: an engine whose running task has said nothing since it was
 * handed out may be running a long one, and what waits behind it waits
 * for nothing, so an idle engine that did not just finish gets one task,
 * as with `highWaterMark: 1`. A fresh engine is refilled once it has
 * worked off half of its depth, and then to its depth: the tasks it is
 * given go as one post (`transport/post_batch.ts`) instead of one post per
 * finished task.
 *
 * @example
 * ```ts
 * import { AdaptiveDepth } from "./adaptive_depth.ts";
 * const depth = new AdaptiveDepth<string>();
 * console.log(depth.depth, depth.limit("engine 0", 0)); // 1 1: nothing timed
 * const stamp = depth.handOut("engine 0", 0);
 * // A tiny task: 2 µs on the engine.
 * depth.finished("engine 0", stamp, { started: 5, completed: 5.002 });
 * console.log(depth.depth, depth.limit("engine 0", 0)); // 16 16
 * console.log(depth.limit("engine 1", 0), depth.limit("engine 0", 9)); // 1 9
 * ```
 */
export class AdaptiveDepth<Engine extends object | string = object> {
  #durationMs: number | undefined;
  #roundTripMs = FIRST_ROUND_TRIP_MS;
  /** Engines that finished a task since they were last handed one. */
  #fresh = new Set<Engine>();

  /** How many tasks an engine holds now. */
  get depth(): number {
    const duration = this.#durationMs;
    if (duration === undefined) return 1;
    const cover = this.#roundTripMs / Math.max(duration, 1e-6);
    return Math.min(MAX_ADAPTIVE_DEPTH, 1 + Math.floor(cover));
  }

  /** The measured round trip (ms): hand-out to done, less the task. */
  get roundTripMs(): number {
    return this.#roundTripMs;
  }

  /** The running mean of task durations on the engines (ms), if timed. */
  get durationMs(): number | undefined {
    return this.#durationMs;
  }

  /**
   * How many tasks `engine`, which holds `load`, may hold after this
   * scheduling pass: an idle one that is not fresh, 1; a fresh one, its
   * depth once it holds no more than half of it; otherwise what it holds.
   */
  limit(engine: Engine, load: number): number {
    if (!this.#fresh.has(engine)) return load === 0 ? 1 : load;
    const depth = this.depth;
    return load <= depth >> 1 ? depth : load;
  }

  /**
   * Whether `engine` finished a task since it was last handed one (and was
   * not left idle by a pass since): it may be refilled to the depth.
   */
  isFresh(engine: Engine): boolean {
    return this.#fresh.has(engine);
  }

  /**
   * A scheduling pass ended: a fresh engine left idle is fresh no more, so
   * that the next tasks, which may be long, go to it one at a time.
   */
  endPass(loadOf: (engine: Engine) => number): void {
    for (const engine of this.#fresh) {
      if (loadOf(engine) === 0) this.rest(engine);
    }
  }

  /**
   * `engine` is fresh no more (left idle by a pass, or gone): `endPass`
   * for one engine, for a caller that knows which engines are idle.
   */
  rest(engine: Engine): void {
    this.#fresh.delete(engine);
  }

  /** A task goes to `engine`, which holds `load` others: its stamp. */
  handOut(engine: Engine, load: number): HandOutStamp {
    this.#fresh.delete(engine);
    return { sentAt: performance.now(), alone: load === 0 };
  }

  /**
   * A task handed out with `stamp` ended on `engine`. One that ran (the
   * engine timed it) makes the engine fresh and teaches its duration (and,
   * alone, the round trip); one lost or aborted teaches nothing.
   */
  finished(engine: Engine, stamp: HandOutStamp, times: RanTimes): void {
    const { started, completed } = times;
    if (started === undefined || completed === undefined) return;
    this.#fresh.add(engine);
    const duration = Math.max(0, completed - started);
    this.#durationMs = this.#durationMs === undefined
      ? duration
      : this.#durationMs + WEIGHT * (duration - this.#durationMs);
    // Only a task that waited behind none tells the round trip, and even
    // its time includes how long the client was busy before it handled
    // the `done` (a burst of submissions): the least of these is the trip,
    // so a smaller one is taken at once and larger ones raise it slowly.
    if (!stamp.alone) return;
    const trip = performance.now() - stamp.sentAt - duration;
    const roundTrip = Math.max(0, trip);
    this.#roundTripMs = roundTrip < this.#roundTripMs
      ? roundTrip
      : this.#roundTripMs + RISE * (roundTrip - this.#roundTripMs);
  }
}
