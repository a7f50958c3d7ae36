/**
 * A controller's client listener: clients prove they hold the client key
 * (the handshake of purpose `"client"`, which an engine key or an engine's
 * hello never passes), each gets a session (`session.ts`) that starts with
 * `attached`, and every session hears the engines: each engine event, a
 * snapshot after them, and snapshots at most every 250 ms while loads
 * change.
 *
 * @module
 */

import type {
  Cluster,
  ConnectionInfo,
  SubmittedTask,
} from "../cluster/cluster.ts";
import {
  type ControllerCall,
  type FromController,
  TASK_ID_BLOCK,
} from "../remote/wire.ts";
import {
  DEFAULT_HEARTBEAT_MISSES,
  DEFAULT_HEARTBEAT_MS,
} from "../protocol/heartbeat.ts";
import type { FramedConnection } from "../transport/framed_connection.ts";
import { TcpServer } from "../transport/tcp_server.ts";
import type { DropCause } from "../transport/wire_counts.ts";
import type { LiveTasks } from "./live_tasks.ts";
import { ControllerMetrics } from "./controller_metrics.ts";
import { Session, type SessionHost } from "./session.ts";

/** How often, at most, sessions hear of changed loads, in ms. */
export const LOAD_SNAPSHOT_MS = 250;

/**
 * How a `ClientServer` listens, and what it serves.
 *
 * @example
 * ```ts
 * import type { ClientServerOptions } from "./client_server.ts";
 * const bind: Pick<ClientServerOptions, "hostname" | "port"> = {
 *   hostname: "127.0.0.1",
 *   port: 0,
 * };
 * ```
 */
export interface ClientServerOptions {
  clusterId: string;
  /** The cluster core the sessions' tasks go to. */
  cluster: Cluster;
  /** The unfinished tasks, whose listeners sessions follow. */
  live: LiveTasks;
  /** Interface to bind; 127.0.0.1 unless told otherwise. */
  hostname?: string;
  /** Port; 0 picks a free one. */
  port?: number;
  /** The client key. */
  key: string;
  /** Seal frames after the handshake; by default off loopback only. */
  encrypt?: boolean;
  /** Largest frame from a client, in bytes. */
  maxFrameBytes?: number;
  /** How long a client has to prove it holds the key, in ms (5000). */
  handshakeTimeoutMs?: number;
  /** See `SessionHost.maxUnsentBytes`; 1 GiB by default. */
  maxUnsentBytes?: number;
  /** See `SessionHost.heartbeatMs`; `DEFAULT_HEARTBEAT_MS` by default. */
  heartbeatMs?: number;
  /** See `ControllerOptions.clientTimeoutMs`; 5 minutes by default. */
  clientTimeoutMs?: number;
  /** Each attached client's number (the history counts them). */
  nextClientNo(): number;
  /** What `attached` says beyond the engines: where engines dial, launchers. */
  about(): {
    connectionInfo?: ConnectionInfo;
    launchers: string[];
    /** The history's identity (`History.id`), for `attached`. */
    historyId?: string;
  };
  /** Answers a session's call. */
  call: SessionHost["call"];
  /** Stops the controller. */
  shutdown(why: string): void;
  log(line: string): void;
}

/**
 * Listens for clients and keeps their sessions.
 *
 * @example
 * ```ts ignore
 * import { ClientServer } from "./client_server.ts";
 * // Built by startController (controller.ts), which passes its core.
 * const sessions = (server: ClientServer) => server.sessions;
 * ```
 */
export class ClientServer implements SessionHost {
  #options: ClientServerOptions;
  #server: TcpServer;
  #sessions = new Set<Session>();
  #unsubscribe: () => void;
  #snapshotDue = false;
  #loadTimer: ReturnType<typeof setTimeout> | undefined;
  #lastSnapshot = "";
  #closed = false;
  /** Its client connections' traffic and drops. */
  readonly metrics: ControllerMetrics = new ControllerMetrics(() =>
    this.#sessions.size
  );

  /** Binds at once; throws if the address is taken. */
  constructor(options: ClientServerOptions) {
    // heartbeatMs, clientTimeoutMs and maxUnsentBytes were checked by
    // checkControllerOptions, before the history was touched.
    this.#options = options;
    this.#server = new TcpServer({
      purpose: "client",
      hostname: options.hostname,
      port: options.port,
      key: options.key,
      encrypt: options.encrypt,
      maxFrameBytes: options.maxFrameBytes,
      handshakeTimeoutMs: options.handshakeTimeoutMs,
      decide: () => {
        const clientNo = options.nextClientNo();
        // Task ids must stay exact doubles: 2^21 clients fill 2^53.
        if ((clientNo + 1) * TASK_ID_BLOCK - 1 > Number.MAX_SAFE_INTEGER) {
          throw new RangeError(
            `cluster ${options.clusterId} has given out every client number ` +
              "its task ids allow (2^21 - 1): start the controller on a new " +
              "history database",
          );
        }
        return clientNo;
      },
      onEngine: (conn, clientNo, hello) => {
        this.log(
          `client ${clientNo} attached from ${conn.peer}` +
            (typeof hello.pid === "number" ? ` (pid ${hello.pid})` : ""),
        );
        this.#attach(conn, clientNo);
      },
      log: (line) => options.log(line),
      wire: this.metrics.wire,
      dropped: (cause) => this.metrics.dropped(cause),
    });
    this.#unsubscribe = options.cluster.onEngineEvent((event) => {
      for (const session of this.#sessions) {
        session.send({ t: "engineEvent", event });
      }
      this.#snapshotSoon();
    });
  }

  /** The bound interface. */
  get hostname(): string {
    return this.#server.hostname;
  }

  /** The bound port. */
  get port(): number {
    return this.#server.port;
  }

  /** The most bytes a session holds for a client that takes none. */
  get maxUnsentBytes(): number {
    return this.#options.maxUnsentBytes ?? 2 ** 30;
  }

  /** The clients' heartbeat period, in ms. */
  get heartbeatMs(): number {
    return this.#options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  }

  /**
   * Silent heartbeat periods after which a client is taken for gone: its
   * timeout over the period, and never fewer than an engine is allowed.
   */
  get clientMisses(): number {
    const timeoutMs = this.#options.clientTimeoutMs ?? 300_000;
    return Math.max(
      DEFAULT_HEARTBEAT_MISSES,
      Math.ceil(timeoutMs / this.heartbeatMs),
    );
  }

  /** Clients attached now. */
  get sessions(): number {
    return this.#sessions.size;
  }

  /** The cluster's id. */
  get clusterId(): string {
    return this.#options.clusterId;
  }

  /** Stops listening: no new client attaches. Sessions stay. */
  async stopListening(): Promise<void> {
    this.#closed = true;
    await this.#server.close();
  }

  /**
   * Stops listening, tells every session `reason` (their last message,
   * after their task events) and closes them; clears the timers.
   */
  async close(reason: string): Promise<void> {
    await this.stopListening();
    this.#unsubscribe();
    clearTimeout(this.#loadTimer);
    this.#loadTimer = undefined;
    await Promise.all(
      [...this.#sessions].map((session) => session.close(reason)),
    );
  }

  known(taskId: number): boolean {
    return this.#options.live.known(taskId);
  }

  dropped(cause: DropCause): void {
    this.metrics.dropped(cause);
  }

  submit(tasks: SubmittedTask[], session: Session): void {
    const { cluster, live } = this.#options;
    cluster.submit(
      tasks,
      (task) => live.listenerFor(task, session.clientNo, session),
    );
    this.activity();
  }

  abort(taskIds: number[]): void {
    this.#options.cluster.abort(taskIds);
  }

  put(id: number, value: unknown): void {
    this.#options.cluster.put(id, value);
  }

  release(ids: number[]): void {
    this.#options.cluster.release(ids);
  }

  follow(taskIds: number[], session: Session): void {
    this.#options.live.follow(taskIds, session);
  }

  call(
    call: Exclude<ControllerCall, { kind: "shutdown" }>,
    session: Session,
  ): Promise<unknown> {
    return this.#options.call(call, session);
  }

  shutdown(why: string): void {
    this.#options.shutdown(why);
  }

  /** Loads may have changed: a snapshot within `LOAD_SNAPSHOT_MS`. */
  activity(): void {
    if (this.#loadTimer !== undefined || this.#closed) return;
    this.#loadTimer = setTimeout(() => {
      this.#loadTimer = undefined;
      this.#broadcastSnapshot(false);
    }, LOAD_SNAPSHOT_MS);
  }

  ended(session: Session, reason: string): void {
    if (!this.#sessions.delete(session)) return;
    this.#options.live.forget(session);
    if (!this.#closed) {
      this.log(
        `client ${session.clientNo} (${session.peer}) left: ${reason}; its ` +
          "tasks run on",
      );
    }
  }

  /** A line of the controller's log, as the listener's own lines begin. */
  log(line: string): void {
    this.#options.log(`troupe: ${line}`);
  }

  /**
   * Sends every session the engines' snapshot now, changed or not: what
   * it carries besides the engines (the restart policy) changed.
   */
  broadcastSnapshot(): void {
    this.#broadcastSnapshot(true);
  }

  #attach(conn: FramedConnection, clientNo: number): void {
    if (this.#closed) {
      conn.close("the controller is stopping");
      return;
    }
    const session = new Session(conn, clientNo, this);
    this.#sessions.add(session);
    const { cluster } = this.#options;
    const { connectionInfo, launchers, historyId } = this.#options.about();
    const attached: FromController = {
      t: "attached",
      clusterId: this.#options.clusterId,
      clientNo,
      taskIdBase: session.taskIdBase,
      engines: cluster.engines(),
      unrunnable: cluster.unrunnable(),
      restartPolicy: cluster.restartPolicy,
      plannedEngines: cluster.plannedEngines(),
      connectionInfo,
      launchers,
      heartbeatMs: this.heartbeatMs,
      historyId,
    };
    session.start(attached);
  }

  /** One snapshot at the end of this turn, however many events came. */
  #snapshotSoon(): void {
    if (this.#snapshotDue) return;
    this.#snapshotDue = true;
    queueMicrotask(() => {
      this.#snapshotDue = false;
      this.#broadcastSnapshot(true);
    });
  }

  #broadcastSnapshot(always: boolean): void {
    const { cluster } = this.#options;
    const message: FromController = {
      t: "engines",
      engines: cluster.engines(),
      unrunnable: cluster.unrunnable(),
      restartPolicy: cluster.restartPolicy,
      plannedEngines: cluster.plannedEngines(),
    };
    const key = JSON.stringify(message);
    if (!always && key === this.#lastSnapshot) return;
    this.#lastSnapshot = key;
    for (const session of this.#sessions) session.send(message);
  }
}
