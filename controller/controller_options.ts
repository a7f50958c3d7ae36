/**
 * What `startController` takes (`ControllerOptions`), and the checks it
 * makes of them before it starts anything: a misspelt option, a missing
 * id or the same secret for both listeners fails at once, with nothing
 * left to stop.
 *
 * @module
 */

import { checkOptions, type OptionNames } from "../protocol/check_options.ts";
import {
  checkStartOptions,
  type ClientOptions,
  type StartPlan,
} from "../client/client_options.ts";
import type { HistoryOptions } from "./history.ts";
import {
  checkDashboardOptions,
  type DashboardOptions,
} from "../dashboard/dashboard.ts";
import { checkPreviousPid } from "./lost_task.ts";

/**
 * How `startController` sets up a controller.
 *
 * @example
 * ```ts
 * import type { ControllerOptions } from "./controller_options.ts";
 * const options: ControllerOptions = {
 *   id: "sim",
 *   engines: { workers: 2 },
 *   history: { path: "/tmp/sim.db" },
 * };
 * ```
 */
export interface ControllerOptions {
  /** The cluster's id: what clients and the CLI name it by. */
  id: string;
  /**
   * The engines, as `Client.start` takes them (workers, processes, launch,
   * restart, heartbeatMs, startTimeoutMs, maxHeapMb, encrypt, ...). Its
   * `listen` is the engine listener, always on (127.0.0.1 and a free port
   * unless told otherwise), its `key` the engine key. With `idleTimeoutMs`
   * the controller starts none until a task of any of its clients (or a
   * `waitForEngines`) asks, and stops them all once none has been queued
   * or running for that long (the CLI's `--idle-timeout-ms`).
   */
  engines?: ClientOptions;
  /** The client listener: 127.0.0.1 and a free port unless told otherwise. */
  clientListen?: { hostname?: string; port?: number };
  /**
   * The secret clients prove they hold; 32 random bytes, hex, unless
   * given. It must differ from the engine key: one leaked engine key must
   * never grant a client's rights.
   */
  clientKey?: string;
  /** Seal clients' frames; by default when the client listener is off loopback. */
  encryptClients?: boolean;
  /** The task history; an in-memory database (":memory:") when absent. */
  history?: HistoryOptions;
  /**
   * The most bytes of messages a client's session holds that the client
   * has not taken when another is to go (a client stopped, or far too
   * slow to read): past them the session is closed, and the client's
   * tasks run on for it to reconnect and resume. 1 GiB by default (a
   * frame may be up to `maxFrameBytes`, 256 MiB).
   */
  maxUnsentBytes?: number;
  /**
   * The client connections' heartbeat period, in ms (1000): a side silent
   * for 3 is taken for gone (remote/wire.ts says what follows).
   */
  clientHeartbeatMs?: number;
  /**
   * How long a client may be silent before its session is closed (its
   * tasks run on), in ms: 5 minutes by default, so that a notebook held by
   * a long synchronous cell keeps its session.
   */
  clientTimeoutMs?: number;
  /**
   * The pid of the controller that ran on this history before, when known
   * (the CLI reads it from the stale state file): the tasks it left
   * unfinished fail with an error that names it.
   */
  previousPid?: number;
  /**
   * Aborts the start (SIGINT while the engines come up): what was started
   * is stopped, engines through their launchers, and the start rejects.
   */
  signal?: AbortSignal;
  /** Where the controller says what happens (console.warn by default). */
  log?: (line: string) => void;
  /**
   * Serve the dashboard (page, events and `/metrics`) of this cluster
   * from the controller: `true` for 127.0.0.1 and a free port, or the
   * options `client.serveDashboard` takes. Its address is the
   * controller's `dashboardUrl`; it stops with the controller.
   */
  dashboard?: DashboardOptions | true;
}

const CONTROLLER_OPTIONS: OptionNames<ControllerOptions> = {
  id: true,
  engines: true,
  clientListen: true,
  clientKey: true,
  encryptClients: true,
  history: true,
  maxUnsentBytes: true,
  clientHeartbeatMs: true,
  clientTimeoutMs: true,
  previousPid: true,
  signal: true,
  log: true,
  dashboard: true,
};

/**
 * Checks `options` as `startController` takes them, and gives the engine
 * options (their listener always on) and the plan `Client.start` would
 * make of them. Throws a `TypeError` (a `RangeError` for a number out of
 * range) that says what to change.
 *
 * @example
 * ```ts
 * import { checkControllerOptions } from "./controller_options.ts";
 * const { engines } = checkControllerOptions({ id: "sim", engines: { workers: 1 } });
 * console.log(engines.listen); // {}
 * ```
 */
export function checkControllerOptions(
  options: ControllerOptions,
): { engines: ClientOptions; plan: StartPlan } {
  checkOptions("startController options", options, CONTROLLER_OPTIONS);
  if (typeof options.id !== "string" || options.id === "") {
    throw new TypeError(
      `startController needs an id, the cluster's name; got ${
        JSON.stringify(options.id)
      }`,
    );
  }
  checkPreviousPid(options.previousPid);
  // Here, not where they are used: before the history is opened and the
  // previous controller's tasks are durably failed as lost.
  checkPositive("clientHeartbeatMs", options.clientHeartbeatMs, "ms");
  checkPositive("clientTimeoutMs", options.clientTimeoutMs, "ms");
  checkPositive("maxUnsentBytes", options.maxUnsentBytes, "bytes");
  checkOptions(
    "startController's clientListen",
    options.clientListen,
    { hostname: true, port: true },
  );
  if (typeof options.dashboard === "object" && options.dashboard !== null) {
    checkDashboardOptions("startController's dashboard", options.dashboard);
  } else if (![undefined, true].includes(options.dashboard)) {
    throw new TypeError(
      `startController's dashboard is true or the dashboard's options ` +
        `({ hostname, port, token, updateMs }), not ${
          JSON.stringify(options.dashboard)
        }: leave it out for no dashboard`,
    );
  }
  const engines = enginesOf(options);
  const plan = checkStartOptions(engines);
  if (
    options.clientKey !== undefined && options.clientKey === engines.key
  ) {
    throw new TypeError(
      "the client key and the engine key are the same: give the controller " +
        "two different secrets (or leave one out, and it is generated), so " +
        "that an engine's key never opens the client port",
    );
  }
  return { engines, plan };
}

/** `value`, when given, is above 0 (a whole number, if of bytes). */
function checkPositive(
  name: string,
  value: number | undefined,
  unit: "ms" | "bytes",
): void {
  if (value === undefined) return;
  const good = unit === "bytes"
    ? Number.isSafeInteger(value) && value > 0
    : typeof value === "number" && value > 0;
  if (!good) {
    const Bad = typeof value === "number" ? RangeError : TypeError;
    throw new Bad(
      `startController's ${name} must be a positive ${
        unit === "bytes" ? "whole number of bytes" : "number of ms"
      }, not ${
        typeof value === "number" ? value : JSON.stringify(value)
      }: give one, or leave it out for the default`,
    );
  }
}

/** The engine options, with the engine listener on whatever they say. */
function enginesOf(options: ControllerOptions): ClientOptions {
  const engines = options.engines ?? {};
  if (engines.listen === false) {
    throw new TypeError(
      "a controller always listens for engines (engines started by hand " +
        "join and rejoin it): leave engines.listen out, or give " +
        "{ hostname, port }",
    );
  }
  if (engines.tracing !== undefined) {
    throw new TypeError(
      "a controller does not trace: spans are built by each client from " +
        "what it hears, so give tracing to Client.connect(target, " +
        "{ tracing }) instead of engines.tracing",
    );
  }
  const listen = typeof engines.listen === "object" ? engines.listen : {};
  return { ...engines, listen };
}
