/**
 * The history's writes: each kind one prepared statement, each flush one
 * transaction, and the retention limits applied in it.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import {
  describeFunction,
  type HistoryLimits,
  type LiveTask,
} from "./history_live.ts";
import type { FunctionRef } from "../protocol/messages.ts";

/** Tasks that retention removes between two sweeps of unused functions. */
const SWEEP_EVERY = 10_000;

/**
 * The statements a flush runs, prepared once.
 *
 * @example
 * ```ts
 * import { openHistoryFile } from "./history_schema.ts";
 * import { HistoryWriter } from "./history_writes.ts";
 * const db = openHistoryFile(":memory:");
 * const writer = new HistoryWriter(db, {
 *   maxTasks: 10, maxAgeMs: undefined, maxPublicationsPerTask: 10,
 *   maxValueBytes: 1024, maxStreamBytes: 1024,
 * });
 * writer.write([]); // one (empty) transaction
 * db.close();
 * ```
 */
export class HistoryWriter {
  #db: DatabaseSync;
  #limits: HistoryLimits;
  #upsert: StatementSync;
  #insertPublication: StatementSync;
  #dropPublications: StatementSync;
  #functionId: StatementSync;
  #dropOldest: StatementSync;
  #dropBefore: StatementSync;
  /** Function rows by ref, so that a task of a known function costs no lookup. */
  #functions = new Map<string, number>();
  /** Finished tasks in the database, for `maxTasks`. */
  #finished: number;
  /** Tasks removed since unused functions were last dropped. */
  #goneSinceSweep = 0;

  constructor(db: DatabaseSync, limits: HistoryLimits) {
    this.#db = db;
    this.#limits = limits;
    // The light fields are whole in memory until the task ends, so they
    // are written as they are; the streams are appended; the data is
    // replaced only when it changed (an empty blob marks it too large).
    this.#upsert = db.prepare(`
      insert into tasks (task_id, client_no, fn_id, mode, engine_id, state,
        submitted, started, completed, error_message, publications, args,
        value, error, stdout, stderr, stdout_cut, stderr_cut, data, not_kept)
      values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      on conflict (task_id) do update set
        engine_id = excluded.engine_id, state = excluded.state,
        started = excluded.started, completed = excluded.completed,
        error_message = excluded.error_message,
        publications = excluded.publications,
        value = excluded.value, error = excluded.error,
        stdout = case when excluded.stdout is null then stdout
          else coalesce(stdout, '') || excluded.stdout end,
        stderr = case when excluded.stderr is null then stderr
          else coalesce(stderr, '') || excluded.stderr end,
        stdout_cut = excluded.stdout_cut, stderr_cut = excluded.stderr_cut,
        data = coalesce(excluded.data, data),
        not_kept = excluded.not_kept`);
    this.#insertPublication = db.prepare(
      `insert or replace into publications
        (task_id, ord, engine_id, seq, time, data) values (?, ?, ?, ?, ?, ?)`,
    );
    this.#dropPublications = db.prepare(
      "delete from publications where task_id = ? and ord < ?",
    );
    this.#functionId = db.prepare(
      `insert into functions (ref, fn) values (?, ?)
        on conflict (ref) do update set fn = fn returning fn_id`,
    );
    this.#dropOldest = db.prepare(
      `delete from tasks where task_id in (select task_id from tasks
        where completed is not null order by completed, task_id limit ?)`,
    );
    this.#dropBefore = db.prepare(
      "delete from tasks where completed is not null and completed < ?",
    );
    this.#finished = (db.prepare(
      "select count(*) as n from tasks where completed is not null",
    ).get() as { n: number }).n;
  }

  /** Writes `tasks` and applies the retention limits, in one transaction. */
  write(tasks: readonly LiveTask[]): void {
    this.transaction(() => {
      for (const task of tasks) this.#write(task);
      this.#retain();
    });
  }

  /** Runs `body` in a transaction, rolled back if it throws. */
  transaction<T>(body: () => T): T {
    this.#db.exec("begin immediate");
    const finished = this.#finished;
    try {
      const value = body();
      this.#db.exec("commit");
      return value;
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec("rollback");
      // What the counter and the cache learnt, the rollback took back.
      this.#finished = finished;
      this.#functions.clear();
      throw error;
    }
  }

  /** `n` more tasks have ended outside `write` (failed on reopening). */
  countFinished(n: number): void {
    this.#finished += n;
  }

  /** `n` finished tasks were removed outside `write` (purged). */
  countRemoved(n: number): void {
    this.#finished -= n;
  }

  /** Functions no task uses any more go (after a purge). */
  dropUnusedFunctions(): void {
    this.#goneSinceSweep = 0;
    this.#db.exec(
      "delete from functions where fn_id not in (select fn_id from tasks)",
    );
    this.#functions.clear();
  }

  #write(task: LiveTask): void {
    const kept = task.pendingPublications();
    const data = task.dataChanged ? task.encoded("data", task.data) : null;
    const notKept = task.notKept();
    this.#upsert.run(
      task.taskId,
      task.clientNo,
      task.inserted ? 0 : this.#functionIdOf(task.ref),
      task.mode,
      task.engineId ?? null,
      task.state,
      task.submitted,
      task.started ?? null,
      task.completed ?? null,
      task.errorMessage ?? null,
      task.publications,
      task.args ?? null,
      task.value ?? null,
      task.error ?? null,
      task.stdout === "" ? null : task.stdout,
      task.stderr === "" ? null : task.stderr,
      task.stdoutCut,
      task.stderrCut,
      data,
      notKept.length === 0 ? null : JSON.stringify(notKept),
    );
    if (task.finished) this.#finished++;
    if (kept.length === 0) return;
    for (const { ord, publication, data } of kept) {
      this.#insertPublication.run(
        task.taskId,
        ord,
        publication.engineId,
        publication.seq,
        publication.time,
        data,
      );
    }
    const first = task.firstKeptPublication;
    if (first > 1) this.#dropPublications.run(task.taskId, first);
  }

  #functionIdOf(ref: string): number {
    let id = this.#functions.get(ref);
    if (id !== undefined) return id;
    const description = describeFunction(JSON.parse(ref) as FunctionRef);
    id = (this.#functionId.get(ref, description) as { fn_id: number }).fn_id;
    // Bounded: a controller that runs ever new sources keeps no map of all.
    if (this.#functions.size >= 4096) this.#functions.clear();
    this.#functions.set(ref, id);
    return id;
  }

  /** The oldest finished tasks past `maxTasks` go, and those past `maxAgeMs`. */
  #retain(): void {
    const { maxTasks, maxAgeMs } = this.#limits;
    let gone = 0;
    if (maxAgeMs !== undefined) {
      gone += Number(this.#dropBefore.run(Date.now() - maxAgeMs).changes);
    }
    const excess = this.#finished - gone - maxTasks;
    if (excess > 0) gone += Number(this.#dropOldest.run(excess).changes);
    this.#finished -= gone;
    // The functions of the tasks gone go too, now and then (a sweep reads
    // every task): a controller that runs ever new sources keeps as many
    // functions as tasks, not every one it ever ran.
    this.#goneSinceSweep += gone;
    if (this.#goneSinceSweep >= SWEEP_EVERY) this.dropUnusedFunctions();
  }

  /** Applies the retention limits now (on opening, when they may be new). */
  retain(): void {
    this.transaction(() => this.#retain());
  }
}
