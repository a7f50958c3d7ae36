/**
 * The cluster core's metrics (`Cluster.metrics()`, `/metrics`): one
 * registry per core, its families made once, each counted where the core
 * already hears the event (task_metrics.ts for tasks, the engine events
 * for deaths and restarts, the listener for its connections), and the
 * figures a snapshot holds (engines by state, their memory and
 * publications, the wire's totals) set from it at scrape.
 *
 * @module
 */

import {
  type Counter,
  type MetricFamily,
  MetricsRegistry,
} from "../observe/metrics.ts";
import { DEATH_CAUSES, type DeathCause } from "../protocol/engine_link.ts";
import {
  type DropCause,
  WireFigures,
  WireTotals,
} from "../transport/wire_counts.ts";
import type { EngineStatus } from "./cluster.ts";
import type { EngineEvent, EngineState } from "./engine_types.ts";
import type { EngineKind } from "./supervisor.ts";
import { TaskMetrics } from "./task_metrics.ts";

/** The death metric's reasons: every cause but a deliberate abort's. */
const DEATH_REASONS: readonly DeathCause[] = DEATH_CAUSES.filter((c) =>
  c !== "aborted"
);

/** Every state an engine can be in: each is a sample, 0 when none. */
const STATES: readonly EngineState[] = [
  "starting",
  "idle",
  "busy",
  "draining",
  "restarting",
  "stopped",
];

/**
 * An engine as the metrics read its publications at scrape (an engine
 * actor is one).
 *
 * @example
 * ```ts
 * import type { PublishingEngine } from "./core_metrics.ts";
 * const e: PublishingEngine = { engineId: 0, publications: { count: 2, bytes: 30 } };
 * ```
 */
export interface PublishingEngine {
  readonly engineId: number;
  /** Its publications so far and their bytes. */
  readonly publications: { count: number; bytes: number };
}

/**
 * One core's metrics.
 *
 * @example
 * ```ts
 * import { CoreMetrics } from "./core_metrics.ts";
 * const metrics = new CoreMetrics(() => [], () => []);
 * metrics.dropped("handshake_refused");
 * const drops = metrics.families().find((f) =>
 *   f.name === "troupe_connections_dropped_total"
 * );
 * console.log(drops?.samples[0]); // { labels: { cause: "handshake_refused" }, value: 1 }
 * ```
 */
export class CoreMetrics {
  readonly registry: MetricsRegistry = new MetricsRegistry();
  /** The tasks' figures, which the route table counts. */
  readonly tasks: TaskMetrics;
  /** Frames and bytes of the listener's connections, live and ended. */
  readonly wire: WireTotals = new WireTotals();
  /** What the engine listener counts into (`AdmissionOptions.counts`). */
  readonly counts: { wire: WireTotals; dropped: (cause: DropCause) => void } = {
    wire: this.wire,
    dropped: (cause) => this.dropped(cause),
  };
  #restarts: Counter;
  #deaths: Counter;
  #wire: WireFigures;

  /** `engines` as `Cluster.engines()`; `publishing` every engine actor. */
  constructor(
    engines: () => EngineStatus[],
    publishing: () => Iterable<PublishingEngine>,
  ) {
    const r = this.registry;
    const byState = r.gauge(
      "troupe_engines",
      "Engines by state and kind (every state of each kind present).",
      ["state", "kind"],
    );
    this.#restarts = r.counter(
      "troupe_engine_restarts_total",
      "Times an engine came back under its id, by kind: after a death, or " +
        "after troupe replaced its task thread (Worker or process) to abort " +
        "a running task, which is not a death.",
      ["kind"],
    );
    this.#deaths = r.counter(
      "troupe_engine_deaths_total",
      "Engines lost, by kind and reason (" + DEATH_REASONS.join(", ") +
        "); an abort that replaces a task thread is a restart only, so an " +
        "alert on deaths does not fire on users' aborts.",
      ["kind", "reason"],
    );
    this.tasks = new TaskMetrics(r);
    const publications = r.counter(
      "troupe_publications_total",
      "publishData calls that reached the core, by engine (merged ones " +
        "count once).",
      ["engine"],
    );
    const publicationBytes = r.counter(
      "troupe_publication_bytes_total",
      "Bytes of those publications, by engine: exact frame sizes from TCP " +
        "engines, a bounded structural estimate (typed arrays' byteLength, " +
        "strings' length, 8 per number) from Worker engines.",
      ["engine"],
    );
    this.#wire = new WireFigures(r, this.wire);
    const heap = r.gauge(
      "troupe_engine_heap_bytes",
      "The heap of each engine's task thread, as its last heartbeat said.",
      ["engine"],
    );
    const rss = r.gauge(
      "troupe_engine_rss_bytes",
      "The resident memory of each engine process, as its last heartbeat " +
        "said (none for Worker engines: their process is the client's).",
      ["engine"],
    );
    r.collect(() => {
      const all = engines();
      byState.reset();
      heap.reset();
      rss.reset();
      const kinds = new Set<EngineKind>(all.map((e) => e.kind));
      for (const kind of kinds) {
        for (const state of STATES) byState.set({ state, kind }, 0);
        // A sample from the start: `increase()` cannot see a series' first
        // step from absent to 1, so the first death would go unseen.
        this.#restarts.inc({ kind }, 0);
        for (const reason of DEATH_REASONS) {
          this.#deaths.inc({ kind, reason }, 0);
        }
      }
      for (const engine of all) {
        byState.inc({ state: engine.state, kind: engine.kind });
        const labels = { engine: String(engine.engineId) };
        if (engine.heapBytes !== undefined) heap.set(labels, engine.heapBytes);
        if (engine.rssBytes !== undefined) rss.set(labels, engine.rssBytes);
      }
      publications.reset();
      publicationBytes.reset();
      for (const { engineId, publications: p } of publishing()) {
        const labels = { engine: String(engineId) };
        publications.set(labels, p.count);
        publicationBytes.set(labels, p.bytes);
      }
    });
  }

  /** Counts a death or a restart; `kind` is the engine's. */
  engineEvent(event: EngineEvent, kind: EngineKind | undefined): void {
    if (kind === undefined) return;
    if (event.type === "died") {
      // Aborting a running task is the user's doing, and the engine comes
      // back at once (a Worker's thread or a process's task thread alike):
      // its restart is counted, no death.
      if (event.cause === "aborted") return;
      const reason = knownCause(event.cause);
      this.#deaths.inc({ kind, reason });
      // A TCP engine's connection lost under it, or dropped for silence.
      if (kind !== "worker" && reason === "connection_lost") {
        this.dropped("closed");
      } else if (kind !== "worker" && reason === "heartbeat") {
        this.dropped("heartbeat");
      }
    } else if (event.type === "restarted") {
      this.#restarts.inc({ kind });
    }
  }

  /** A listener dropped a connection. */
  dropped(cause: DropCause): void {
    this.#wire.dropped(cause);
  }

  /** Every family as plain data, the collected ones as of now. */
  families(): MetricFamily[] {
    return this.registry.families();
  }
}

/** A cause from the set, whatever a link said. */
function knownCause(cause: DeathCause | undefined): DeathCause {
  return cause !== undefined && DEATH_REASONS.includes(cause) ? cause : "other";
}
