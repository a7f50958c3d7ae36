/**
 * A controller: the cluster core an embedded client runs (`LocalCluster`,
 * built by client/embedded_cluster.ts from the same options), kept in a
 * process of its own that outlives its clients. Engines join on its engine
 * listener (always on, with the engine key); clients attach on its client
 * listener (`client_server.ts`, with the client key, another secret); every
 * task is kept in its history (`history.ts`), so that a client that went
 * away, or another one, can follow a task or fetch its result later.
 *
 * @module
 */

import type { ConnectionInfo, Launcher } from "../cluster/cluster.ts";
import type { LocalCluster } from "../cluster/local_cluster.ts";
import { checkOptions } from "../protocol/check_options.ts";
import { messageOf } from "../protocol/errors.ts";
import type { ControllerCall } from "../remote/wire.ts";
import type { MetricFamily } from "../observe/metrics.ts";
import { advertisedHost } from "../transport/loopback.ts";
import { randomHex } from "../transport/random_hex.ts";
import {
  localClusterFor,
  requireStartPermissions,
  startEngines,
} from "../client/embedded_cluster.ts";
import { RESTART_POLICY_OPTIONS } from "../client/options.ts";
import { holdProcess } from "../client/keep_alive.ts";
import { requireListenPermission } from "../client/permissions.ts";
import { settleScale } from "../client/scaling.ts";
import {
  type Dashboard,
  type DashboardOptions,
  serveDashboard,
} from "../dashboard/dashboard.ts";
import { ClientServer } from "./client_server.ts";
import {
  checkControllerOptions,
  type ControllerOptions,
} from "./controller_options.ts";
import { History } from "./history.ts";
import { LiveTasks } from "./live_tasks.ts";
import { lostTask } from "./lost_task.ts";

// Where they have always been imported from.
export type { ControllerOptions } from "./controller_options.ts";

/**
 * A running controller.
 *
 * @example
 * ```ts
 * import type { Controller } from "@troupe/parallel/controller";
 * const address = (c: Controller) =>
 *   `${c.clientInfo.hostname}:${c.clientInfo.port}`;
 * ```
 */
export interface Controller {
  /** The cluster's id (its state file's name, what clients connect by). */
  readonly id: string;
  /** What `Client.connect` needs: the client listener and the client key. */
  readonly clientInfo: { hostname: string; port: number; key: string };
  /** What engines started by hand need: the engine listener and key. */
  readonly engineInfo: ConnectionInfo;
  /**
   * The address of the dashboard it serves (`dashboard` option), with its
   * token when it needs one; undefined without one.
   */
  readonly dashboardUrl: string | undefined;
  /** Clients attached now. */
  readonly sessions: number;
  /** Values its clients put (`client.put`) that its core holds now. */
  readonly putValues: number;
  /** Settles once the controller has stopped (`stop()`, or a `shutdown` call). */
  readonly closed: Promise<void>;
  /**
   * Stops the engines (through their launchers; engines started by hand
   * are told to exit), tells every session `closing` after its tasks'
   * last events, and flushes and closes the history. Safe to call twice.
   */
  stop(): Promise<void>;
}

/**
 * Starts a controller: its history (failing, as lost, the tasks a previous
 * controller left unfinished in it), its cluster core, its client
 * listener, and its engines. Resolves once the engines are up, as
 * `Client.start` does; rejects, having stopped everything, otherwise.
 *
 * @example
 * ```ts
 * import { startController } from "@troupe/parallel/controller";
 * const controller = await startController({ id: "demo", engines: { workers: 1 } });
 * console.log(controller.engineInfo.port > 0, controller.sessions); // true 0
 * await controller.stop();
 * ```
 */
export async function startController(
  options: ControllerOptions,
): Promise<Controller> {
  const { engines: engineOptions, plan } = checkControllerOptions(options);
  requireStartPermissions(plan);
  const clientHost = options.clientListen?.hostname ?? "127.0.0.1";
  requireListenPermission(clientHost, "the controller's client listener");
  const dashboard = options.dashboard === true ? {} : options.dashboard;
  if (dashboard) {
    requireListenPermission(
      dashboard.hostname ?? "127.0.0.1",
      "the controller's dashboard",
    );
  }
  const log = options.log ?? options.engines?.log ??
    ((line: string) => console.warn(line));
  const history = History.open(options.history ?? { path: ":memory:" });
  try {
    const lost = history.failUnfinished((task) =>
      lostTask(task, options.previousPid)
    );
    if (lost > 0) {
      log(
        `troupe: ${lost} task${lost === 1 ? "" : "s"} of the history were ` +
          "unfinished when the last controller stopped: failed as lost",
      );
    }
  } catch (error) {
    history.close();
    throw error;
  }
  let cluster: LocalCluster;
  try {
    cluster = localClusterFor({ ...engineOptions, log }, plan);
  } catch (error) {
    history.close();
    throw error;
  }
  let controller: RunningController;
  try {
    controller = new RunningController(options, plan.launchers, {
      cluster,
      history,
      log,
      clientKey: options.clientKey ?? randomHex(32),
      startTimeoutMs: engineOptions.startTimeoutMs ?? 60_000,
    });
  } catch (error) {
    // The client port is taken: nothing is left running.
    await cluster.close();
    history.close();
    if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    const where = `${clientHost}:${options.clientListen?.port ?? 0}`;
    throw new Deno.errors.AddrInUse(
      `the controller's client listener cannot bind ${where}: something ` +
        "else listens there; give clientListen another port (the CLI's " +
        "--port), or leave port out for a free one",
      { cause: error },
    );
  }
  try {
    // Before the engines: a page opened now watches them come up.
    if (dashboard) await controller.serveDashboard(dashboard);
    const timeoutMs = engineOptions.startTimeoutMs ?? 60_000;
    await startEngines(cluster, plan, timeoutMs, options.signal);
  } catch (error) {
    await controller.stop();
    throw error;
  }
  return controller;
}

interface Core {
  cluster: LocalCluster;
  history: History;
  log: (line: string) => void;
  clientKey: string;
  startTimeoutMs: number;
}

class RunningController implements Controller {
  readonly id: string;
  #core: Core;
  #launchers: Launcher[];
  #clients: ClientServer;
  #dashboard: Dashboard | undefined;
  #stopped: Promise<void> | undefined;
  #closed = Promise.withResolvers<void>();
  /** Resolves when the stop begins: what waits (scale) stops then. */
  #closing = Promise.withResolvers<void>();

  constructor(options: ControllerOptions, launchers: Launcher[], core: Core) {
    this.id = options.id;
    this.#core = core;
    this.#launchers = launchers;
    const { cluster, history } = core;
    const live = new LiveTasks({
      clusterId: options.id,
      history,
      log: core.log,
      maxStreamBytes: options.history?.maxStreamBytes,
      previousPid: options.previousPid,
    });
    // A client may submit a dependent of a task that ended here before it
    // heard so: the core looks such a task up in what the controller keeps.
    cluster.lookUpEndedTasks((taskId) => live.ended(taskId));
    this.#clients = new ClientServer({
      clusterId: options.id,
      cluster,
      live,
      hostname: options.clientListen?.hostname ?? "127.0.0.1",
      port: options.clientListen?.port ?? 0,
      key: core.clientKey,
      encrypt: options.encryptClients,
      maxFrameBytes: options.engines?.maxFrameBytes,
      maxUnsentBytes: options.maxUnsentBytes,
      heartbeatMs: options.clientHeartbeatMs,
      clientTimeoutMs: options.clientTimeoutMs,
      nextClientNo: () => history.nextClientNo(),
      about: () => ({
        connectionInfo: advertised(
          cluster.connectionInfo,
          options.engines?.advertise,
        ),
        launchers: launchers.map((launcher) => launcher.name),
        historyId: history.id,
      }),
      call: (call) => this.#call(call),
      shutdown: (why) => void this.#stop(`stopped: ${why}`),
      log: core.log,
    });
  }

  get clientInfo(): { hostname: string; port: number; key: string } {
    return {
      hostname: this.#clients.hostname,
      port: this.#clients.port,
      key: this.#core.clientKey,
    };
  }

  get engineInfo(): ConnectionInfo {
    return this.#core.cluster.connectionInfo!;
  }

  get dashboardUrl(): string | undefined {
    return this.#dashboard?.url;
  }

  /**
   * Serves the dashboard of the core (a LocalCluster is its source), with
   * the controller's own figures in its `/metrics`, as in a `metrics` call.
   */
  async serveDashboard(options: DashboardOptions): Promise<void> {
    const { cluster } = this.#core;
    this.#dashboard = await serveDashboard({
      registry: cluster.registry,
      engines: () => cluster.engines(),
      onEngineEvent: (listener) => cluster.onEngineEvent(listener),
      metrics: () => this.#metrics(),
    }, options);
  }

  /** The core's families and the controller's client connections'. */
  async #metrics(): Promise<MetricFamily[]> {
    return this.#clients.metrics.joinedTo(await this.#core.cluster.metrics());
  }

  get sessions(): number {
    return this.#clients.sessions;
  }

  get putValues(): number {
    return this.#core.cluster.putValues;
  }

  get closed(): Promise<void> {
    return this.#closed.promise;
  }

  stop(): Promise<void> {
    return this.#stop("the controller was stopped");
  }

  #stop(reason: string): Promise<void> {
    this.#stopped ??= (async () => {
      this.#closing.resolve();
      const { cluster, history, log } = this.#core;
      // Until the history is closed: engines and sessions going away must
      // not let the process end before the last writes are flushed.
      const release = holdProcess();
      try {
        await this.#clients.stopListening();
        // Its pages' streams end now, not after the engines' last words.
        await this.#dashboard?.close();
        // Before the sessions close: the tasks the engines held end now,
        // and their clients hear it before `closing`.
        await cluster.close({ shutdown: true });
        await this.#clients.close(reason);
      } finally {
        try {
          history.close();
        } catch (error) {
          log(`troupe: the history did not close cleanly: ${messageOf(error)}`);
        }
        this.#closed.resolve();
        release();
      }
    })();
    return this.#stopped;
  }

  async #call(
    call: Exclude<ControllerCall, { kind: "shutdown" }>,
  ): Promise<unknown> {
    const { cluster, history } = this.#core;
    switch (call.kind) {
      case "waitForEngines":
        return await cluster.waitForEngines(call.n, {
          timeoutMs: call.timeoutMs,
        });
      case "scale": {
        const launcher = this.#launcherNamed(call.launcher);
        const { started, retired } = cluster.scale(call.n, launcher);
        return await settleScale(
          cluster,
          started,
          retired,
          call.timeoutMs ?? this.#core.startTimeoutMs,
          this.#closing.promise,
        );
      }
      case "setRestartPolicy":
        checkOptions("restartPolicy", call.policy, RESTART_POLICY_OPTIONS);
        cluster.restartPolicy = call.policy;
        this.#clients.broadcastSnapshot();
        return undefined;
      case "queueStatus":
        return await cluster.queueStatus();
      case "metrics":
        // Its client connections are the controller's wire too.
        return await this.#metrics();
      case "history":
        return history.ids();
      case "query":
        return history.query(call.query);
      case "purge":
        return history.purge(call.filter);
    }
  }

  #launcherNamed(name: string | undefined): Launcher | undefined {
    if (name === undefined) return undefined;
    const launcher = this.#launchers.find((l) => l.name === name);
    if (!launcher) {
      const names = this.#launchers.map((l) => l.name);
      throw new RangeError(
        `cluster ${this.id} has no launcher "${name}"; ` +
          (names.length > 0
            ? `its launchers are ${names.join(", ")}`
            : "it was started without launchers (launch)"),
      );
    }
    return launcher;
  }
}

/**
 * The engine listener as engines elsewhere dial it: a connected client's
 * `writeConnectionFile` must not hand them a wildcard (0.0.0.0) address.
 */
function advertised(
  info: ConnectionInfo | undefined,
  advertise: string | undefined,
): ConnectionInfo | undefined {
  if (info === undefined) return undefined;
  return { ...info, hostname: advertisedHost(info.hostname, advertise) };
}
