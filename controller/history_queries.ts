/**
 * Reading the history: a `HistoryQuery` checked and turned into SQL, rows
 * turned into `TaskSummary`s.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import { checkOptions } from "../protocol/check_options.ts";
import type { Publication } from "../protocol/publication.ts";
import {
  HISTORY_QUERY_OPTIONS,
  type HistoryQuery,
  TASK_ID_BLOCK,
  type TaskState,
  type TaskSummary,
  type WireError,
} from "../remote/wire.ts";
import { decodeValue } from "../transport/codec.ts";
import { counted } from "../protocol/counted.ts";

/** Every state, in a task's order. */
const STATES: readonly TaskState[] = [
  "queued",
  "running",
  "ok",
  "error",
  "aborted",
];

/** How many a query answers when it does not say. */
const DEFAULT_LIMIT = 10_000;

const LIGHT = `t.task_id, t.client_no, t.engine_id, t.state, f.fn,
  t.submitted, t.started, t.completed, t.error_message, t.publications,
  t.not_kept, t.stdout_cut, t.stderr_cut`;
const HEAVY = "t.args, t.value, t.error, t.stdout, t.stderr, t.data";

interface Row {
  task_id: number;
  client_no: number;
  engine_id: number | null;
  state: TaskState;
  fn: string;
  submitted: number;
  started: number | null;
  completed: number | null;
  error_message: string | null;
  publications: number;
  not_kept: string | null;
  stdout_cut: number;
  stderr_cut: number;
  args?: Uint8Array | null;
  value?: Uint8Array | null;
  error?: Uint8Array | null;
  stdout?: string | null;
  stderr?: string | null;
  data?: Uint8Array | null;
}

/**
 * The history's reads, on statements prepared once per shape of query.
 *
 * @example
 * ```ts
 * import { openHistoryFile } from "./history_schema.ts";
 * import { HistoryReader } from "./history_queries.ts";
 * const db = openHistoryFile(":memory:");
 * console.log(new HistoryReader(db).query({ state: "error" })); // []
 * db.close();
 * ```
 */
export class HistoryReader {
  #db: DatabaseSync;
  #statements = new Map<string, StatementSync>();
  #kept: StatementSync;
  #has: StatementSync;
  #maxInBlock: StatementSync;
  /** By block of ids (a client's): the highest id submitted in it. */
  #highest = new Map<number, number>();

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#kept = db.prepare(
      `select engine_id, seq, time, data from publications
        where task_id = ? order by ord`,
    );
    this.#has = db.prepare("select 1 from tasks where task_id = ?");
    this.#maxInBlock = db.prepare(
      `select max(task_id) as highest from tasks
        where task_id >= ? and task_id < ?`,
    );
  }

  /**
   * Whether the database has the task. An id above every id of its block
   * (a client's next task) needs no lookup: a task per lookup would cost
   * the controller as much as writing it.
   */
  has(taskId: number): boolean {
    if (taskId > this.#highestOf(taskId)) return false;
    return this.#has.get(taskId) !== undefined;
  }

  /**
   * Whether `taskId` is at or below the highest id its block has had: a
   * purge (or the `maxTasks` cut) removes rows, never this mark, so that
   * an id is taken once.
   */
  used(taskId: number): boolean {
    return taskId <= this.#highestOf(taskId);
  }

  /** A task with this id was submitted. */
  noted(taskId: number): void {
    if (taskId > this.#highestOf(taskId)) {
      this.#highest.set(Math.floor(taskId / TASK_ID_BLOCK), taskId);
    }
  }

  /** The highest id the history has had in `taskId`'s block. */
  #highestOf(taskId: number): number {
    const block = Math.floor(taskId / TASK_ID_BLOCK);
    let highest = this.#highest.get(block);
    if (highest === undefined) {
      const row = this.#maxInBlock.get(
        block * TASK_ID_BLOCK,
        (block + 1) * TASK_ID_BLOCK,
      ) as { highest: number | null };
      highest = row.highest ?? -Infinity;
      this.#highest.set(block, highest);
    }
    return highest;
  }

  /** Every task id, in submission order. */
  ids(): number[] {
    const rows = this.#statement(
      "select task_id from tasks order by submitted, task_id",
    ).all() as { task_id: number }[];
    return rows.map((row) => row.task_id);
  }

  /**
   * The tasks `query` selects, in submission order; when more match than
   * its `limit`, the newest of them.
   */
  query(query: HistoryQuery): TaskSummary[] {
    const { where, params, limit, full } = toSql(query);
    const sql = `select ${LIGHT}${full ? `, ${HEAVY}` : ""}
      from tasks t join functions f using (fn_id)
      ${where.length ? `where ${where.join(" and ")}` : ""}
      order by t.submitted desc, t.task_id desc limit ?`;
    const rows = this.#statement(sql).all(...params, limit) as unknown[];
    return (rows as Row[]).reverse().map((row) => this.#summary(row, full));
  }

  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #summary(row: Row, full: boolean): TaskSummary {
    const task: TaskSummary = {
      taskId: row.task_id,
      clientNo: row.client_no,
      state: row.state,
      fn: row.fn,
      submitted: row.submitted,
      publications: row.publications,
    };
    if (row.engine_id !== null) task.engineId = row.engine_id;
    if (row.started !== null) task.started = row.started;
    if (row.completed !== null) task.completed = row.completed;
    if (row.error_message !== null) task.errorMessage = row.error_message;
    if (row.not_kept !== null) task.notKept = JSON.parse(row.not_kept);
    if (!full) return task;
    if (row.args?.byteLength) task.args = decodeValue(row.args) as unknown[];
    if (row.value?.byteLength) task.value = decodeValue(row.value);
    if (row.error?.byteLength) task.error = decodeValue(row.error) as WireError;
    task.stdout = withCut(row.stdout ?? "", row.stdout_cut, "stdout");
    task.stderr = withCut(row.stderr ?? "", row.stderr_cut, "stderr");
    if (row.data?.byteLength) {
      task.data = decodeValue(row.data) as Record<string, unknown>;
    }
    const kept = this.#kept.all(row.task_id) as {
      engine_id: number;
      seq: number;
      time: number;
      data: Uint8Array;
    }[];
    task.kept = kept.map((p): Publication => ({
      engineId: p.engine_id,
      taskId: row.task_id,
      seq: p.seq,
      time: p.time,
      data: decodeValue(p.data) as Record<string, unknown>,
    }));
    return task;
  }
}

/** A stream whose end was cut says so where it stops. */
function withCut(text: string, cut: number, name: string): string {
  if (cut === 0) return text;
  return `${text}\n[troupe: ${counted(cut, "more byte")} of ${name} cut here ` +
    `(the history's maxStreamBytes)]\n`;
}

/** `query` checked, as SQL conditions on the tasks table `t`. */
function toSql(query: HistoryQuery): {
  where: string[];
  params: (number | string)[];
  limit: number;
  full: boolean;
} {
  if (typeof query !== "object" || query === null) {
    throw new TypeError(
      `a history query is an object such as { state: "error" }, got ` +
        `${query === null ? "null" : typeof query}`,
    );
  }
  checkOptions("the history query", query, HISTORY_QUERY_OPTIONS);
  const where: string[] = [];
  const params: (number | string)[] = [];
  if (query.state !== undefined) {
    const states = Array.isArray(query.state) ? query.state : [query.state];
    for (const state of states) {
      if (!STATES.includes(state)) {
        throw new TypeError(
          `the history query's state ${JSON.stringify(state)} is no task ` +
            `state; use one of ${STATES.join(", ")} (or a list of them)`,
        );
      }
    }
    where.push("t.state in (select value from json_each(?))");
    params.push(JSON.stringify(states));
  }
  if (query.engineId !== undefined) {
    if (!Number.isInteger(query.engineId)) {
      throw new TypeError(
        `the history query's engineId must be an engine's id (an ` +
          `integer), got ${String(query.engineId)}`,
      );
    }
    where.push("t.engine_id = ?");
    params.push(query.engineId);
  }
  for (const [name, op] of [["since", ">="], ["until", "<"]] as const) {
    const time = query[name];
    if (time === undefined) continue;
    if (typeof time !== "number" || Number.isNaN(time)) {
      throw new TypeError(
        `the history query's ${name} must be a time in ms since the ` +
          `epoch (Date.now()), got ${String(time)}`,
      );
    }
    where.push(`t.submitted ${op} ?`);
    params.push(time);
  }
  if (query.taskIds !== undefined) {
    where.push(`t.task_id in (select value from json_each(?))`);
    params.push(
      JSON.stringify(checkTaskIds("the history query", query.taskIds)),
    );
  }
  const limit = query.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new TypeError(
      `the history query's limit must be a whole number of tasks, at ` +
        `least 1, got ${String(limit)}`,
    );
  }
  return { where, params, limit, full: query.full === true };
}

/**
 * `taskIds`, checked to be a list of task ids (integers).
 *
 * @example
 * ```ts
 * import { checkTaskIds } from "./history_queries.ts";
 * console.log(checkTaskIds("purge", [1, 2])); // [1, 2]
 * ```
 */
export function checkTaskIds(what: string, taskIds: unknown): number[] {
  if (!Array.isArray(taskIds) || !taskIds.every(Number.isInteger)) {
    throw new TypeError(
      `${what}'s taskIds must be a list of task ids (integers, as ` +
        `ar.taskIds gives), got ${
          Array.isArray(taskIds) ? JSON.stringify(taskIds) : typeof taskIds
        }`,
    );
  }
  return taskIds;
}
