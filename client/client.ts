/**
 * `Client`: starts and owns a cluster of engines, as ipyparallel's `Client`
 * with `ipcluster`. It is the facade: it checks what it is asked, then asks
 * the cluster (`cluster/cluster.ts`), which runs everything else.
 *
 * @module
 */

import type { Cluster, Launcher, RestartPolicy } from "../cluster/cluster.ts";
import { ClientClosedError } from "../protocol/errors.ts";
import type { LocalCluster } from "../cluster/local_cluster.ts";
import { RemoteCluster } from "../remote/remote_cluster.ts";
import { DEFAULT_CLUSTER_ID } from "../remote/cluster_state.ts";
import {
  attachCluster,
  type ConnectOptions,
  type ConnectTarget,
} from "./connected_client.ts";
import type { AsyncResult } from "./async_result.ts";
import { waitFor, type WaitOptions, type WaitResult } from "./waits.ts";
import { ClientReadings } from "./client_readings.ts";
import type { FailureWatch } from "./unobserved_failures.ts";
import {
  localClusterFor,
  requireStartPermissions,
  startEngines,
} from "./embedded_cluster.ts";
import type { Dashboard, DashboardOptions } from "../dashboard/dashboard.ts";
import { DirectView } from "./direct_view.ts";
import { putValue, type ValueRef } from "./value_ref.ts";
import { holdProcess, openClient } from "./keep_alive.ts";
import { UnobservedFailures } from "./unobserved_failures.ts";
import { scaleCluster } from "./scaling.ts";
import { balancedArguments, checkTargets } from "./view_targets.ts";
import { ClientDashboards } from "./client_dashboards.ts";
import {
  type LoadBalancedOptions,
  LoadBalancedView,
} from "./load_balanced_view.ts";
import { checkStartOptions, type ClientOptions } from "./client_options.ts";
import { ClientTracing } from "./task_tracing.ts";
import { type ResolvedTracing, resolveTracing } from "./tracing_setup.ts";
import {
  checkOptions,
  RESTART_POLICY_OPTIONS,
  WAIT_OPTIONS,
} from "./options.ts";

export type { ClientOptions } from "./client_options.ts";

/**
 * The entry point of troupe: starts engines and hands out views on them.
 *
 * @example
 * ```ts
 * import { Client, publishData } from "@troupe/parallel";
 * await using client = await Client.start({ workers: 2 });
 * const ar = client.view().applyAsync(() => publishData({ a: "hi" }));
 * await ar;
 * console.log(ar.data); // [{ a: "hi" }, { a: "hi" }]
 * ```
 */
export class Client extends ClientReadings implements AsyncDisposable {
  #cluster: LocalCluster | RemoteCluster;
  #failures: UnobservedFailures;
  #dashboards = new ClientDashboards();
  #closed: Promise<void> | undefined;
  /** Ends this client's count as open (keep_alive.ts). */
  #open: () => void;
  #startTimeoutMs: number;
  /** Resolves when `close()` begins: what waits for engines stops then. */
  #closing = Promise.withResolvers<void>();
  #tracing: ClientTracing | undefined;

  private constructor(
    cluster: LocalCluster | RemoteCluster,
    options: Pick<ClientOptions, "log" | "startTimeoutMs"> & {
      tracing?: ResolvedTracing;
    },
  ) {
    super();
    const log = options.log ?? ((line: string) => console.warn(line));
    this.#startTimeoutMs = options.startTimeoutMs ?? 60_000;
    this.#failures = new UnobservedFailures(log);
    this.#cluster = cluster;
    this.#tracing = options.tracing &&
      new ClientTracing(cluster, options.tracing, log);
    // Counted once the cluster stands: a listener that cannot bind throws.
    this.#open = openClient();
  }

  /**
   * Starts a client and its engines; resolves once every engine is ready.
   * Rejects, having stopped whatever it started, if an engine cannot start.
   */
  static async start(options: ClientOptions = {}): Promise<Client> {
    const plan = checkStartOptions(options);
    const tracing = resolveTracing(options.tracing);
    requireStartPermissions(plan);
    const cluster = localClusterFor(options, plan);
    const client = new Client(cluster, { ...options, tracing });
    try {
      await startEngines(
        cluster,
        plan,
        options.startTimeoutMs ?? 60_000,
      );
    } catch (error) {
      await client.close();
      throw error;
    }
    return client;
  }

  /**
   * Attaches to a controller (`deno task troupe start`, `startController`)
   * that runs the cluster and outlives its clients: `target` is its cluster
   * id, the path of its state file, or its `{ hostname, port, key }` (the
   * client key). The client then works as one of `Client.start`, and its
   * results can be resumed by another client (`resume`); `close()`
   * detaches, leaving the tasks running, and `shutdown()` stops the
   * controller. With no `target`, the cluster `"default"` (what `troupe
   * start` starts without `--id`), as ipyparallel's `Client()`.
   *
   * @example
   * ```ts
   * import { Client } from "@troupe/parallel";
   * import { startController } from "@troupe/parallel/controller";
   * const controller = await startController({ id: "demo", engines: { workers: 1 } });
   * const client = await Client.connect(controller.clientInfo);
   * console.log(await client.view(0).applyAsync(() => 6 * 7)); // 42
   * await client.shutdown();
   * await controller.closed;
   * ```
   */
  static async connect(
    target: ConnectTarget = DEFAULT_CLUSTER_ID,
    options: ConnectOptions = {},
  ): Promise<Client> {
    const tracing = resolveTracing(options.tracing, "Client.connect's tracing");
    const cluster = await attachCluster(target, options);
    return new Client(cluster, { log: options.log, tracing });
  }

  /** The id of the controller's cluster; `undefined` for an embedded one. */
  get clusterId(): string | undefined {
    const cluster = this.#cluster;
    return cluster instanceof RemoteCluster ? cluster.clusterId : undefined;
  }

  /** Ids of the live engines, ascending. */
  get ids(): number[] {
    return this.#cluster.ids();
  }

  /**
   * A view on every engine alive at each call (no argument), on one engine
   * (`view(2)`, whose results are unwrapped), or on a list of engines.
   * Throws a `RangeError` for an id that the client has never had.
   */
  view(): DirectView<false>;
  /** A view on one engine; its results are unwrapped. */
  view(target: number): DirectView<true>;
  /** A view on these engines, in this order. */
  view(targets: number[]): DirectView<false>;
  view(targets?: number | number[]): DirectView {
    if (targets !== undefined) checkTargets(this.#cluster, [targets].flat());
    return new DirectView(this.#cluster, this.#failures, targets ?? "all");
  }

  /**
   * A load-balanced view (ipyparallel's `load_balanced_view()`): each task
   * goes to the engine with the least outstanding work, as engines free up.
   * `targets` limits it to some engines; `options` sets `retries` and
   * `timeoutMs`.
   */
  loadBalancedView(
    targets?: number[] | LoadBalancedOptions,
    options: LoadBalancedOptions = {},
  ): LoadBalancedView {
    const [ids, balanced] = balancedArguments(this.#cluster, targets, options);
    return new LoadBalancedView(this.#cluster, this.#failures, ids, balanced);
  }

  /**
   * Puts `value` in the cluster once (Ray's `ray.put`) and returns its
   * `ValueRef` at once; a task given the ref as an argument of its own
   * receives the value (see `ValueRef`). Held until `ref.release()` or
   * this client's `close()`; the memory is yours to manage. Throws a
   * `TypeError` for a value that cannot cross, as for an argument.
   *
   * @example
   * ```ts
   * import { Client } from "@troupe/parallel";
   * await using client = await Client.start({ workers: 2 });
   * const ref = client.put(new Float64Array(1000).fill(2));
   * const sums = client.view().applyAsync((a: Float64Array) => a.reduce((s, x) => s + x), ref);
   * console.log(await sums); // [2000, 2000]
   * ref.release();
   * ```
   */
  put<T>(value: T): ValueRef<T> {
    if (this.#closed) throw new ClientClosedError({ what: "put a value" });
    return putValue(this.#cluster, value);
  }

  /**
   * Resolves once at least `n` engines are up. Rejects with a `TimeoutError`
   * after `timeoutMs`, and at once if `n` engines can never be up (the
   * client does not listen for remote engines, and too few of its own are
   * up, starting or restarting).
   */
  waitForEngines(
    n: number,
    options: { timeoutMs?: number } = {},
  ): Promise<void> {
    try {
      checkOptions("waitForEngines options", options, WAIT_OPTIONS);
    } catch (error) {
      return Promise.reject(error);
    }
    // Someone waits for engines: the process must stay alive for them.
    return this.#cluster.waitForEngines(n, options).finally(holdProcess());
  }

  /**
   * Waits until `results` are done (`returnWhen: "all"`, the default), any
   * one is (`"first"`), or any one failed, else all are (`"firstError"`),
   * or until `timeoutMs`; resolves with `{ done, notDone }`, each in the
   * order given (concurrent.futures' `wait`). It never rejects for a
   * failed task or the timeout: it waits, it does not get. ipyparallel's
   * `client.wait(jobs, timeout)` is `(await client.wait(jobs, { timeoutMs
   * })).notDone.length === 0`.
   *
   * @example
   * ```ts
   * import { Client } from "@troupe/parallel";
   * await using client = await Client.start({ workers: 2 });
   * const lv = client.loadBalancedView();
   * const fast = lv.applyAsync(() => "fast");
   * const slow = lv.applyAsync(() => new Promise((r) => setTimeout(r, 50)));
   * const { done } = await client.wait([slow, fast], { returnWhen: "first" });
   * console.log(done.includes(fast)); // true
   * ```
   */
  wait<R extends AsyncResult<unknown>>(
    results: Iterable<R>,
    options: WaitOptions = {},
  ): Promise<WaitResult<R>> {
    return waitFor(results, options);
  }

  /**
   * Serves a live dashboard on 127.0.0.1 (unless told otherwise): every
   * engine's state, and plots of what the engines publish, streamed to the
   * browser as it arrives (numeric arrays as lines, numbers over time,
   * anything else as text). It stops with the client, or with `close()`.
   * Bound anywhere but loopback it needs a token, which its `url` carries.
   */
  async serveDashboard(options: DashboardOptions = {}): Promise<Dashboard> {
    if (this.#closed) {
      throw new ClientClosedError({ what: "serve a dashboard" });
    }
    return await this.#dashboards.serve(this.#cluster, options, this.#tracing);
  }

  /**
   * Grows or shrinks the engines of `launcher` (the client's only one, when
   * not given) to `n`, like Dask's `cluster.scale(n)`. New engines get new
   * ids; engines beyond `n` are retired, idle ones first: each finishes
   * its running task, and the load-balanced tasks waiting for it go to
   * other engines. Resolves once the new engines are up and the retired
   * ones stopped; rejects with a `TimeoutError` after `timeoutMs` (the
   * client's `startTimeoutMs`, 60 000 by default).
   *
   * @example
   * ```ts
   * import { Client, local } from "@troupe/parallel";
   * const launcher = local({ engines: 1 });
   * await using client = await Client.start({ workers: 0, launch: launcher });
   * await client.scale(2);
   * console.log(client.ids); // [0, 1]
   * await client.scale(1, launcher);
   * console.log(client.ids.length); // 1
   * ```
   */
  async scale(
    n: number,
    launcher?: Launcher | string,
    options: { timeoutMs?: number } = {},
  ): Promise<void> {
    if (this.#closed) throw new ClientClosedError({ what: "scale" });
    checkOptions("scale options", options, WAIT_OPTIONS);
    await scaleCluster(
      this.#cluster,
      n,
      launcher,
      options.timeoutMs ?? this.#startTimeoutMs,
      this.#closing.promise,
    );
  }

  /** How dead engines are restarted; see `ClientOptions.restart`. */
  get restartPolicy(): RestartPolicy {
    return this.#cluster.restartPolicy;
  }

  /** Changes the restart policy; it applies from the next death on. */
  set restartPolicy(policy: RestartPolicy) {
    checkOptions("restartPolicy", policy, RESTART_POLICY_OPTIONS);
    this.#cluster.restartPolicy = policy;
  }

  /**
   * Stops every engine the client started, even mid-task (their unfinished
   * tasks fail with an `EngineError`), closes the listener and ends every
   * stream. Remote engines started by hand keep retrying until a client is
   * back; `shutdown()` tells them to exit instead. Safe to call twice. A
   * connected client (`Client.connect`) detaches instead: its tasks run on
   * in the controller, and its pending results reject with a
   * `ClientClosedError` that says how to resume them.
   */
  close(): Promise<void> {
    return this.#close(false);
  }

  /**
   * `close()`, and remote engines exit instead of waiting for a client
   * (ipyparallel's `Client.shutdown`); a connected client stops its
   * controller, and with it the cluster.
   */
  shutdown(): Promise<void> {
    return this.#close(true);
  }

  #close(shutdown: boolean): Promise<void> {
    this.#closing.resolve();
    const release = holdProcess(); // Until every engine is gone.
    this.#closed ??= (async () => {
      // Before closing fails the running tasks: those failures are ours.
      this.#failures.close();
      try {
        await Promise.all([
          this.#dashboards.close(),
          this.#cluster.close({ shutdown }),
        ]);
      } finally {
        await this.#tracing?.close(); // After the tasks' ends: their spans.
      }
    })();
    return this.#closed.finally(() => {
      this.#open(); // Once nothing holds the process, no timer is left.
      release();
    });
  }

  /** @ignore */
  protected get historyCluster(): Cluster {
    return this.#cluster;
  }

  /** @ignore */
  protected get historyFailures(): FailureWatch {
    return this.#failures;
  }

  /** @ignore */
  protected get readCluster(): Cluster {
    return this.#cluster;
  }

  /** @ignore */
  protected get readClosed(): boolean {
    return this.#closed !== undefined;
  }

  /** @ignore */
  protected get readTracing(): ClientTracing | undefined {
    return this.#tracing;
  }

  /** `await using client = await Client.start()` closes it at scope end. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
