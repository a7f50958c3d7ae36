/**
 * `Client`: starts and owns a cluster of engines, as ipyparallel's `Client`
 * with `ipcluster`.
 *
 * @module
 */

import type { EngineEvent, EngineState } from "../cluster/engine_actor.ts";
import type { EngineLink } from "../protocol/engine_link.ts";
import { ClientClosedError, TimeoutError } from "../protocol/errors.ts";
import type { FromEngine, ToEngine } from "../protocol/messages.ts";
import { type PublicationRegistry, Registry } from "../cluster/registry.ts";
import {
  type EngineKind,
  type RestartPolicy,
  Supervisor,
} from "../cluster/supervisor.ts";
import type { EngineHello } from "../transport/handshake.ts";
import { Scheduler } from "../cluster/scheduler.ts";
import type { FramedConnection } from "../transport/framed_connection.ts";
import { TcpLink } from "../transport/tcp_link.ts";
import { DEFAULT_MAX_FRAME_BYTES } from "../transport/frame.ts";
import { TcpServer } from "../transport/tcp_server.ts";
import { WorkerLink } from "../transport/worker_link.ts";
import {
  type Dashboard,
  type DashboardOptions,
  serveDashboard,
} from "../dashboard/dashboard.ts";
import { DirectView } from "./direct_view.ts";
import { holdProcess } from "./keep_alive.ts";
import { UnobservedFailures } from "./unobserved_failures.ts";
import { writePrivateFile } from "./private_file.ts";
import { randomHex } from "../transport/random_hex.ts";
// Imported (they do nothing when imported) as well as started, so that the
// engines' modules are in the client's module graph: fetched, cached and
// locked with it, from a checkout or from a registry.
import "../engine/worker.ts";
import "../engine/mod.ts";
import {
  requireListenPermission,
  requireProcessPermissions,
  requireWorkerPermissions,
} from "./permissions.ts";
import {
  type LoadBalancedOptions,
  LoadBalancedView,
} from "./load_balanced_view.ts";
import { type Engines, submitTask } from "./engines.ts";
import {
  checkOptions,
  CLIENT_OPTIONS,
  CONNECTION_FILE_OPTIONS,
  LISTEN_OPTIONS,
  RESTART_POLICY_OPTIONS,
  WAIT_OPTIONS,
} from "./options.ts";

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
}

/**
 * A snapshot of one engine.
 *
 * @example
 * ```ts
 * import { Client, type EngineStatus } from "@troupe/parallel";
 * const busy = (s: EngineStatus) => s.state === "busy";
 * await using client = await Client.start({ workers: 1 });
 * console.log(client.engines().filter(busy).length); // 0
 * ```
 */
export interface EngineStatus {
  /** The engine's id. */
  engineId: number;
  /** Where it runs: a thread here, a process started here, or remote. */
  kind: EngineKind;
  /** Where it is in its life. */
  state: EngineState;
  /** How often it has been restarted. */
  restarts: number;
  /** Tasks finished on it. */
  tasksDone: number;
  /** The running task, if any. */
  currentTaskId: number | undefined;
  /** Tasks waiting for it, including the running one. */
  load: number;
  /** Why it last died, if it has. */
  deathReason: string | undefined;
}

const WORKER_ENTRY = new URL("../engine/worker.ts", import.meta.url);
const PROCESS_ENTRY = new URL("../engine/mod.ts", import.meta.url);

/**
 * Where TCP engines reach the client: what `writeConnectionFile` writes and
 * `deno run -A jsr:@troupe/parallel/engine --file` reads.
 *
 * @example
 * ```ts
 * import { Client, type ConnectionInfo } from "@troupe/parallel";
 * await using client = await Client.start({ workers: 0, listen: true });
 * const info: ConnectionInfo = client.connectionInfo;
 * console.log(info.hostname, info.port > 0); // 127.0.0.1 true
 * ```
 */
export interface ConnectionInfo {
  /** The interface the client listens on. */
  hostname: string;
  /** The port it listens on. */
  port: number;
  /** The shared key. Keep it secret. */
  key: string;
}

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
export class Client implements AsyncDisposable {
  #registry = new Registry();
  #supervisor: Supervisor;
  #taskCounter = 0;
  #closed: Promise<void> | undefined;
  #waiters = new Set<() => void>();
  #listeners = new Set<(event: EngineEvent) => void>();
  #directory: Engines;

  #server: TcpServer | undefined;
  /** Whether the user asked to listen, so that engines may join by hand. */
  #listensForOthers: boolean;
  #dashboards = new Set<Dashboard>();
  #log: (line: string) => void;
  #failures: UnobservedFailures;
  #scheduler: Scheduler;
  #key: string;
  #maxHeapMb: number;
  /** Every TCP engine's frame limit, both ways (it is told in `init`). */
  #maxFrameBytes: number;
  /** Processes this client started, by their one-time token. */
  #spawned = new Map<string, { engineId: number; link: EngineTcpLink }>();

  private constructor(options: ClientOptions, engines: number) {
    this.#maxHeapMb = options.maxHeapMb ?? defaultHeapMb(engines);
    this.#maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    if (options.onEngineEvent) this.#listeners.add(options.onEngineEvent);
    this.#key = options.key ?? randomHex(32);
    this.#log = options.log ?? ((line) => console.warn(line));
    this.#failures = new UnobservedFailures(this.#log);
    this.#supervisor = new Supervisor({
      registry: this.#registry,
      restart: options.restart,
      heartbeatMs: options.heartbeatMs,
      startTimeoutMs: options.startTimeoutMs,
      noEngineTimeoutMs: options.noEngineTimeoutMs,
      onEvent: (event) => this.#onEngineEvent(event),
    });
    this.#directory = {
      ids: () => this.ids,
      get: (engineId) => this.#supervisor.get(engineId),
      registry: this.#registry,
      nextTaskId: () => ++this.#taskCounter,
      failures: this.#failures,
    };
    this.#scheduler = new Scheduler({
      engines: () => this.#supervisor.all(),
      // Engines join only where someone can start them by hand: a listener
      // that exists for the client's own processes brings none.
      mayGainEngines: () => this.#listensForOthers,
      noEngineTimeoutMs: options.noEngineTimeoutMs,
      submit: (engine, task, observer) =>
        submitTask(this.#registry, engine, {
          taskId: task.taskId,
          fn: task.fn,
          mode: task.mode,
          args: task.args,
          observer,
        }, task.observer),
    });
    const listen = options.listen ?? (options.processes ?? 0) > 0;
    this.#listensForOthers = options.listen !== undefined &&
      options.listen !== false;
    if (listen) {
      const at = listen === true ? {} : listen;
      this.#server = new TcpServer({
        hostname: at.hostname,
        port: at.port,
        key: this.#key,
        encrypt: options.encrypt,
        maxFrameBytes: options.maxFrameBytes,
        log: this.#log,
        decide: (hello, peer) => this.#decideEngineId(hello, peer),
        onEngine: (conn, engineId, hello) =>
          this.#onTcpEngine(conn, engineId, hello),
      });
      this.#server.unref();
    }
  }

  /**
   * Starts a client and its engines; resolves once every engine is ready.
   * Rejects, having stopped whatever it started, if an engine cannot start.
   */
  static async start(options: ClientOptions = {}): Promise<Client> {
    checkOptions("Client.start options", options, CLIENT_OPTIONS);
    if (typeof options.listen === "object") {
      checkOptions("the listen option", options.listen, LISTEN_OPTIONS);
    }
    checkOptions("the restart option", options.restart, RESTART_POLICY_OPTIONS);
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
    const workers = options.workers ??
      (options.processes ? 0 : navigator.hardwareConcurrency);
    const processes = options.processes ?? 0;
    for (const [name, n] of [["workers", workers], ["processes", processes]]) {
      if (!Number.isInteger(n) || (n as number) < 0) {
        throw new RangeError(
          `${name} must be a whole number of engines, got ${n}`,
        );
      }
    }
    // Before anything starts: a missing permission is an error naming the
    // flag, not a prompt about one of troupe's files halfway through.
    if (workers > 0) requireWorkerPermissions(WORKER_ENTRY);
    if (processes > 0) requireProcessPermissions();
    const listen = options.listen ?? processes > 0;
    if (listen) {
      const { hostname = "127.0.0.1" } = listen === true ? {} : listen;
      requireListenPermission(hostname, "the client's engine listener");
    }
    const client = new Client(options, workers + processes);
    try {
      for (let engineId = 0; engineId < workers; engineId++) {
        client.#supervisor.startEngine(
          engineId,
          "worker",
          () => client.#spawnWorker(engineId),
        );
      }
      for (let i = 0; i < processes; i++) {
        const engineId = workers + i;
        client.#supervisor.startEngine(
          engineId,
          "process",
          () => client.#spawnProcess(engineId),
        );
      }
      await client.waitForEngines(workers + processes, {
        timeoutMs: options.startTimeoutMs ?? 60_000,
      });
    } catch (error) {
      await client.close();
      throw error;
    }
    return client;
  }

  /** Ids of the live engines, ascending. */
  get ids(): number[] {
    return this.#supervisor.all().filter((e) => e.up).map((e) => e.engineId);
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
    if (Array.isArray(targets) && targets.length === 0) {
      throw new RangeError("a view needs at least one engine; got []");
    }
    for (const id of [targets ?? []].flat()) {
      if (!this.#supervisor.get(id)) {
        throw new RangeError(
          `there is no engine ${id}; the engines are ${
            JSON.stringify(this.ids)
          }`,
        );
      }
    }
    return new DirectView(this.#directory, targets ?? "all");
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
    if (!Array.isArray(targets)) {
      return new LoadBalancedView(
        this.#directory,
        this.#scheduler,
        undefined,
        targets ?? options,
      );
    }
    if (targets.length === 0) {
      throw new RangeError("a view needs at least one engine; got []");
    }
    for (const id of targets) {
      if (!this.#supervisor.get(id)) {
        throw new RangeError(
          `there is no engine ${id}; the engines are ${
            JSON.stringify(this.ids)
          }`,
        );
      }
    }
    return new LoadBalancedView(
      this.#directory,
      this.#scheduler,
      targets,
      options,
    );
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
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const check = () => {
      let error: Error | undefined;
      if (this.#closed) {
        error = new ClientClosedError({ what: "wait for engines" });
      } else if (this.#possibleEngines() < n) {
        error = new Error(
          `${n} engines can never be up: this client has ` +
            `${this.#possibleEngines()} engines that are up or starting`,
        );
      } else if (this.ids.length < n) return;
      this.#waiters.delete(check);
      clearTimeout(timer);
      if (error) reject(error);
      else resolve();
    };
    this.#waiters.add(check);
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(
          new TimeoutError(
            `${this.ids.length} of ${n} engines are up after ` +
              `${options.timeoutMs} ms`,
          ),
        );
      }, options.timeoutMs);
    }
    check();
    // Someone waits for engines: the process must stay alive for them.
    return promise.finally(holdProcess());
  }

  /** A snapshot of every engine the client has, in id order. */
  engines(): EngineStatus[] {
    return this.#supervisor.all().map((engine) => ({
      engineId: engine.engineId,
      kind: this.#supervisor.kindOf(engine.engineId)!,
      state: engine.state,
      restarts: engine.restarts,
      tasksDone: engine.tasksDone,
      currentTaskId: engine.currentTaskId,
      load: engine.load,
      deathReason: engine.deathReason,
    }));
  }

  /**
   * Calls `listener` for every engine event from now on: registered, died
   * (with the reason), restarted, gaveUp. Returns a function that stops the
   * calls.
   */
  onEngineEvent(listener: (event: EngineEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Where TCP engines reach this client, key included. Throws when the
   * client does not listen (`listen: false` and no processes).
   */
  get connectionInfo(): ConnectionInfo {
    if (!this.#server) {
      throw new Error(
        "this client does not accept TCP engines: start it with listen: true " +
          "(or processes > 0)",
      );
    }
    const { hostname, port } = this.#server;
    return { hostname, port, key: this.#key };
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
    checkOptions(
      "writeConnectionFile options",
      options,
      CONNECTION_FILE_OPTIONS,
    );
    const info = { ...this.connectionInfo, ...options };
    await writePrivateFile(path, JSON.stringify(info, null, 2) + "\n");
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
    requireListenPermission(options.hostname ?? "127.0.0.1", "the dashboard");
    const dashboard = await serveDashboard({
      registry: this.#registry,
      engines: () => this.engines(),
      onEngineEvent: (listener) => this.onEngineEvent(listener),
    }, options);
    this.#dashboards.add(dashboard);
    return {
      url: dashboard.url,
      close: () => {
        this.#dashboards.delete(dashboard);
        return dashboard.close();
      },
    };
  }

  /** How dead engines are restarted; see `ClientOptions.restart`. */
  get restartPolicy(): RestartPolicy {
    return this.#supervisor.policy;
  }

  /** Changes the restart policy; it applies from the next death on. */
  set restartPolicy(policy: RestartPolicy) {
    checkOptions("restartPolicy", policy, RESTART_POLICY_OPTIONS);
    this.#supervisor.policy = policy;
  }

  /**
   * The registry actor's record of what engines publish: `latest(id)`,
   * `snapshot()` and the live `updates()` stream.
   */
  get registry(): PublicationRegistry {
    return this.#registry;
  }

  /**
   * Stops every engine the client started, even mid-task (their unfinished
   * tasks fail with an `EngineError`), closes the listener and ends every
   * stream. Remote engines started by hand keep retrying until a client is
   * back; `shutdown()` tells them to exit instead. Safe to call twice.
   */
  close(): Promise<void> {
    return this.#close(false);
  }

  /**
   * `close()`, and remote engines exit instead of waiting for a client
   * (ipyparallel's `Client.shutdown`).
   */
  shutdown(): Promise<void> {
    return this.#close(true);
  }

  #close(shutdown: boolean): Promise<void> {
    const release = holdProcess(); // Until every engine is gone.
    this.#closed ??= (async () => {
      // Before closing fails the running tasks: those failures are ours.
      this.#failures.close();
      await null; // `#closed` is set before the waiters look at it.
      for (const check of [...this.#waiters]) check();
      this.#scheduler.tell({ kind: "close" });
      await Promise.all([
        ...[...this.#dashboards].map((dashboard) => dashboard.close()),
        this.#server?.close(),
        this.#supervisor.close("the client was closed", { shutdown }),
      ]);
      this.#registry.tell({ kind: "close" });
    })();
    return this.#closed.finally(release);
  }

  /** `await using client = await Client.start()` closes it at scope end. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #spawnWorker(engineId: number): EngineLink {
    const link = new WorkerLink<ToEngine, FromEngine>(WORKER_ENTRY, {
      name: `troupe engine ${engineId}`,
      maxHeapMb: this.#maxHeapMb,
    });
    // Idle engines let the process end; pending work holds it (keep_alive.ts).
    link.unref();
    return link;
  }

  #spawnProcess(engineId: number): EngineLink {
    const server = this.#server!;
    const hostname = ["0.0.0.0", "::"].includes(server.hostname)
      ? "127.0.0.1"
      : server.hostname;
    const token = randomHex(16);
    const link: EngineTcpLink = TcpLink.spawn({
      entry: PROCESS_ENTRY,
      args: [
        "--connect",
        `${hostname.includes(":") ? `[${hostname}]` : hostname}:${server.port}`,
        "--spawned",
        "--max-heap-mb",
        String(this.#maxHeapMb),
        // The user asked for plain frames, off loopback too.
        ...(server.encrypt ? [] : ["--allow-plain"]),
      ],
      // Secrets go through stdin: command lines are visible to every user.
      stdin: JSON.stringify({ key: this.#key, token, engineId }),
      maxFrameBytes: this.#maxFrameBytes,
    });
    link.unref();
    // The process before it under this id is over: the supervisor starts
    // one only once the last one's link is gone.
    this.#forgetProcess(engineId);
    this.#spawned.set(token, { engineId, link });
    return link;
  }

  /**
   * The tokens of the processes started for `engineId` are no longer good:
   * a process that died before it connected must not be matched later.
   */
  #forgetProcess(engineId: number): void {
    for (const [token, spawned] of this.#spawned) {
      if (spawned.engineId === engineId) this.#spawned.delete(token);
    }
  }

  /** Which id a newly authenticated engine gets; throws to refuse it. */
  #decideEngineId(hello: EngineHello, peer: string): number {
    if (hello.token !== undefined) {
      const spawned = this.#spawned.get(hello.token);
      if (!spawned || spawned.engineId !== hello.engineId) {
        throw new Error(`${peer} presented an unknown process token`);
      }
      return spawned.engineId;
    }
    const wanted = hello.engineId;
    if (
      wanted !== undefined && Number.isInteger(wanted) && wanted >= 0 &&
      this.#supervisor.kindOf(wanted) === "remote" &&
      this.#supervisor.get(wanted)?.state === "restarting"
    ) {
      return wanted;
    }
    const all = this.#supervisor.all();
    return all.length === 0 ? 0 : all[all.length - 1].engineId + 1;
  }

  #onTcpEngine(
    conn: FramedConnection,
    engineId: number,
    hello: EngineHello,
  ): void {
    if (hello.token !== undefined) {
      // By its own token: the process it names may have died (and another
      // been started under its id) while it was being welcomed.
      const spawned = this.#spawned.get(hello.token);
      this.#spawned.delete(hello.token);
      if (spawned) spawned.link.attach(conn, this.#log);
      else conn.close("its process is no longer the engine's");
      return;
    }
    const link: EngineTcpLink = new TcpLink(this.#maxFrameBytes);
    link.unref();
    link.attach(conn, this.#log);
    try {
      this.#supervisor.adopt(engineId, link);
    } catch (error) {
      conn.close(String(error));
    }
  }

  #onEngineEvent(event: EngineEvent): void {
    if (event.type === "died" || event.type === "gaveUp") {
      this.#forgetProcess(event.engineId);
    }
    this.#scheduler.tell({ kind: "changed" });
    for (const check of [...this.#waiters]) check();
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        // A listener's bug must not stop supervision, the other listeners,
        // or the process (which `reportError` would).
        console.error("troupe: an engine event listener threw:", error);
      }
    }
  }

  /** How many engines could still be up; any number, while remote engines may join. */
  #possibleEngines(): number {
    if (this.#listensForOthers) return Infinity;
    return this.#supervisor.all().filter((e) => e.state !== "stopped").length;
  }
}

type EngineTcpLink = TcpLink<ToEngine, FromEngine>;

function defaultHeapMb(workers: number): number {
  // Ask without prompting: a demo should not stop to ask for --allow-sys.
  const sys = { name: "sys", kind: "systemMemoryInfo" } as const;
  if (Deno.permissions.querySync(sys).state !== "granted") return 2048;
  try {
    const total = Deno.systemMemoryInfo().total / 2 ** 20;
    const share = Math.floor(total / 2 / Math.max(1, workers));
    return Math.min(4096, Math.max(256, share));
  } catch {
    return 2048;
  }
}
