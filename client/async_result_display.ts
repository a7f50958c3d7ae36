/**
 * How an `AsyncResult` presents itself: one line for `console.log` and
 * `Deno.inspect` (ipyparallel's repr), and a table for Jupyter notebooks.
 *
 * @module
 */

import type { TaskRecord, TaskStatus } from "./task_record.ts";

/** One task, as the presentation needs it. */
export interface TaskSummary {
  /** The engine it runs on; -1 while a load-balanced task waits for one. */
  engineId: number;
  /** The task's id. */
  taskId: number;
  /** Where it is now. */
  status: TaskStatus;
  /** Why it failed, once it has. */
  error: Error | null;
  /** Its publications, merged key by key. */
  data: Record<string, unknown>;
}

/**
 * What is shown of one task, taken from its record.
 *
 * @example
 * ```ts
 * import { taskSummary } from "./async_result_display.ts";
 * import { TaskRecord } from "./task_record.ts";
 * const record = new TaskRecord(0, 1, { published() {}, finished() {} });
 * console.log(taskSummary(record).status); // "queued"
 * ```
 */
export function taskSummary(record: TaskRecord): TaskSummary {
  const outcome = record.outcome;
  return {
    engineId: record.engineId,
    taskId: record.taskId,
    status: record.status,
    error: outcome && !outcome.ok ? outcome.error : null,
    data: record.data,
  };
}

/**
 * What is shown of a result: taken fresh each time it is shown.
 *
 * @example
 * ```ts
 * import type { ResultSummary } from "./async_result_display.ts";
 * const summary: ResultSummary = {
 *   ready: false,
 *   progress: 0,
 *   total: 1,
 *   elapsed: 12,
 *   tasks: [{ engineId: 0, taskId: 1, status: "running", error: null, data: {} }],
 * };
 * ```
 */
export interface ResultSummary {
  /** Every task has finished. */
  ready: boolean;
  /** Finished so far: tasks for `apply`, items for `map`. */
  progress: number;
  /** What `progress` counts up to. */
  total: number;
  /** Milliseconds since submission, frozen at completion. */
  elapsed: number;
  /** Each task, in task order. */
  tasks: TaskSummary[];
}

/**
 * What is shown of a result now: its counts, and each of its `records`.
 *
 * @example
 * ```ts
 * import { resultSummary } from "./async_result_display.ts";
 * import { TaskRecord } from "./task_record.ts";
 * const record = new TaskRecord(0, 1, { published() {}, finished() {} });
 * const result = { ready: () => false, progress: 0, elapsed: 12 };
 * console.log(resultSummary(result, 1, [record]).tasks[0].status); // "queued"
 * ```
 */
export function resultSummary(
  result: { ready(): boolean; progress: number; elapsed: number },
  total: number,
  records: readonly TaskRecord[],
): ResultSummary {
  return {
    ready: result.ready(),
    progress: result.progress,
    total,
    elapsed: result.elapsed,
    tasks: records.map(taskSummary),
  };
}

/**
 * The result's state in one word, as ipyparallel's repr says it: `pending`
 * until every task has finished, then `done`, `failed`, or `aborted` (every
 * failure was an abort).
 *
 * @example
 * ```ts
 * import { resultState } from "./async_result_display.ts";
 * console.log(resultState({ ready: false, progress: 0, total: 1, elapsed: 0, tasks: [] })); // "pending"
 * ```
 */
export function resultState(summary: ResultSummary): string {
  if (!summary.ready) return "pending";
  const failed = summary.tasks.filter((t) => t.error);
  if (failed.length === 0) return "done";
  return failed.every((t) => t.status === "aborted") ? "aborted" : "failed";
}

/**
 * The line `console.log(ar)` and `Deno.inspect(ar)` print, e.g.
 * `AsyncResult { pending, engines [0, 1], 1/2 done, 120 ms }`; a failed
 * result adds its first error.
 *
 * @example
 * ```ts
 * import { inspectResult } from "./async_result_display.ts";
 * console.log(inspectResult({
 *   ready: false,
 *   progress: 1,
 *   total: 2,
 *   elapsed: 120,
 *   tasks: [
 *     { engineId: 0, taskId: 1, status: "ok", error: null, data: {} },
 *     { engineId: 1, taskId: 2, status: "running", error: null, data: {} },
 *   ],
 * })); // AsyncResult { pending, engines [0, 1], 1/2 done, 120 ms }
 * ```
 */
export function inspectResult(summary: ResultSummary): string {
  const parts = [
    resultState(summary),
    engineList(summary.tasks),
    `${summary.progress}/${summary.total} done`,
    duration(summary.elapsed),
  ];
  const errors = summary.tasks.flatMap((t) => t.error ? [t.error] : []);
  if (errors.length > 0) {
    const first = clip(`${errors[0].name}: ${errors[0].message}`, 160);
    parts.push(
      errors.length === 1 ? `error ${first}` : `${errors.length} errors, ` +
        `first ${first}`,
    );
  }
  return `AsyncResult { ${parts.join(", ")} }`;
}

/**
 * What Deno's Jupyter kernel shows: the state, progress, each task's engine
 * and state, and its latest published data, as HTML and as plain text.
 *
 * @example
 * ```ts
 * import { notebookBundle } from "./async_result_display.ts";
 * const bundle = notebookBundle({ ready: true, progress: 0, total: 0, elapsed: 5, tasks: [] });
 * console.log(bundle["text/plain"]); // "AsyncResult: done, 0/0 done"
 * ```
 */
export function notebookBundle(
  summary: ResultSummary,
): Record<string, string> {
  const { progress: done, total } = summary;
  const state = resultState(summary);
  const rows = summary.tasks.map((t) => ({
    engine: t.engineId,
    task: t.taskId,
    status: t.status,
    data: Object.entries(t.data).map(([k, v]) => `${k}: ${preview(v)}`)
      .join(", "),
  }));
  const html = `<div><b>AsyncResult</b>: ${state}, ${done} of ${total} ` +
    `done, ${(summary.elapsed / 1000).toFixed(1)} s` +
    `<progress value="${done}" max="${total}" style="margin-left:8px">` +
    `</progress><table><tr><th>engine</th><th>task</th><th>state</th>` +
    `<th>latest data</th></tr>${
      rows.map((r) =>
        `<tr><td>${r.engine}</td><td>${r.task}</td><td>${r.status}</td>` +
        `<td>${escapeHtml(r.data)}</td></tr>`
      ).join("")
    }</table></div>`;
  const text = [
    `AsyncResult: ${state}, ${done}/${total} done`,
    ...rows.map((r) =>
      `  engine ${r.engine} task ${r.task}: ${r.status}  ${r.data}`
    ),
  ].join("\n");
  return { "text/html": html, "text/plain": text };
}

/** The engines in first-use order; tasks still waiting for one say so. */
function engineList(tasks: TaskSummary[]): string {
  const ids = [...new Set(tasks.map((t) => t.engineId))];
  const assigned = ids.filter((id) => id >= 0);
  const waiting = ids.length > assigned.length;
  if (assigned.length === 0) return waiting ? "no engine yet" : "engines []";
  return `engines [${assigned.join(", ")}]${waiting ? " and queued" : ""}`;
}

/**
 * Milliseconds as a person reads them: `120 ms`, `1.2 s`, `2 min 5 s`.
 *
 * @example
 * ```ts
 * import { duration } from "./async_result_display.ts";
 * console.log(duration(1234)); // 1.2 s
 * ```
 */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;" })[c]!,
  );
}

/** A short text for a published value: arrays show their start. */
function preview(value: unknown): string {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const items = Array.from(value as unknown as ArrayLike<number>);
    const head = items.slice(0, 4).map((x) =>
      typeof x === "number" ? Number(x.toPrecision(4)) : x
    );
    return `${value.constructor.name}(${items.length}) [${head.join(", ")}${
      items.length > 4 ? ", …" : ""
    }]`;
  }
  try {
    return clip(JSON.stringify(value) ?? String(value), 80);
  } catch {
    return String(value);
  }
}
