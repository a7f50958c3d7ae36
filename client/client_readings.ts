/**
 * `ClientReadings`: what a client reads of its cluster (`engines`,
 * `queueStatus`, `metrics`, `metricsText`, `tracingStats`, engine events,
 * where engines reach it, the publication registry), as ipyparallel's
 * `Client` reads its hub. The base of `Client`, above `ClientHistory`.
 *
 * @module
 */

import type {
  Cluster,
  ConnectionInfo,
  EngineEvent,
  EngineStatus,
  MetricFamily,
  PublicationRegistry,
  QueueStatus,
} from "../cluster/cluster.ts";
import { ClientClosedError } from "../protocol/errors.ts";
import { ClientHistory } from "./client_history.ts";
import { metricsOf, metricsTextOf } from "./client_metrics.ts";
import { connectionInfoOf, writeConnectionFile } from "./connection_file.ts";
import type { ClientTracing, TracingStats } from "./task_tracing.ts";

/**
 * The reading part of a `Client`: made only as a `Client`.
 *
 * @example
 * ```ts
 * import { Client, type ClientReadings } from "@troupe/parallel";
 * await using client = await Client.start({ workers: 1 });
 * const readings: ClientReadings = client;
 * console.log(readings.engines().length); // 1
 * ```
 */
export abstract class ClientReadings extends ClientHistory {
  /**
   * The client's cluster, embedded or a controller's.
   *
   * @ignore
   */
  protected abstract get readCluster(): Cluster;
  /**
   * Whether `close()` has begun: nothing more is read then.
   *
   * @ignore
   */
  protected abstract get readClosed(): boolean;
  /**
   * The client's own tracing, whose counters follow the core's metrics.
   *
   * @ignore
   */
  protected abstract get readTracing(): ClientTracing | undefined;

  /** A snapshot of every engine the client has, in id order. */
  engines(): EngineStatus[] {
    return this.readCluster.engines();
  }

  /**
   * Per engine id, its `queued`, `running` (0 or 1) and `completed` tasks,
   * and `unassigned`: the tasks no engine holds yet (load-balanced ones
   * waiting for an engine, tasks waiting for their dependencies), of every
   * client of the cluster (ipyparallel's `queue_status()`). A connected
   * client asks its controller.
   *
   * @example
   * ```ts
   * import { Client } from "@troupe/parallel";
   * await using client = await Client.start({ workers: 1 });
   * await client.view(0).applyAsync(() => 1);
   * console.log(await client.queueStatus());
   * // { engines: { 0: { queued: 0, running: 0, completed: 1 } }, unassigned: 0 }
   * ```
   */
  queueStatus(): Promise<QueueStatus> {
    if (this.readClosed) {
      return Promise.reject(
        new ClientClosedError({ what: "read the queue status" }),
      );
    }
    return this.readCluster.queueStatus();
  }

  /**
   * The cluster core's metrics as plain data (`troupe_engines`,
   * `troupe_tasks_done_total`, ...; README's "Metrics"): a connected
   * client's are its controller's, of every client. With `tracing`, this
   * client's trace counters follow (`troupe_trace_spans_dropped_total`, ...).
   *
   * @example
   * ```ts
   * import { Client } from "@troupe/parallel";
   * await using client = await Client.start({ workers: 1 });
   * const names = (await client.metrics()).map((f) => f.name);
   * console.log(names.includes("troupe_task_duration_seconds")); // true
   * ```
   */
  metrics(): Promise<MetricFamily[]> {
    return metricsOf(this.readCluster, this.readClosed, this.readTracing);
  }

  /**
   * `metrics()` in the Prometheus text format: a snapshot to read, or to
   * push to a Pushgateway.
   *
   * @example
   * ```ts
   * import { Client } from "@troupe/parallel";
   * await using client = await Client.start({ workers: 1 });
   * console.log((await client.metricsText()).startsWith("# HELP")); // true
   * ```
   */
  metricsText(): Promise<string> {
    return metricsTextOf(this.readCluster, this.readClosed, this.readTracing);
  }

  /** What `tracing` has sent and dropped; `undefined` without it. */
  tracingStats(): TracingStats | undefined {
    return this.readTracing?.stats();
  }

  /**
   * Calls `listener` for every engine event from now on: registered, died
   * (with the reason), restarted, gaveUp. Returns a function that stops the
   * calls.
   */
  onEngineEvent(listener: (event: EngineEvent) => void): () => void {
    return this.readCluster.onEngineEvent(listener);
  }

  /**
   * Where TCP engines reach this client, key included; on a connected
   * client, the controller's engine listener as engines elsewhere dial it
   * (its `advertise`, or this host's name when it listens on 0.0.0.0).
   * Throws when the client does not listen (`listen: false` and no
   * processes).
   */
  get connectionInfo(): ConnectionInfo {
    return connectionInfoOf(this.readCluster);
  }

  /**
   * Writes `connectionInfo` as JSON to `path`, readable by its owner only
   * (mode 0600), for `deno run -A jsr:@troupe/parallel/engine --file path`.
   * It replaces the file at `path` whole (a symlink there is replaced, not
   * followed), so no one who could read an older file there reads the key.
   * A client listening on every interface (`0.0.0.0`) should say which
   * address engines on other hosts reach it at: `{ hostname }`.
   */
  async writeConnectionFile(
    path: string,
    options: { hostname?: string } = {},
  ): Promise<void> {
    await writeConnectionFile(this.readCluster, path, options);
  }

  /**
   * The registry actor's record of what engines publish: `latest(id)`,
   * `snapshot()` and the live `updates()` stream.
   */
  get registry(): PublicationRegistry {
    return this.readCluster.registry;
  }
}
