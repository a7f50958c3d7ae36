/**
 * One client attached to a controller: what it sends is checked and acted
 * on (submit, abort, follow, call), and what it is told goes out in order,
 * its task events batched into one `events` frame per turn of the event
 * loop. A session that breaks the wire is closed alone, with a logged
 * reason; its tasks, and every other session, run on.
 *
 * @module
 */

import type { DropCause } from "../transport/wire_counts.ts";
import { setImmediate } from "node:timers";
import { within } from "../actors/async.ts";
import type { SubmittedTask } from "../cluster/cluster.ts";
import { messageOf } from "../protocol/errors.ts";
import type {
  ControllerCall,
  FromController,
  ToController,
  WireTaskEvent,
} from "../remote/wire.ts";
import { TASK_ID_BLOCK } from "../remote/wire.ts";
import { toWireError } from "../remote/wire_errors.ts";
import { WireHeartbeat } from "../remote/wire_heartbeat.ts";
import { encodeValue } from "../transport/codec.ts";
import type { FramedConnection } from "../transport/framed_connection.ts";
import type { Follower } from "./live_tasks.ts";
import { toControllerProblem } from "./to_controller_check.ts";

/** How long a session's last frames (`closing`) have to be written, in ms. */
const CLOSING_WRITE_MS = 5000;

/**
 * What a session needs of its controller.
 *
 * @example
 * ```ts
 * import type { SessionHost } from "./session.ts";
 * const describe = (host: SessionHost) => host.clusterId;
 * ```
 */
export interface SessionHost {
  readonly clusterId: string;
  /**
   * Whether a task id may not be taken: a task of this id was submitted,
   * or one of a higher id of its block (ids only go up), purged or not.
   */
  known(taskId: number): boolean;
  /** Hands accepted tasks to the cluster, `session` following them. */
  submit(tasks: SubmittedTask[], session: Session): void;
  abort(taskIds: number[]): void;
  /** Holds a put value; throws a `RangeError` for an id held already. */
  put(id: number, value: unknown): void;
  /** Frees put values. */
  release(ids: number[]): void;
  follow(taskIds: number[], session: Session): void;
  /** Answers a call (but `shutdown`); a rejection is the reply's error. */
  call(
    call: Exclude<ControllerCall, { kind: "shutdown" }>,
    session: Session,
  ): Promise<unknown>;
  /** Stops the controller: a client asked, and has had its reply. */
  shutdown(why: string): void;
  /** The session's task events changed what engines hold. */
  activity(): void;
  /** The session ended (its client left, or it was closed). */
  ended(session: Session, reason: string): void;
  /** The controller dropped the client (the metrics count it). */
  dropped(cause: DropCause): void;
  log(line: string): void;
  /**
   * The most bytes a session holds queued for its client and not yet
   * written to its socket when another message comes: past them the
   * client is taken for gone (stopped, or far too slow) and the session
   * is closed; its tasks run on.
   */
  readonly maxUnsentBytes: number;
  /**
   * The heartbeat period (`attached` tells the client): a beat goes in
   * each one in which nothing else went.
   */
  readonly heartbeatMs: number;
  /** Silent periods after which the client is taken for gone. */
  readonly clientMisses: number;
}

/**
 * A client's session, from its `attached` to its end.
 *
 * @example
 * ```ts
 * import { Session } from "./session.ts";
 * const where = (s: Session) => `client ${s.clientNo} at ${s.peer}`;
 * ```
 */
export class Session implements Follower {
  /** The client's number in this cluster; its task ids follow from it. */
  readonly clientNo: number;
  #conn: FramedConnection;
  #host: SessionHost;
  #events: WireTaskEvent[] = [];
  #due = false;
  #ended = false;
  /** Bytes queued to the client and not yet written to its socket. */
  #unsent = 0;
  #heartbeat: WireHeartbeat | undefined;
  /** The put values this client holds: released when the session ends. */
  #puts = new Set<number>();

  /** Takes `conn` over (just past its handshake) for client `clientNo`. */
  constructor(conn: FramedConnection, clientNo: number, host: SessionHost) {
    this.clientNo = clientNo;
    this.#conn = conn;
    this.#host = host;
  }

  /** Where the client connects from. */
  get peer(): string {
    return this.#conn.peer;
  }

  /** The first id of this client's block (`taskIdBase + 1` is its first). */
  get taskIdBase(): number {
    return this.clientNo * TASK_ID_BLOCK;
  }

  /** Sends `attached`, then reads what the client sends. */
  start(attached: FromController): void {
    this.send(attached);
    this.#heartbeat = new WireHeartbeat({
      periodMs: this.#host.heartbeatMs,
      misses: this.#host.clientMisses,
      beat: () => this.send({ t: "beat" }),
      bytesRead: () => this.#conn.bytesRead,
      silent: (ms) => this.#silent(ms),
    });
    this.#conn.onClose = (reason) => this.#end(reason);
    this.#conn.onValue = (value) => this.#receive(value);
    this.#conn.start();
  }

  /** One event of a task this session follows; sent at the turn's end. */
  event(event: WireTaskEvent): void {
    if (this.#ended) return;
    this.#events.push(event);
    if (!this.#due) {
      this.#due = true;
      setImmediate(() => this.flush());
    }
    this.#host.activity();
  }

  /** Sends `message`, after the task events before it. */
  send(message: FromController): void {
    if (this.#ended) return;
    this.flush();
    this.#write(message);
  }

  /** Sends the task events waiting, in one frame. */
  flush(): void {
    this.#due = false;
    if (this.#events.length === 0 || this.#ended) return;
    const events = this.#events;
    this.#events = [];
    if (!this.#write({ t: "events", events })) {
      // Too large together, or one of them cannot cross: each alone, so
      // that only the one at fault is lost.
      for (const event of events) this.#writeAlone(event);
    }
  }

  /**
   * Tells the client `reason` (`closing`, its last message) and closes the
   * connection; resolves once it is closed.
   */
  async close(reason: string): Promise<void> {
    if (!this.#ended) {
      this.flush();
      const sent = this.#sendRaw({ t: "closing", reason });
      this.#ended = true;
      // A client that takes nothing must not hold the controller's stop.
      await within(sent, CLOSING_WRITE_MS);
      this.#conn.close(reason);
    }
    await this.#conn.closed;
  }

  #receive(value: unknown): void {
    if (this.#ended) return;
    this.#heartbeat?.heard();
    const problem = toControllerProblem(value);
    if (problem !== undefined) {
      const why = `it sent ${problem}`;
      this.#host.log(
        `closed the session of client ${this.clientNo} (${this.peer}): ${why}`,
      );
      this.#host.dropped("malformed_frame");
      this.close(`the controller closed this session: the client ${why}`);
      return;
    }
    const message = value as ToController;
    switch (message.t) {
      case "submit":
        return this.#submit(message.tasks);
      case "abort":
        return this.#host.abort(message.taskIds);
      case "follow":
        return this.#host.follow(message.taskIds, this);
      case "call":
        this.#call(message.id, message.call);
        return;
      case "put":
        return this.#put(message.id, message.value);
      case "release":
        return this.#host.release(
          message.ids.filter((id) => this.#puts.delete(id)),
        );
      case "beat":
        return;
    }
  }

  #submit(tasks: SubmittedTask[]): void {
    const base = this.taskIdBase;
    const accepted: SubmittedTask[] = [];
    // The batch's own high-water mark: the host's counts once it is handed over.
    let highest = -Infinity;
    for (const task of tasks) {
      const { taskId } = task;
      let refusal: string | undefined;
      if (taskId <= base || taskId >= base + TASK_ID_BLOCK) {
        refusal = `task id ${taskId} is outside client ${this.clientNo}'s ` +
          `block (${base + 1} to ${base + TASK_ID_BLOCK - 1}): take task ` +
          "ids from the client's nextTaskId()";
      } else if (taskId <= highest || this.#host.known(taskId)) {
        refusal = `task id ${taskId} was used already in cluster ` +
          `${this.#host.clusterId} (a block's ids are taken once, in ` +
          "increasing order): every task needs an id of its own, from the " +
          "client's nextTaskId()";
      }
      if (refusal === undefined) {
        highest = taskId;
        accepted.push(task);
      } else {
        this.event({
          kind: "done",
          taskId,
          outcome: { ok: false, error: toWireError(new RangeError(refusal)) },
        });
      }
    }
    if (accepted.length > 0) this.#host.submit(accepted, this);
  }

  /**
   * A put of an id outside the client's block, or taken already, is a bug
   * of the client's that would clash with another client's values: the
   * session is closed, as for a message that does not fit.
   */
  #put(id: number, value: unknown): void {
    const base = this.taskIdBase;
    let refusal = id <= base || id >= base + TASK_ID_BLOCK
      ? `a put of id ${id}, outside its block`
      : undefined;
    if (refusal === undefined) {
      try {
        this.#host.put(id, value);
        this.#puts.add(id);
        return;
      } catch (error) {
        refusal = `a put the cluster refused: ${messageOf(error)}`;
      }
    }
    const why = `it sent ${refusal}`;
    this.#host.log(
      `closed the session of client ${this.clientNo} (${this.peer}): ${why}`,
    );
    this.close(`the controller closed this session: the client ${why}`);
  }

  async #call(id: number, call: ControllerCall): Promise<void> {
    if (call.kind === "shutdown") {
      // The reply is queued before the stop begins, and the stop's
      // `closing` goes out after it.
      this.send({ t: "reply", id, ok: true, value: undefined });
      this.#host.shutdown(`client ${this.clientNo} asked for a shutdown`);
      return;
    }
    try {
      const value = await this.#host.call(call, this);
      this.send({ t: "reply", id, ok: true, value });
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error));
      this.send({ t: "reply", id, ok: false, error: toWireError(err) });
    }
  }

  /** Queues `message`; `false` if it cannot be encoded or is too large. */
  #write(message: FromController): boolean {
    try {
      this.#sendRaw(message);
      return true;
    } catch (error) {
      if (message.t !== "events") {
        this.#host.log(
          `could not send client ${this.clientNo} a "${message.t}" ` +
            `message: ${messageOf(error)}`,
        );
      }
      return false;
    }
  }

  #writeAlone(event: WireTaskEvent): void {
    if (this.#write({ t: "events", events: [event] })) return;
    if (event.kind !== "done") {
      this.#host.log(
        `could not send client ${this.clientNo} the "${event.kind}" event ` +
          `of task ${event.taskId}: it cannot cross or is over the frame limit`,
      );
      return;
    }
    const failed: WireTaskEvent = {
      kind: "done",
      taskId: event.taskId,
      outcome: {
        ok: false,
        error: toWireError(
          new RangeError(
            `task ${event.taskId} ended, but its outcome cannot be sent to ` +
              "the client (it cannot be encoded, or is over maxFrameBytes): " +
              "return a smaller value, or one that crosses",
          ),
        ),
      },
    };
    this.#write({ t: "events", events: [failed] });
  }

  /**
   * Encodes and queues at once (throws if it cannot); a lost write is the
   * close's. A client that takes nothing must not pile its events up in
   * the controller's memory without end.
   */
  #sendRaw(message: FromController): Promise<void> {
    const body = encodeValue(message);
    const bytes = body.byteLength;
    const written = this.#conn.sendBody(body);
    this.#heartbeat?.sent();
    // What waits before this frame: one large frame (a replay, a big
    // result) is no sign of a client gone; frames piling up behind it are.
    const waiting = this.#unsent;
    this.#unsent += bytes;
    if (waiting > this.#host.maxUnsentBytes && !this.#ended) {
      const why = `it has not taken the last ${waiting} bytes sent to it ` +
        `(over ${this.#host.maxUnsentBytes}): stopped, or far too slow`;
      this.#host.log(
        `closed the session of client ${this.clientNo} (${this.peer}): ` +
          `${why}; its tasks run on`,
      );
      this.#ended = true;
      this.#host.dropped("too_slow");
      this.#conn.close(`the controller closed this session: ${why}`);
    }
    return written.then(
      () => void (this.#unsent -= bytes),
      () => {},
    );
  }

  /** The client said nothing for `ms`: it is stopped, or cut off. */
  #silent(ms: number): void {
    if (this.#ended) return;
    const why = `no word from it for ${ms / 1000} s: stopped, or cut off`;
    this.#host.log(
      `closed the session of client ${this.clientNo} (${this.peer}): ` +
        `${why}; its tasks run on`,
    );
    this.#ended = true;
    this.#host.dropped("heartbeat");
    this.#conn.close(`the controller closed this session: ${why}`);
  }

  #end(reason: string): void {
    this.#heartbeat?.stop();
    const wasEnded = this.#ended;
    this.#ended = true;
    this.#events = [];
    // Its values go with it, as ray.put's go with their owner: tasks that
    // took one before keep it until they are sent.
    this.#host.release([...this.#puts]);
    this.#puts.clear();
    this.#host.ended(this, wasEnded ? "closed by the controller" : reason);
  }
}
