/**
 * The controller's task history, in SQLite (`node:sqlite`, built into
 * Deno): every task's function, arguments, engine, times, state, result or
 * error, console output, merged published data and last publications,
 * within limits, so that a client can fetch a result long after the one
 * that submitted it went away.
 *
 * Writes are cheap: each event changes a task in memory, and `flushMs`
 * after a change what changed is written (WAL mode), in slices of about
 * 10 ms, one transaction each, with the event loop free in between (see
 * history_flush.ts), so that a burst of tasks never holds the controller
 * for long. So a controller killed with kill -9 loses at most the last
 * `flushMs` of writes plus the slices not yet written of the flush under
 * way; `nextClientNo` and `failUnfinished` are written at once. (An OS
 * crash or a power loss may also lose the last commits: the log is synced
 * at checkpoints, not at each commit.) Reads write everything waiting
 * first, so they see every write made before them.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { SubmittedTask } from "../cluster/cluster.ts";
import type { Publication } from "../protocol/publication.ts";
import type {
  HistoryQuery,
  PurgeFilter,
  TaskSummary,
  WireError,
  WireOutcome,
} from "../remote/wire.ts";
import { encodeValue } from "../transport/codec.ts";
import { FlushQueue } from "./history_flush.ts";
import { type HistoryLimits, LiveTask } from "./history_live.ts";
import { HistoryReader } from "./history_queries.ts";
import { type HistoryOptions, historySettings } from "./history_options.ts";
import { purgeFinished } from "./history_purge.ts";
import { historyIdOf, openHistoryFile } from "./history_schema.ts";
import { HistoryWriter } from "./history_writes.ts";

export type { HistoryOptions };

/**
 * The task history of one controller. Its writes follow a task's life
 * (`submitted`, `assigned`, `started`, `stream`, `published`, `done`); an
 * event of a task it does not have in flight is a `RangeError`.
 *
 * @example
 * ```ts
 * import { History } from "./history.ts";
 * const history = History.open({ path: ":memory:" });
 * const fn = { kind: "source", source: "(x) => x * 2" } as const;
 * history.submitted({ taskId: 1, fn, args: [21], placement: { engineId: 0 } }, 1, Date.now());
 * history.started(1, Date.now());
 * history.done(1, { ok: true, value: 42, started: 1, completed: 2 });
 * console.log(history.get(1)?.state, history.get(1, true)?.value); // "ok" 42
 * history.close();
 * ```
 */
export class History {
  /** The database file (":memory:" for none). */
  readonly path: string;
  /**
   * The client numbers given out before this history was opened (1 to
   * this): their blocks' tasks were submitted to controllers before this
   * one.
   */
  readonly clientsBefore: number;
  /**
   * The database's identity, made when it was created: a saved result
   * names it, so that a controller on another database (whose task ids
   * start again at client 1) refuses to resume it.
   */
  readonly id: string;
  #db: DatabaseSync;
  #limits: HistoryLimits;
  #flushMs: number;
  #writer: HistoryWriter;
  #reader: HistoryReader;
  #nextClientNo: StatementSync;
  /** Tasks not yet finished, and finished ones not yet written. */
  #live = new Map<number, LiveTask>();
  #queue: FlushQueue;
  #closed = false;

  private constructor(
    db: DatabaseSync,
    path: string,
    limits: HistoryLimits,
    flushMs: number,
  ) {
    this.#db = db;
    this.path = path;
    this.#limits = limits;
    this.#flushMs = flushMs;
    this.#writer = new HistoryWriter(db, limits);
    this.#reader = new HistoryReader(db);
    this.#queue = new FlushQueue(
      (tasks) => this.#writeTasks(tasks),
      flushMs,
      path,
    );
    this.#nextClientNo = db.prepare(
      `update meta set value = value + 1 where key = 'nextClientNo'
        returning value - 1 as n`,
    );
    const next = db.prepare(
      "select value from meta where key = 'nextClientNo'",
    ).get() as { value: number };
    this.clientsBefore = Number(next.value) - 1;
    this.id = historyIdOf(db);
  }

  /** How long a change waits before it is written, in ms: what a kill -9 loses. */
  get flushMs(): number {
    return this.#flushMs;
  }

  /**
   * Opens (creating if need be) the history at `options.path`: a file of
   * the user only (mode 0600), in a folder that exists. A file that is not
   * a troupe history, or one of a newer troupe, is a clear error; so is a
   * misspelt option (a `TypeError`).
   */
  static open(options: HistoryOptions): History {
    const { path, limits, flushMs } = historySettings(options);
    const db = openHistoryFile(path);
    try {
      const history = new History(db, path, limits, flushMs);
      history.#writer.retain();
      return history;
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** The next client's number: 1, 2, ..., written at once. */
  nextClientNo(): number {
    this.#open();
    return (this.#nextClientNo.get() as { n: number }).n;
  }

  /** A task was submitted by client `clientNo` at `at` (ms since the epoch). */
  submitted(task: SubmittedTask, clientNo: number, at: number): void {
    this.#open();
    if (this.has(task.taskId)) {
      throw new RangeError(
        `task ${task.taskId} is in the history already: a task id is used ` +
          `once (a client's ids come from its own block)`,
      );
    }
    const live = new LiveTask(task, clientNo, at, this.#limits);
    this.#live.set(task.taskId, live);
    this.#reader.noted(task.taskId);
    this.#changed(live, live.args?.byteLength ?? 0);
  }

  /** The scheduler gave the task to `engineId` (again, after a retry). */
  assigned(taskId: number, engineId: number): void {
    const live = this.#inFlight(taskId, "assigned");
    live.engineId = engineId;
    // Not running there yet: a retried task waits in its new engine's queue.
    live.state = "queued";
    this.#changed(live, 0);
  }

  /** The task began to run at `at`. */
  started(taskId: number, at: number): void {
    const live = this.#inFlight(taskId, "started");
    live.state = "running";
    live.started = at;
    this.#changed(live, 0);
  }

  /** The task wrote `text` to its console. */
  stream(taskId: number, name: "stdout" | "stderr", text: string): void {
    const live = this.#inFlight(taskId, name);
    live.stream(name, text);
    this.#changed(live, text.length);
  }

  /** The task published. */
  published(taskId: number, publication: Publication): void {
    const live = this.#inFlight(taskId, "published");
    live.publish(publication);
    this.#changed(live, 0);
  }

  /**
   * The task ended: state `ok`, `aborted` (a `TaskAbortedError`) or
   * `error`.
   */
  done(taskId: number, outcome: WireOutcome): void {
    const live = this.#inFlight(taskId, "done");
    if (outcome.started !== undefined) live.started = outcome.started;
    live.completed = outcome.completed ?? Date.now();
    let bytes: number;
    if (outcome.ok) {
      live.state = "ok";
      live.value = live.encoded("value", outcome.value);
      bytes = live.value.byteLength;
    } else {
      const { error } = outcome;
      live.state = error.name === "TaskAbortedError" ? "aborted" : "error";
      live.errorMessage = `${error.name}: ${error.message}`;
      live.error = live.encoded("error", error);
      if (live.error.byteLength === 0) {
        // Over maxValueBytes: a stack is what grows. The class and fields
        // are what a late dependent and a replay need (its words alone
        // would come back as a plain Error).
        const bare = live.encoded("error", withoutStacks(error));
        if (bare.byteLength > 0) live.error = bare;
      }
      bytes = live.error.byteLength;
    }
    this.#changed(live, bytes);
  }

  /** Whether the history has the task (in flight or written). */
  has(taskId: number): boolean {
    this.#open();
    return this.#live.has(taskId) || this.#reader.has(taskId);
  }

  /**
   * Whether a task id may not be taken again: at or below the highest id
   * its block (a client's) has had, though purged since.
   */
  used(taskId: number): boolean {
    this.#open();
    return this.#reader.used(taskId);
  }

  /** One task; with `full`, its heavy fields too. */
  get(taskId: number, full = false): TaskSummary | undefined {
    return this.query({ taskIds: [taskId], full })[0];
  }

  /** Every task id, in submission order. */
  ids(): number[] {
    this.flush();
    return this.#reader.ids();
  }

  /**
   * The tasks `query` selects, in submission order (the newest `limit`
   * when more match).
   */
  query(query: HistoryQuery): TaskSummary[] {
    this.flush();
    return this.#reader.query(query);
  }

  /**
   * Removes the finished tasks `filter` selects (every field narrows it);
   * returns how many. An empty filter, and one naming an unfinished task,
   * are errors that remove nothing.
   */
  purge(filter: PurgeFilter): number {
    this.flush();
    return purgeFinished(this.#db, this.#writer, filter);
  }

  /**
   * Ends every queued or running task as an error (`errorFor` says which),
   * at once and durably: for a history opened after its controller died,
   * whose unfinished tasks lost their results. Returns how many.
   */
  failUnfinished(errorFor: (task: TaskSummary) => WireError): number {
    const unfinished = this.query({
      state: ["queued", "running"],
      limit: 2 ** 31,
    });
    if (unfinished.length === 0) return 0;
    const fail = this.#db.prepare(
      `update tasks set state = 'error', error = ?, error_message = ?,
        completed = ? where task_id = ?`,
    );
    const now = Date.now();
    this.#writer.transaction(() => {
      for (const task of unfinished) {
        const error = errorFor(task);
        fail.run(
          encodeValue(error),
          `${error.name}: ${error.message}`,
          now,
          task.taskId,
        );
      }
    });
    // Those in flight here have ended too: their later events are errors.
    for (const task of unfinished) this.#live.delete(task.taskId);
    this.#writer.countFinished(unfinished.length);
    return unfinished.length;
  }

  /** Writes every buffered change now, in one transaction. */
  flush(): void {
    this.#open();
    this.#queue.flush();
  }

  /** Flushes and closes the database; safe to call again. */
  close(): void {
    if (this.#closed) return;
    try {
      this.#queue.close();
    } finally {
      this.#closed = true;
      this.#db.close();
    }
  }

  /** One transaction; a throw keeps the tasks waiting: nothing is dropped. */
  #writeTasks(tasks: readonly LiveTask[]): void {
    this.#writer.write(tasks);
    for (const live of tasks) {
      live.written();
      if (live.finished) this.#live.delete(live.taskId);
    }
  }

  #open(): void {
    if (this.#closed) {
      throw new Error(`the task history ${this.path} is closed`);
    }
  }

  #inFlight(taskId: number, event: string): LiveTask {
    this.#open();
    const live = this.#live.get(taskId);
    if (live === undefined || live.finished) {
      throw new RangeError(
        `the history has no task ${taskId} in flight for its ${event} ` +
          `event: ${
            live || this.#reader.has(taskId)
              ? "it has ended already"
              : "it was never submitted"
          }`,
      );
    }
    return live;
  }

  /** `live` has something to write: soon, in slices (history_flush.ts). */
  #changed(live: LiveTask, bytes: number): void {
    this.#queue.changed(live, bytes);
  }
}

/** `error` and its causes without their stacks. */
function withoutStacks(error: WireError): WireError {
  const { stack: _, cause, ...rest } = error;
  return cause ? { ...rest, cause: withoutStacks(cause) } : rest;
}
