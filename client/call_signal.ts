/**
 * A call's `signal` (`view.with({ signal })`): the result it makes aborts
 * when the signal does, as `ar.abort()` does.
 *
 * @module
 */

import { TaskAbortedError } from "../protocol/errors.ts";
import { AsyncResult, type ResultPlan, TaskRecord } from "./async_result.ts";
import type { RecordListener } from "./task_record.ts";

/**
 * The result of `plan`, tied to `signal`: aborting the signal aborts the
 * tasks not yet finished (`ar.abort()`), and the listener is removed once
 * every task has finished, so that one long-lived signal given to many
 * calls holds none of them. A signal aborted already submits nothing: the
 * result has one record per entry of `engineIds` (the engine each task was
 * for: a direct call's targets, -1 for a load-balanced task), each failed
 * with a `TaskAbortedError` (as a piscina call rejects at once), numbered by
 * `nextTaskId`.
 *
 * @example
 * ```ts
 * import { signalledResult } from "./call_signal.ts";
 * let next = 0;
 * const ar = signalledResult(
 *   { single: true, start: () => [], abort() {} },
 *   AbortSignal.abort(),
 *   [-1],
 *   () => next++,
 * );
 * console.log(await ar.catch((e) => (e as Error).name)); // TaskAbortedError
 * ```
 */
// deno-lint-ignore no-explicit-any
export function signalledResult<R extends AsyncResult<any, any>>(
  plan: ResultPlan,
  signal: AbortSignal | undefined,
  engineIds: readonly number[],
  nextTaskId: () => number,
): R {
  if (signal === undefined) return new AsyncResult(plan) as R;
  if (signal.aborted) {
    const result = new AsyncResult({
      ...plan,
      start: (listener) =>
        abortedRecords(engineIds, nextTaskId, listener, signal),
    });
    // The caller asked for the abort, as with ar.abort(): its failure is
    // no surprise to report as unobserved.
    void result.abort();
    return result as R;
  }
  let finished = 0;
  let total = Infinity;
  let fired = false;
  const onAbort = () => {
    fired = true;
    void result.abort();
  };
  const start = plan.start;
  const result = new AsyncResult({
    ...plan,
    start: (listener) => {
      const records = start({
        published: (publication) => listener.published(publication),
        finished(record) {
          // The core aborted it for us, and knows nothing of the signal:
          // the reason the caller gave is its cause, queued or running.
          if (fired) blameSignal(record, signal);
          listener.finished(record);
          if (++finished === total) {
            signal.removeEventListener("abort", onAbort);
          }
        },
      });
      total = records.length;
      return records;
    },
  }) as R;
  if (finished < total) signal.addEventListener("abort", onAbort);
  return result;
}

function abortedRecords(
  engineIds: readonly number[],
  nextTaskId: () => number,
  listener: RecordListener,
  signal: AbortSignal,
): TaskRecord[] {
  const records: TaskRecord[] = [];
  for (const engineId of engineIds) {
    const record = new TaskRecord(engineId, nextTaskId(), listener);
    // The engine it was for, as an aborted queued task's error says.
    const error = new TaskAbortedError({
      taskId: record.taskId,
      ...(engineId >= 0 ? { engineId } : {}),
      cause: signal.reason,
      bySignal: true,
    });
    record.done({ ok: false, error });
    records.push(record);
  }
  return records;
}

/**
 * What a direct view's namespace call (`push`, `pull`, `execute`,
 * `scatter`, `gather`) awaits: `result`'s value; but with a `signal`
 * aborted at the call, which sent nothing anywhere, the one
 * `TaskAbortedError` (its `cause` the reason) rather than a
 * `CompositeError` of one per engine. Call it as the result is made.
 *
 * @example
 * ```ts
 * import { TaskAbortedError } from "@troupe/parallel";
 * import { namespaceCall } from "./call_signal.ts";
 * const reason = new Error("stop");
 * const aborted = new TaskAbortedError({ taskId: 1, cause: reason });
 * const failed = Promise.reject(new AggregateError([aborted, aborted]));
 * const error = await namespaceCall(failed, AbortSignal.abort(reason))
 *   .catch((e) => e);
 * console.log(error === aborted); // true
 * ```
 */
export async function namespaceCall<T>(
  result: PromiseLike<T>,
  signal: AbortSignal | undefined,
): Promise<T> {
  const early = signal?.aborted === true;
  try {
    return await result;
  } catch (error) {
    const first = (error as { errors?: unknown[] }).errors?.[0];
    if (early && first instanceof TaskAbortedError) throw first;
    throw error;
  }
}

/** `record`'s abort, if it was aborted, said as its signal's doing. */
function blameSignal(record: TaskRecord, signal: AbortSignal): void {
  const outcome = record.outcome;
  if (outcome?.ok !== false) return;
  const error = outcome.error;
  if (!(error instanceof TaskAbortedError) || error.cause !== undefined) return;
  record.outcome = {
    ...outcome,
    error: new TaskAbortedError({
      taskId: error.taskId,
      ...(error.engineId === undefined ? {} : { engineId: error.engineId }),
      cause: signal.reason,
      bySignal: true,
    }),
  };
}
