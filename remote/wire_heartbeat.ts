/**
 * The heartbeat of a client⇄controller connection, the same on both ends:
 * a `{ t: "beat" }` goes out in every period in which nothing else did,
 * and a peer that has said nothing (not a frame, not a byte of one) for
 * `misses` periods in a row is taken for gone (stopped, partitioned, its
 * host down with the TCP connection still open), so that nothing waits on
 * it without end. Silence is counted by `protocol/heartbeat.ts`'s
 * `MissedBeats`, the rule engines are judged by.
 *
 * @module
 */

import { unrefTimer } from "../actors/async.ts";
import { MissedBeats } from "../protocol/heartbeat.ts";

/**
 * Silent periods after which a client takes its controller for gone: more
 * than an engine is allowed (3), because a controller may be busy for a
 * few seconds with one client's huge submission while another waits, and
 * a lost controller costs its clients every pending result.
 *
 * @example
 * ```ts
 * import { CONTROLLER_SILENCE_MISSES } from "./wire_heartbeat.ts";
 * console.log(CONTROLLER_SILENCE_MISSES); // 10
 * ```
 */
export const CONTROLLER_SILENCE_MISSES = 10;

/**
 * What a `WireHeartbeat` runs on.
 *
 * @example
 * ```ts
 * import type { WireHeartbeatOptions } from "./wire_heartbeat.ts";
 * const options: WireHeartbeatOptions = {
 *   periodMs: 1000,
 *   misses: 3,
 *   beat: () => {},
 *   bytesRead: () => 0,
 *   silent: (ms) => console.log(`no word for ${ms} ms`),
 * };
 * ```
 */
export interface WireHeartbeatOptions {
  /** How often to check, and to beat when nothing else went. */
  periodMs: number;
  /** Silent periods in a row that make the peer gone. */
  misses: number;
  /** Sends `{ t: "beat" }`. */
  beat(): void;
  /** The connection's bytes read so far (`FramedConnection.bytesRead`). */
  bytesRead(): number;
  /** The peer has said nothing for `silentMs`: close. Called once. */
  silent(silentMs: number): void;
}

/**
 * One end's heartbeat: tell it what was `heard` and `sent`, `stop` it when
 * the connection closes. Its timer never holds the process.
 *
 * @example
 * ```ts
 * import { WireHeartbeat } from "./wire_heartbeat.ts";
 * const heartbeat = new WireHeartbeat({
 *   periodMs: 1000,
 *   misses: 3,
 *   beat: () => {},
 *   bytesRead: () => 0,
 *   silent: () => {},
 * });
 * heartbeat.heard();
 * heartbeat.stop();
 * ```
 */
export class WireHeartbeat {
  #options: WireHeartbeatOptions;
  #beats = new MissedBeats();
  #sent = false;
  #bytes = 0;
  #lastTick = performance.now();
  #timer: ReturnType<typeof setInterval> | undefined;

  /** Starts the timer at once. */
  constructor(options: WireHeartbeatOptions) {
    this.#options = options;
    this.#bytes = options.bytesRead();
    this.#timer = setInterval(() => this.#tick(), options.periodMs);
    unrefTimer(this.#timer);
  }

  /** A message came from the peer. */
  heard(): void {
    this.#beats.heard();
  }

  /** A message went to the peer: no beat is needed this period. */
  sent(): void {
    this.#sent = true;
  }

  /** Clears the timer (the connection closed). Safe to call twice. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    const { periodMs, misses } = this.#options;
    const now = performance.now();
    // A tick this late means this side's own event loop was held (a long
    // synchronous stretch): what the peer sent meanwhile may not have been
    // read yet, so this period's silence is not the peer's to answer for.
    const late = now - this.#lastTick > 2 * periodMs;
    this.#lastTick = now;
    const bytes = this.#options.bytesRead();
    if (bytes !== this.#bytes) {
      this.#bytes = bytes;
      this.#beats.heard();
    }
    if (!this.#sent) this.#options.beat();
    this.#sent = false;
    const missed = this.#beats.beat(!late);
    if (missed >= misses) {
      this.stop();
      this.#options.silent(missed * periodMs);
    }
  }
}
