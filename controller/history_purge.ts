/**
 * Removing finished tasks from the history on request (`client.purge`).
 *
 * @module
 */

import type { DatabaseSync } from "node:sqlite";
import { checkOptions } from "../protocol/check_options.ts";
import { PURGE_FILTER_OPTIONS, type PurgeFilter } from "../remote/wire.ts";
import { checkTaskIds } from "./history_queries.ts";
import type { HistoryWriter } from "./history_writes.ts";

/**
 * Removes the finished tasks `filter` selects (every field narrows it) in
 * one transaction and returns how many; the caller has flushed. An empty
 * filter, and one naming an unfinished task, are errors that remove
 * nothing.
 *
 * @example
 * ```ts
 * import { openHistoryFile } from "./history_schema.ts";
 * import { HistoryWriter } from "./history_writes.ts";
 * import { purgeFinished } from "./history_purge.ts";
 * const db = openHistoryFile(":memory:");
 * const writer = new HistoryWriter(db, {
 *   maxTasks: 10, maxAgeMs: undefined, maxPublicationsPerTask: 10,
 *   maxValueBytes: 1024, maxStreamBytes: 1024,
 * });
 * console.log(purgeFinished(db, writer, { all: true })); // 0
 * db.close();
 * ```
 */
export function purgeFinished(
  db: DatabaseSync,
  writer: HistoryWriter,
  filter: PurgeFilter,
): number {
  checkOptions("the purge filter", filter, PURGE_FILTER_OPTIONS);
  const { taskIds, before, all } = filter ?? {};
  if (taskIds === undefined && before === undefined && all !== true) {
    throw new TypeError(
      "purge needs a filter: { taskIds: [...] }, { before: time } or " +
        "{ all: true } (every finished task); an empty one removes nothing",
    );
  }
  if (
    before !== undefined && (typeof before !== "number" || Number.isNaN(before))
  ) {
    throw new TypeError(
      `purge's before must be a time in ms since the epoch, got ${
        String(before)
      }`,
    );
  }
  const where = ["completed is not null"];
  const params: (number | string)[] = [];
  if (taskIds !== undefined) {
    const ids = JSON.stringify(checkTaskIds("purge", taskIds));
    const unfinished = db.prepare(
      `select task_id, state from tasks where completed is null and
        task_id in (select value from json_each(?)) limit 5`,
    ).all(ids) as { task_id: number; state: string }[];
    if (unfinished.length > 0) {
      throw new Error(
        `purge removes finished tasks only, and ${
          unfinished.map((t) => `task ${t.task_id} is ${t.state}`).join(", ")
        }: abort it or wait for it; nothing was removed`,
      );
    }
    where.push("task_id in (select value from json_each(?))");
    params.push(ids);
  }
  if (before !== undefined) {
    where.push("completed < ?");
    params.push(before);
  }
  return writer.transaction(() => {
    const gone = Number(
      db.prepare(`delete from tasks where ${where.join(" and ")}`)
        .run(...params).changes,
    );
    writer.countRemoved(gone);
    writer.dropUnusedFunctions();
    return gone;
  });
}
