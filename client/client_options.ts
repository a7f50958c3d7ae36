/**
 * `ClientOptions`, and what `Client.start` makes of them once they are
 * checked: every mistake is an error that names the option, before
 * anything starts.
 *
 * @module
 */

import { MAX_TIMER_MS } from "../actors/async.ts";
import type {
  EngineEvent,
  Launcher,
  RestartPolicy,
} from "../cluster/cluster.ts";
import {
  checkOptions,
  CLIENT_OPTIONS,
  LISTEN_OPTIONS,
  RESTART_POLICY_OPTIONS,
} from "./options.ts";
import {
  checkEnginePermissions,
  type EnginePermissions,
} from "../protocol/engine_permissions.ts";
import { refuseSandboxedWorkers } from "./sandboxed_workers.ts";
import { refuseSymlinkGrants } from "./symlink_grants.ts";
import { checkTracingOptions, type TracingOptions } from "./tracing_options.ts";

/**
 * How `Client.start` sets up the cluster.
 *
 * @example
 * ```ts
 * import { Client, type ClientOptions } from "@troupe/parallel";
 * const options: ClientOptions = { workers: 1, maxHeapMb: 512 };
 * await using client = await Client.start(options);
 * ```
 */
export interface ClientOptions {
  /**
   * How many engines to start as Worker threads in this process. Defaults to
   * `navigator.hardwareConcurrency`.
   */
  workers?: number;
  /**
   * How many engines to start as local `deno` processes that connect back
   * over TCP. Defaults to 0.
   */
  processes?: number;
  /**
   * Accept engines over TCP: `{ hostname, port }` (defaults 127.0.0.1 and a
   * free port; binding another interface must be asked for), `true` for the
   * defaults, `false` for none. On by default when `processes > 0`.
   */
  listen?: { hostname?: string; port?: number } | boolean;
  /**
   * Engines started by launchers: one `Launcher` or a list (`local`, `ssh`,
   * `slurm`, `mpi`, or your own). Each engine connects back over TCP, so
   * the client listens (127.0.0.1 unless `listen` says otherwise); a lost
   * engine is started again through its launcher, under its id, within
   * the restart policy.
   */
  launch?: Launcher | Launcher[];
  /**
   * The address launched engines dial, when it is not the one the listener
   * binds: the login node's name while `listen` binds `0.0.0.0`. Defaults
   * to the bound address, or this host's name for a wildcard.
   */
  advertise?: string;
  /**
   * The secret every TCP engine must prove it holds (it never crosses the
   * wire). Defaults to 32 random bytes, hex.
   */
  key?: string;
  /**
   * Seal every frame to and from TCP engines after the handshake (AES-256-GCM
   * under keys derived from `key` and the handshake's nonces): nothing on
   * the network can read a task or inject one. Defaults to `true` when the
   * listener binds anything but a loopback address (127.0.0.0/8, `::1`,
   * `localhost`), `false` on loopback, where plain frames are faster.
   */
  encrypt?: boolean;
  /**
   * Largest frame between the client and a TCP engine, either way, in bytes
   * (256 MiB by default). Engines are told it: a call whose message would
   * be larger fails alone (a `RangeError` naming the limit), as does a task
   * whose result would be, or that publishes data that would be; no engine
   * dies of it. Only a frame from an engine that breaks the limit closes
   * that engine's connection.
   */
  maxFrameBytes?: number;
  /**
   * Where the client reports what it drops (unauthenticated peers, broken
   * frames). Defaults to `console.warn`. Never given the key. Repeated
   * drops of peers (one reason, one address) are one line every 10 s.
   */
  log?: (line: string) => void;
  /**
   * How often a dead engine is restarted under its id: at most
   * `maxRestarts` times within `withinMs`, with exponential backoff; past
   * that it is given up. Defaults to `{ maxRestarts: 5, withinMs: 60_000 }`.
   * Change it later with `client.restartPolicy = ...`.
   */
  restart?: RestartPolicy;
  /**
   * Heartbeat period in ms. An engine that answers nothing for 3 periods,
   * and is not computing, is taken for dead. Defaults to 1000.
   */
  heartbeatMs?: number;
  /**
   * Heap limit of each Worker engine in MiB: an engine that needs more dies
   * alone (and is restarted) instead of taking the whole process down.
   * Defaults to half the machine's memory shared among the engines (with
   * `--allow-sys`), within 256 to 4096, or 2048 when memory cannot be read.
   */
  maxHeapMb?: number;
  /**
   * Hears every engine event from the very start, `registered` included
   * (`client.onEngineEvent` can only subscribe once `start` has resolved,
   * when the first engines have registered already).
   */
  onEngineEvent?: (event: EngineEvent) => void;
  /**
   * How long each engine has to start and register, in ms: `start` gives up
   * after it, and an engine that (re)starts later and does not register in
   * time counts as dead (and is restarted or given up per `restart`).
   * Defaults to 60 000: starting many engines on few cores takes a while.
   */
  startTimeoutMs?: number;
  /**
   * How long a task waits while no engine it may run on is up, in ms: past
   * that it fails with an `EngineError` that says so (and, for a
   * load-balanced task, how to get engines). A direct task waits so for its
   * engine to come back; a load-balanced one for any of its engines, or on a
   * client asked to `listen`, for one to join. Without `listen`, a
   * load-balanced task fails as soon as its engines are given up. Defaults
   * to 60 000.
   */
  noEngineTimeoutMs?: number;
  /**
   * Use the engines as a pool (piscina's `idleTimeout`): `start` returns
   * at once with no engine; the first load-balanced task (or
   * `waitForEngines`, or `scale`) starts them, and once no task has been
   * queued or running for this many ms they all stop (Workers end,
   * processes exit, launchers' jobs end), until the next such task
   * starts them again, under new ids (the stopped ones stay in
   * `engines()` as `stopped`). A task that comes while they stop waits
   * for the new ones. A direct view names engines, so it does not start
   * them. Off by default: engines start with the client and stay up.
   */
  idleTimeoutMs?: number;
  /**
   * Run the engine processes (`processes`, and launchers without
   * permissions of their own) sandboxed: started with exactly these Deno
   * permissions instead of `-A` (`{ read: ["/data"] }` is
   * `--allow-read=/data`; what is left out is denied), so that a task that
   * oversteps fails with a `RemoteError` naming the permission. troupe
   * keeps only its connection to the client (and read access to its own
   * engine modules from a checkout). Worker engines cannot be sandboxed:
   * with `permissions`, `workers` defaults to 0, and `workers > 0` is
   * refused. Absent: `-A`, as before.
   */
  permissions?: EnginePermissions;
  /**
   * Tasks as OpenTelemetry spans, sent over OTLP/HTTP to the collector it
   * names (see `TracingOptions`; `true`: the OpenTelemetry variables name
   * it). Off by default, and then free.
   */
  tracing?: TracingOptions | true;
}

/**
 * How many engines of each kind to start, and how to listen, as checked
 * options say.
 *
 * @example
 * ```ts
 * import type { StartPlan } from "./client_options.ts";
 * const plan: StartPlan = {
 *   workers: 2,
 *   processes: 0,
 *   launchers: [],
 *   joinable: false,
 * };
 * ```
 */
export interface StartPlan {
  /** Worker engines to start. */
  workers: number;
  /** Engine processes to start. */
  processes: number;
  /** Launchers to start engines with, checked. */
  launchers: Launcher[];
  /** Where the TCP listener binds; no listener when absent. */
  listen?: { hostname?: string; port?: number };
  /** Whether the user asked to listen: engines may join by hand. */
  joinable: boolean;
  /** The engine processes' sandbox, checked; `-A` when absent. */
  permissions?: EnginePermissions;
}

/**
 * Checks `options` (names, types, ranges) and makes the plan of what to
 * start: throws a `TypeError` or `RangeError` that names what is wrong.
 *
 * @example
 * ```ts
 * import { checkStartOptions } from "./client_options.ts";
 * console.log(checkStartOptions({ processes: 2 }));
 * // { workers: 0, processes: 2, launchers: [], listen: {}, joinable: false }
 * ```
 */
export function checkStartOptions(options: ClientOptions): StartPlan {
  checkOptions("Client.start options", options, CLIENT_OPTIONS);
  if (typeof options.listen === "object") {
    checkOptions("the listen option", options.listen, LISTEN_OPTIONS);
  }
  checkOptions("the restart option", options.restart, RESTART_POLICY_OPTIONS);
  if (options.tracing !== undefined) {
    checkTracingOptions("tracing", options.tracing);
  }
  if (options.encrypt !== undefined && typeof options.encrypt !== "boolean") {
    throw new TypeError(
      `encrypt must be true or false, got ${Deno.inspect(options.encrypt)}`,
    );
  }
  for (const name of ["startTimeoutMs", "noEngineTimeoutMs"] as const) {
    const ms = options[name];
    if (ms !== undefined && !(typeof ms === "number" && ms >= 0)) {
      throw new RangeError(
        `${name} must be a number of ms >= 0, got ${Deno.inspect(ms)}`,
      );
    }
  }
  const launchers = options.launch === undefined ? [] : [options.launch].flat();
  launchers.forEach(checkLauncher);
  if (
    options.advertise !== undefined && typeof options.advertise !== "string"
  ) {
    throw new TypeError(
      `advertise must be a host name or address, got ${
        Deno.inspect(options.advertise)
      }`,
    );
  }
  const permissions = options.permissions === undefined
    ? undefined
    : checkEnginePermissions("the permissions option", options.permissions);
  const workers = options.workers ??
    (options.processes || launchers.length > 0
      ? 0
      : navigator.hardwareConcurrency);
  if (permissions) {
    refuseSandboxedWorkers(workers, options.workers, options.processes);
    // Only this host's paths can be seen from here: processes, local().
    if (options.processes || launchers.some((l) => l.name === "local")) {
      refuseSymlinkGrants("the permissions option", permissions);
    }
  }
  const processes = options.processes ?? 0;
  for (const [name, n] of [["workers", workers], ["processes", processes]]) {
    if (!Number.isInteger(n) || (n as number) < 0) {
      throw new RangeError(
        `${name} must be a whole number of engines, got ${n}`,
      );
    }
  }
  checkIdleTimeout(
    options.idleTimeoutMs,
    workers + processes + launchers.length,
  );
  // Engine processes connect back over TCP: they need a listener, which
  // brings no one else unless the user asked to listen.
  const listen = options.listen ?? (processes > 0 || launchers.length > 0);
  if (listen === false && launchers.length > 0) {
    throw new TypeError(
      "launched engines connect back over TCP: the launch option needs a " +
        "listener (leave listen out, or give it an address)",
    );
  }
  return {
    workers,
    processes,
    launchers,
    ...(listen ? { listen: listen === true ? {} : listen } : {}),
    joinable: options.listen !== undefined && options.listen !== false,
    ...(permissions ? { permissions } : {}),
  };
}

/** `ms`, when given, is above 0, and there are engines to start and stop. */
function checkIdleTimeout(ms: number | undefined, sources: number): void {
  if (ms === undefined) return;
  // The idle timer is one setTimeout: past a timer's longest delay it
  // would fire at once.
  if (!(typeof ms === "number" && ms > 0 && ms <= MAX_TIMER_MS)) {
    throw new (typeof ms === "number" ? RangeError : TypeError)(
      `idleTimeoutMs must be a number of ms > 0 and <= ${MAX_TIMER_MS} ` +
        `(how long the pool may be idle before its engines stop), got ${
          Deno.inspect(ms)
        }: give one, or leave it out to keep the engines up`,
    );
  }
  if (sources === 0) {
    throw new RangeError(
      "idleTimeoutMs starts and stops the client's own engines, and this " +
        "client has none: give workers, processes or launch as well",
    );
  }
}

function checkLauncher(launcher: unknown, index: number): void {
  const it = launcher as Partial<Launcher> | null;
  const fits = it !== null && typeof it === "object" &&
    typeof it.name === "string" && typeof it.start === "function" &&
    Number.isInteger(it.engines) && (it.engines as number) >= 0;
  if (!fits) {
    throw new TypeError(
      `launch[${index}] is not a Launcher (an object with a name, a whole ` +
        `number of engines and a start function), got ${
          Deno.inspect(launcher, { depth: 1 })
        }: use local(), ssh(), slurm(), mpi() or your own`,
    );
  }
  if (it.permissions !== undefined) {
    checkEnginePermissions(`launch[${index}].permissions`, it.permissions);
    if (it.name === "local") {
      refuseSymlinkGrants(`launch[${index}].permissions`, it.permissions);
    }
  }
}
