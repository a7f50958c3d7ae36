/**
 * `RemoteCluster`: the `Cluster` seam of a connected client
 * (`Client.connect`), spoken over one connection to a controller that runs
 * the cluster core (`remote/wire.ts`).
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
  RestartPolicy,
  SubmittedTask,
  TaskListener,
} from "../cluster/cluster.ts";
import { tellEngineListeners } from "../cluster/cluster.ts";
import { Registry } from "../cluster/registry.ts";
import { messageOf } from "../protocol/errors.ts";
import { encodeValue } from "../transport/codec.ts";
import type { FramedConnection } from "../transport/framed_connection.ts";
import type { Attached } from "./connect.ts";
import { type ClientEnd, detachedEnd, lostEnd } from "./closing_errors.ts";
import { askShutdown } from "./controller_shutdown.ts";
import { CALL_TIMEOUT_MS, ControllerCalls } from "./controller_calls.ts";
import { EngineMirror } from "./engine_mirror.ts";
import { RemoteTasks } from "./remote_tasks.ts";
import { fromWireError } from "./wire_errors.ts";
import { CONTROLLER_SILENCE_MISSES, WireHeartbeat } from "./wire_heartbeat.ts";
import { DEFAULT_HEARTBEAT_MS } from "../protocol/heartbeat.ts";
import type { ControllerCall, FromController, ToController } from "./wire.ts";

/**
 * A cluster that a controller runs, as its client sees it: engines mirrored
 * from the controller's snapshots and events, tasks submitted with ids of
 * this client's own block (no round trip), their events turned back into
 * listener calls, publications through a registry of this client's own, so
 * that views, results and the dashboard work as on an embedded cluster.
 * Values always cross msgpack (`sharesMemory` is `false`).
 *
 * A lost connection ends every task this client follows with a
 * `ControllerLostError` (the tasks run on in the controller); `close()`
 * detaches (the same, with a `ClientClosedError`), and
 * `close({ shutdown: true })` stops the controller.
 *
 * @example
 * ```ts
 * import { dialController } from "./connect.ts";
 * import { RemoteCluster } from "./remote_cluster.ts";
 * import { startController } from "../controller/controller.ts";
 * const controller = await startController({ id: "sim", engines: { workers: 1 } });
 * const { conn, attached } = await dialController(controller.clientInfo, {}, 10_000);
 * const cluster = new RemoteCluster(conn, attached);
 * console.log(cluster.clusterId, cluster.ids()); // sim [0]
 * await cluster.close();
 * await controller.stop();
 * ```
 */
export class RemoteCluster implements Cluster {
  /** The controller's cluster id. */
  readonly clusterId: string;
  /** This client's number in the cluster. */
  readonly clientNo: number;
  /** The identity of the controller's history (none from an older troupe). */
  readonly historyId: string | undefined;
  /** The controller's launchers, by name, for `scale`. */
  readonly launchers: readonly string[];
  #conn: FramedConnection;
  #taskIdBase: number;
  #issued = 0;
  #mirror: EngineMirror;
  #connectionInfo: ConnectionInfo | undefined;
  #registry = new Registry();
  #tasks: RemoteTasks;
  #calls = new ControllerCalls(fromWireError);
  #engineListeners = new Set<(event: EngineEvent) => void>();
  #log: (line: string) => void;
  /** What the controller said as it stopped (`closing`). */
  #closingReason: string | undefined;
  /**
   * How the connection ended, once it has: among others the error of a
   * task submitted (`run`) or followed after; no task is followed after.
   */
  #ended: ClientEnd | undefined;
  #closed: Promise<void> | undefined;
  #heartbeat: WireHeartbeat;

  /** Takes over `conn`, whose handshake and `attached` are done. */
  constructor(
    conn: FramedConnection,
    attached: Attached,
    options: { log?: (line: string) => void } = {},
  ) {
    this.#conn = conn;
    this.clusterId = attached.clusterId;
    this.clientNo = attached.clientNo;
    this.historyId = attached.historyId;
    this.launchers = [...attached.launchers];
    this.#taskIdBase = attached.taskIdBase;
    this.#connectionInfo = attached.connectionInfo;
    this.#mirror = new EngineMirror(attached);
    this.#log = options.log ?? ((line) => console.warn(line));
    this.#tasks = new RemoteTasks(this.#registry, fromWireError);
    // Nothing waits on a controller that is stopped or cut off.
    this.#heartbeat = new WireHeartbeat({
      periodMs: attached.heartbeatMs ?? DEFAULT_HEARTBEAT_MS,
      misses: CONTROLLER_SILENCE_MISSES,
      beat: () => this.#send({ t: "beat" }),
      bytesRead: () => conn.bytesRead,
      silent: (ms) =>
        conn.close(`no word from the controller for ${ms / 1000} s`),
    });
    conn.onClose = (reason) => {
      this.#heartbeat.stop();
      this.#lost(reason);
    };
    conn.onValue = (value) => this.#hear(value as FromController);
  }

  ids(): number[] {
    return this.#mirror.ids();
  }

  has(engineId: number): boolean {
    return this.#mirror.has(engineId);
  }

  engines(): EngineStatus[] {
    return this.#mirror.engines();
  }

  /** Never: every value crosses to the controller as msgpack. */
  sharesMemory(_engineId: number): boolean {
    return false;
  }

  plannedEngines(): number {
    return this.#ended ? 0 : this.#mirror.plannedEngines;
  }

  unrunnable(): string | undefined {
    // Closed: nothing here, so that the task fails as `submit` says (a
    // ClientClosedError, as an embedded client's).
    return this.#ended ? this.#ended.unrunnable : this.#mirror.unrunnable;
  }

  nextTaskId(): number {
    return this.#taskIdBase + ++this.#issued;
  }

  /**
   * Sends the tasks in one `submit` frame. A task whose values cannot be
   * encoded (or whose frame would be too large) fails alone, with the
   * codec's error; the others go.
   */
  submit(
    tasks: readonly SubmittedTask[],
    listenerFor: (task: SubmittedTask, index: number) => TaskListener,
  ): void {
    const listeners = tasks.map((task, i) => listenerFor(task, i));
    if (this.#ended) {
      tasks.forEach((task, i) =>
        listeners[i].done({
          ok: false,
          error: this.#ended!.later(task.taskId, "run"),
        })
      );
      return;
    }
    tasks.forEach((task, i) => this.#tasks.add(task.taskId, listeners[i]));
    const whole = this.#encode({ t: "submit", tasks: [...tasks] });
    if (whole instanceof Uint8Array && this.#sendBody(whole)) return;
    // One frame per task, to find the ones that cannot go.
    for (const task of tasks) {
      const one = this.#encode({ t: "submit", tasks: [task] });
      if (one instanceof Error) this.#tasks.fail(task.taskId, one);
      else this.#sendBody(one, task.taskId);
    }
  }

  /**
   * Follows tasks of the cluster's history (this client's or another's):
   * the controller replays what is known of each, then its events, to the
   * listener `listenerFor` gives it.
   */
  follow(
    taskIds: readonly number[],
    listenerFor: (taskId: number, index: number) => TaskListener,
  ): void {
    const listeners = taskIds.map((taskId, i) => listenerFor(taskId, i));
    if (this.#ended) {
      taskIds.forEach((taskId, i) =>
        listeners[i].done({
          ok: false,
          error: this.#ended!.later(taskId, "follow"),
        })
      );
      return;
    }
    // Asked once each: the controller replays a task to each follow.
    const fresh = [...new Set(taskIds)].filter((id) => !this.#tasks.has(id));
    taskIds.forEach((taskId, i) => this.#tasks.add(taskId, listeners[i]));
    if (fresh.length > 0) this.#send({ t: "follow", taskIds: fresh });
  }

  abort(taskIds: Iterable<number>): void {
    const ids = [...taskIds];
    if (ids.length > 0 && !this.#ended) {
      this.#send({ t: "abort", taskIds: ids });
    }
  }

  /** To the controller's core, in a frame ahead of the tasks that use it. */
  put(id: number, value: unknown): void {
    if (this.#ended) return; // Its tasks fail as `submit` says.
    const body = this.#encode({ t: "put", id, value });
    if (body instanceof Error) throw body;
    this.#conn.sendBody(body).catch(() => {}); // Too large: throws, unsent.
    this.#heartbeat.sent();
  }

  release(ids: readonly number[]): void {
    if (ids.length > 0 && !this.#ended) {
      this.#send({ t: "release", ids: [...ids] });
    }
  }

  onEngineEvent(listener: (event: EngineEvent) => void): () => void {
    const own = (event: EngineEvent) => listener(event);
    this.#engineListeners.add(own);
    return () => this.#engineListeners.delete(own);
  }

  /** Asks the controller: its core holds the queues, of every client. */
  async queueStatus(): Promise<QueueStatus> {
    return await this.call({ kind: "queueStatus" }) as QueueStatus;
  }

  /** Asks the controller: its core's metrics, of every client. */
  async metrics(): Promise<MetricFamily[]> {
    return await this.call({ kind: "metrics" }) as MetricFamily[];
  }

  waitForEngines(
    n: number,
    options: { timeoutMs?: number } = {},
  ): Promise<void> {
    // Bounded as every call is; the controller's own timeout says how many
    // engines were up.
    return this.call({
      kind: "waitForEngines",
      n,
      timeoutMs: options.timeoutMs ?? CALL_TIMEOUT_MS,
    }).then(() => {});
  }

  /**
   * Asks the controller and resolves with its answer; rejects with its
   * error, a `TimeoutError` after `timeoutMs` (else the call's own bound
   * and a few seconds, else 60 s), or when the connection ends.
   */
  call(call: ControllerCall, timeoutMs?: number): Promise<unknown> {
    return this.#calls.call((m) => this.#send(m), call, timeoutMs);
  }

  get connectionInfo(): ConnectionInfo | undefined {
    return this.#connectionInfo;
  }

  get registry(): PublicationRegistry {
    return this.#registry;
  }

  get restartPolicy(): RestartPolicy {
    return { ...this.#mirror.restartPolicy };
  }

  /** Asks the controller; a refusal is logged (a setter cannot reject). */
  set restartPolicy(policy: RestartPolicy) {
    this.#mirror.restartPolicy = policy;
    this.call({ kind: "setRestartPolicy", policy }).catch((error) =>
      this.#log(
        `troupe: the controller did not take the restart policy: ${
          messageOf(error)
        }`,
      )
    );
  }

  /**
   * Detaches: the tasks run on in the controller, and this client's
   * pending ones end here with a `ClientClosedError` saying how to resume
   * them. `shutdown` stops the controller (and its engines) first. Safe to
   * call twice.
   */
  close(options: { shutdown?: boolean } = {}): Promise<void> {
    this.#closed ??= this.#close(options.shutdown ?? false);
    return this.#closed;
  }

  async #close(shutdown: boolean): Promise<void> {
    if (shutdown && !this.#ended) {
      await askShutdown({
        clusterId: this.clusterId,
        ask: () => this.call({ kind: "shutdown" }),
        closed: this.#conn.closed,
        log: this.#log,
      });
    }
    this.#end(detachedEnd(this.clusterId, shutdown));
    this.#conn.close(
      shutdown ? "the client shut the cluster down" : "detached",
    );
    await this.#conn.closed;
    this.#registry.tell({ kind: "close" });
  }

  /** The connection closed without `close()`: the controller is lost. */
  #lost(reason: string): void {
    if (this.#ended) return;
    const why = this.#closingReason
      ? `it stopped: ${this.#closingReason}`
      : reason;
    this.#end(lostEnd(this.clusterId, why));
    this.#registry.tell({ kind: "close" });
  }

  /**
   * Ends every followed task and every call as `end` says; a task
   * submitted or followed later fails with its `later` error.
   */
  #end(end: ClientEnd): void {
    if (this.#ended) return;
    this.#ended = end;
    this.#mirror.lose(end.why);
    this.#calls.end(end.call);
    this.#tasks.failAll(end.pending);
  }

  #hear(message: FromController): void {
    this.#heartbeat.heard();
    switch (message?.t) {
      case "events":
        for (const event of message.events) this.#tasks.hear(event);
        break;
      case "engines": {
        // Those the controller forgot: so do the publications kept here.
        const gone = this.#mirror.update(message);
        if (gone.length) {
          this.#registry.tell({ kind: "forget", engineIds: gone });
        }
        break;
      }
      case "engineEvent":
        this.#mirror.apply(message.event);
        tellEngineListeners([...this.#engineListeners], message.event);
        break;
      case "reply":
        this.#calls.answer(message);
        break;
      case "closing":
        this.#closingReason = message.reason;
        break;
      case "beat":
        break;
      default:
        this.#conn.close(
          `the controller sent a message this client does not know ` +
            `(${JSON.stringify((message as { t?: unknown })?.t)}): run the ` +
            "same troupe version on both",
        );
    }
  }

  #encode(message: ToController): Uint8Array | Error {
    try {
      return encodeValue(message);
    } catch (error) {
      return error as Error;
    }
  }

  /**
   * Queues an encoded frame; `false` when it cannot go (too large). A
   * closed connection is not an error here: its close ends the tasks.
   */
  #sendBody(body: Uint8Array, taskId?: number): boolean {
    try {
      this.#conn.sendBody(body).catch(() => {});
      this.#heartbeat.sent();
      return true;
    } catch (error) {
      if (taskId !== undefined) this.#tasks.fail(taskId, error as Error);
      return false;
    }
  }

  #send(message: ToController): void {
    this.#conn.send(message).catch(() => {});
    this.#heartbeat.sent();
  }
}
