/**
 * Frames and bytes a connection read and wrote: four integers a
 * `FramedConnection` adds to as it goes (`troupe_wire_frames_total`,
 * `troupe_wire_bytes_total`), the sum a core or a controller keeps over
 * its connections, live and ended, and why a connection was dropped
 * (`troupe_connections_dropped_total`).
 *
 * @module
 */

import type { MetricsRegistry, TallyFamily } from "../observe/metrics.ts";

/**
 * Why a listener dropped a connection, as a small closed set:
 * `handshake_refused` (a wrong key, purpose, version or token),
 * `handshake_timeout`, `frame_too_large`, `malformed_frame` (garbage, a
 * frame out of place, a seal that does not open, a message that does not
 * fit the protocol), `heartbeat` (a client or TCP engine silent too long),
 * `too_slow` (a client that takes nothing of what it is sent), `closed` (the
 * peer left mid-handshake, or a TCP engine's connection ended under it),
 * `other`.
 *
 * @example
 * ```ts
 * import { DROP_CAUSES, type DropCause } from "./wire_counts.ts";
 * const cause: DropCause = "handshake_refused";
 * console.log(DROP_CAUSES.includes(cause)); // true
 * ```
 */
export type DropCause =
  | "handshake_refused"
  | "handshake_timeout"
  | "frame_too_large"
  | "malformed_frame"
  | "heartbeat"
  | "too_slow"
  | "closed"
  | "other";

/**
 * Every `DropCause`.
 *
 * @example
 * ```ts
 * import { DROP_CAUSES } from "./wire_counts.ts";
 * console.log(DROP_CAUSES[0]); // handshake_refused
 * ```
 */
export const DROP_CAUSES: readonly DropCause[] = [
  "handshake_refused",
  "handshake_timeout",
  "frame_too_large",
  "malformed_frame",
  "heartbeat",
  "too_slow",
  "closed",
  "other",
];

/**
 * One connection's figures, counted as frames are read (whole) and queued
 * to be written; bytes are the wire's, length prefixes and seals included.
 *
 * @example
 * ```ts
 * import { WireCounts } from "./wire_counts.ts";
 * const counts = new WireCounts();
 * counts.framesOut++;
 * counts.bytesOut += 12;
 * console.log(counts.framesOut, counts.bytesOut); // 1 12
 * ```
 */
export class WireCounts {
  framesIn = 0;
  bytesIn = 0;
  framesOut = 0;
  bytesOut = 0;

  /** Adds `other`'s figures to these. */
  add(other: WireCounts): void {
    this.framesIn += other.framesIn;
    this.bytesIn += other.bytesIn;
    this.framesOut += other.framesOut;
    this.bytesOut += other.bytesOut;
  }
}

/**
 * The sum over a set of connections that come and go: the live ones are
 * read when asked, an ended one is added once and forgotten, so a long
 * run holds nothing per past connection.
 *
 * @example
 * ```ts
 * import { WireCounts, WireTotals } from "./wire_counts.ts";
 * const totals = new WireTotals();
 * const a = new WireCounts();
 * totals.track(a);
 * a.framesIn = 3;
 * console.log(totals.sum().framesIn); // 3
 * totals.ended(a);
 * a.framesIn = 99; // Counted no more.
 * console.log(totals.sum().framesIn); // 3
 * ```
 */
export class WireTotals {
  #ended = new WireCounts();
  #live = new Set<WireCounts>();

  /** Counts `counts` from now on, while it lives. */
  track(counts: WireCounts): void {
    this.#live.add(counts);
  }

  /** Its connection ended: its figures so far stay in the sum. */
  ended(counts: WireCounts): void {
    if (this.#live.delete(counts)) this.#ended.add(counts);
  }

  /** Every tracked connection's figures, summed now. */
  sum(): WireCounts {
    const sum = new WireCounts();
    sum.add(this.#ended);
    for (const counts of this.#live) sum.add(counts);
    return sum;
  }
}

/**
 * The wire's families in `registry`: `troupe_wire_frames_total` and
 * `troupe_wire_bytes_total` by direction, set from `totals` at each scrape,
 * and `troupe_connections_dropped_total` by cause, every cause a sample
 * from the start (`increase()` cannot see a series' first step from absent
 * to 1). The core declares them over its engine connections and a
 * controller over its client connections, here, so that the two merge as
 * one figure said in the same words.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "../observe/metrics.ts";
 * import { WireFigures, WireTotals } from "./wire_counts.ts";
 * const r = new MetricsRegistry();
 * const wire = new WireFigures(r, new WireTotals());
 * wire.dropped("heartbeat");
 * console.log(r.families().map((f) => f.name));
 * // [ "troupe_wire_frames_total", "troupe_wire_bytes_total", "troupe_connections_dropped_total" ]
 * ```
 */
export class WireFigures {
  #drops: TallyFamily;

  /** Declares the families in `registry`, the wire's read from `totals`. */
  constructor(registry: MetricsRegistry, totals: WireTotals) {
    const frames = registry.counter(
      "troupe_wire_frames_total",
      "Frames read (in) and written (out) on TCP: the core's engine " +
        "connections, and a controller's client connections.",
      ["direction"],
    );
    const bytes = registry.counter(
      "troupe_wire_bytes_total",
      "Bytes read (in) and written (out) on those connections, length " +
        "prefixes and seals included.",
      ["direction"],
    );
    this.#drops = registry.counter(
      "troupe_connections_dropped_total",
      "Connections dropped, by cause (" + DROP_CAUSES.join(", ") + ").",
      ["cause"],
    );
    for (const cause of DROP_CAUSES) this.#drops.inc({ cause }, 0);
    registry.collect(() => {
      const sum = totals.sum();
      frames.set({ direction: "in" }, sum.framesIn);
      frames.set({ direction: "out" }, sum.framesOut);
      bytes.set({ direction: "in" }, sum.bytesIn);
      bytes.set({ direction: "out" }, sum.bytesOut);
    });
  }

  /** A connection was dropped. */
  dropped(cause: DropCause): void {
    this.#drops.inc({ cause });
  }
}
