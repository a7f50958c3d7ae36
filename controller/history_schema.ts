/**
 * The history's database file: made private to its user, opened in WAL
 * mode, recognised as a troupe history (or refused), and its schema created
 * or brought up to date.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { dirname } from "node:path";
import { messageOf } from "../protocol/errors.ts";
import { requirePermission } from "../protocol/require_permission.ts";

/** The schema this troupe writes; a file of a newer one is refused. */
export const SCHEMA_VERSION = 1;

/** What the meta table's `format` row says in every troupe history. */
const FORMAT = "troupe task history";

/**
 * Each version's schema from the one before: `MIGRATIONS[v - 1]` makes
 * version `v`. A new version appends its step; none is ever changed.
 */
const MIGRATIONS: readonly string[] = [
  `
  create table meta (key text primary key, value) without rowid;
  -- One row per distinct function, so that a task run a million times
  -- stores its source once.
  create table functions (
    fn_id integer primary key,
    ref text not null unique,  -- the FunctionRef, as JSON
    fn text not null           -- its short description
  );
  create table tasks (
    task_id integer primary key,
    client_no integer not null,
    fn_id integer not null,
    mode text,                 -- 'map', or null for apply
    engine_id integer,
    state text not null,       -- queued, running, ok, error, aborted
    submitted real not null,   -- ms since the epoch
    started real,
    completed real,            -- set once the task has finished
    error_message text,
    publications integer not null default 0,
    args blob,                 -- encoded; empty when not kept (not_kept says why)
    value blob,
    error blob,                -- an encoded WireError
    stdout text,
    stderr text,
    stdout_cut integer not null default 0,
    stderr_cut integer not null default 0,
    data blob,                 -- the merged published data; empty when not kept
    not_kept text              -- a JSON array of reasons
  );
  create index tasks_by_submitted on tasks (submitted);
  create index tasks_by_completed on tasks (completed)
    where completed is not null;
  create table publications (
    task_id integer not null,
    ord integer not null,      -- 1, 2, ... among the task's publications
    engine_id integer not null,
    seq integer not null,
    time real not null,
    data blob not null,
    primary key (task_id, ord)
  ) without rowid;
  create trigger tasks_gone after delete on tasks begin
    delete from publications where task_id = old.task_id;
  end;
  insert into meta values ('format', '${FORMAT}'), ('nextClientNo', 1);
  `,
];

/**
 * Opens the history at `path` (":memory:" for one that lasts as long as
 * the process), creating the file as its user's alone (mode 0600) if it is
 * new. Refuses clearly a folder that does not exist, a file that is not an
 * SQLite database, one that is not a troupe history, and one written by a
 * newer troupe.
 *
 * @example
 * ```ts
 * import { openHistoryFile } from "./history_schema.ts";
 * const dir = await Deno.makeTempDir();
 * const db = openHistoryFile(`${dir}/history.db`);
 * console.log((await Deno.stat(`${dir}/history.db`)).mode! & 0o777); // 384
 * db.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function openHistoryFile(path: string): DatabaseSync {
  if (path !== ":memory:") makePrivateFile(path);
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path);
  } catch (error) {
    throw new Error(
      `cannot open the task history ${path}: ${messageOf(error)}`,
      {
        cause: error,
      },
    );
  }
  try {
    try {
      // WAL: a flush is one append to the log, and a process killed with
      // kill -9 loses no committed transaction (synchronous = NORMAL
      // leaves only an OS crash or power loss able to lose the last ones).
      db.exec("pragma journal_mode = wal; pragma synchronous = normal");
    } catch (error) {
      throw new Error(
        `${path} is not a troupe task history: SQLite says ` +
          `"${messageOf(error)}"; give the controller another --db path ` +
          `(or move that file away)`,
        { cause: error },
      );
    }
    // Another process (a second controller, an sqlite3 shell) may hold
    // the file for a moment.
    db.exec("pragma busy_timeout = 5000");
    migrate(db, path);
    giveIdentity(db);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/** Creates the schema, or checks the file's and brings it up to date. */
function migrate(db: DatabaseSync, path: string): void {
  const tables = (db.prepare(
    "select name from sqlite_master where type = 'table' order by name",
  ).all() as { name: string }[]).map((row) => row.name);
  let version = 0;
  if (tables.length > 0) {
    const notOurs = `${path} is an SQLite database but not a troupe task ` +
      `history (its tables: ${tables.join(", ")}); give the controller ` +
      `another --db path`;
    if (!tables.includes("meta")) throw new Error(notOurs);
    const meta = new Map(
      (db.prepare("select key, value from meta").all() as {
        key: string;
        value: unknown;
      }[]).map((row) => [row.key, row.value]),
    );
    if (meta.get("format") !== FORMAT) throw new Error(notOurs);
    version = Number(meta.get("version") ?? 1);
    if (version > SCHEMA_VERSION) {
      throw new Error(
        `${path} is a troupe task history of a newer troupe (schema ` +
          `version ${version}; this one reads up to ${SCHEMA_VERSION}): ` +
          `run the newer troupe, or give this one another --db path`,
      );
    }
  }
  if (version === SCHEMA_VERSION) return;
  db.exec("begin immediate");
  try {
    for (let v = version + 1; v <= SCHEMA_VERSION; v++) {
      db.exec(MIGRATIONS[v - 1]);
    }
    db.prepare("insert or replace into meta values ('version', ?)").run(
      SCHEMA_VERSION,
    );
    db.exec("commit");
  } catch (error) {
    db.exec("rollback");
    throw new Error(
      `cannot set up the task history ${path}: ${messageOf(error)}`,
      { cause: error },
    );
  }
}

/**
 * The history's identity: a random id made when the database is created
 * (or first opened by a troupe that knows of it) and kept in its meta
 * table. Task ids start again at client 1 in a new database, so a saved
 * result names its history by this id, and a controller on another
 * database refuses to resume it rather than follow another task that got
 * the same id.
 *
 * @example
 * ```ts
 * import { historyIdOf, openHistoryFile } from "./history_schema.ts";
 * const db = openHistoryFile(":memory:");
 * console.log(historyIdOf(db).length); // 36
 * db.close();
 * ```
 */
export function historyIdOf(db: DatabaseSync): string {
  const row = db.prepare(
    "select value from meta where key = 'historyId'",
  ).get() as { value: unknown } | undefined;
  if (typeof row?.value !== "string") {
    throw new Error(
      "this task history has no historyId in its meta table: open it " +
        "with openHistoryFile, which gives it one",
    );
  }
  return row.value;
}

/**
 * Gives the database its identity if it has none. A row of the meta table,
 * not a schema step: a troupe that does not know of it reads the file
 * unchanged. `insert or ignore`, so that two processes opening the same
 * new file at once agree on the one that won.
 */
function giveIdentity(db: DatabaseSync): void {
  db.prepare("insert or ignore into meta values ('historyId', ?)").run(
    crypto.randomUUID(),
  );
}

/**
 * The file exists and only its user may read it: created with mode 0600
 * if new (SQLite gives its -wal and -shm files the same mode), closed to
 * others if it was open to them.
 */
function makePrivateFile(path: string): void {
  const folder = dirname(path);
  const flag = `--allow-read=${folder} --allow-write=${folder}`;
  for (const name of ["read", "write"] as const) {
    // The folder too: SQLite puts the -wal and -shm files beside it.
    requirePermission(
      { name, path: folder },
      flag,
      `the task history ${path} and its -wal and -shm files go in ${folder}`,
    );
  }
  try {
    Deno.openSync(path, { write: true, createNew: true, mode: 0o600 })
      .close();
    return;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        `cannot create the task history ${path}: the folder ${folder} does ` +
          `not exist; create it first or choose a --db path in a folder ` +
          `that exists`,
        { cause: error },
      );
    }
    if (!(error instanceof Deno.errors.AlreadyExists)) {
      throw new Error(
        `cannot create the task history ${path}: ${messageOf(error)}`,
        { cause: error },
      );
    }
  }
  const info = Deno.statSync(path);
  if (!info.isFile) {
    throw new Error(
      `${path} is not a file, so it cannot be a task history; give the ` +
        `controller another --db path`,
    );
  }
  if (((info.mode ?? 0) & 0o077) !== 0) Deno.chmodSync(path, 0o600);
}
