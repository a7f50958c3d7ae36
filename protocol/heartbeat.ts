/**
 * Missed-beat counting, the one rule both ends of a connection judge
 * silence by: the client its engines, an engine process its task thread.
 * Each side decides which silence counts; this counts it.
 *
 * @module
 */

/**
 * Heartbeat periods in a row that a peer may stay silent before it is taken
 * for dead: the client's supervisor gives engines this many (unless its
 * `heartbeatMisses` says otherwise), an engine process its task thread.
 *
 * @example
 * ```ts
 * import { DEFAULT_HEARTBEAT_MISSES } from "./heartbeat.ts";
 * console.log(DEFAULT_HEARTBEAT_MISSES); // 3
 * ```
 */
export const DEFAULT_HEARTBEAT_MISSES = 3;

/**
 * How often, in ms, a side that judges its peer by silence checks (and
 * beats, where it beats): the client's engines unless `heartbeatMs` says
 * otherwise, and a connected client and its controller.
 *
 * @example
 * ```ts
 * import { DEFAULT_HEARTBEAT_MS } from "./heartbeat.ts";
 * console.log(DEFAULT_HEARTBEAT_MS); // 1000
 * ```
 */
export const DEFAULT_HEARTBEAT_MS = 1000;

/**
 * Counts the heartbeat periods in a row in which a peer said nothing. Any
 * message from it (`heard`) is a sign of life; a period whose silence does
 * not count (the peer is known to be busy) breaks the run too.
 *
 * @example
 * ```ts
 * import { MissedBeats } from "./heartbeat.ts";
 * const beats = new MissedBeats();
 * beats.beat(true); // 0: it had been heard before this period
 * beats.beat(true); // 1
 * beats.heard();
 * console.log(beats.beat(true)); // 0
 * ```
 */
export class MissedBeats {
  #heard = true;
  #missed = 0;

  /** The peer said something: it is alive. */
  heard(): void {
    this.#heard = true;
  }

  /** A new peer (or a new thread of it): its predecessor's silence is void. */
  reset(): void {
    this.#heard = true;
    this.#missed = 0;
  }

  /**
   * One heartbeat period has ended. Silence in it counts only when
   * `counts`; returns how many periods in a row have now been counted.
   */
  beat(counts: boolean): number {
    if (this.#heard || !counts) this.#missed = 0;
    else this.#missed++;
    this.#heard = false;
    return this.#missed;
  }
}
