/**
 * Failed results that nobody looked at: a client says so, once each.
 *
 * @module
 */

/**
 * Where an `AsyncResult` reports that it failed while nothing had observed
 * its outcome (no `await`, `then`, `catch`, `get`, `wait`, `successful`,
 * `metadata`, iteration or `abort`).
 *
 * @example
 * ```ts
 * import type { FailureWatch } from "./unobserved_failures.ts";
 * function settled(watch: FailureWatch, result: object) {
 *   const withdraw = watch.unobserved(result, "task 1 failed");
 *   withdraw(); // somebody looked after all
 * }
 * ```
 */
export interface FailureWatch {
  /**
   * `result` failed and nothing has observed it yet; `report` says so.
   * Returns the function to call once something does: the report is then
   * never made.
   */
  unobserved(result: object, report: string): () => void;
}

/**
 * A client's record of failed results that nothing observed. Each is
 * reported once through `log`, at the first of: the result being garbage
 * collected, the client closing, the process exiting. None of them fires
 * for a result that is awaited later, however much later, while it is still
 * reachable and the client open: a timer after settling would, and a
 * script that submits, does other work, then awaits is correct.
 *
 * Not an unhandled rejection: Deno ends the process on one, and a failed
 * `AsyncResult` is a handle to look at later (`ready()`, `metadata`, as in
 * ipyparallel), not a promise that someone forgot.
 *
 * @example
 * ```ts
 * import { UnobservedFailures } from "./unobserved_failures.ts";
 * const failures = new UnobservedFailures((line) => console.warn(line));
 * failures.unobserved({}, "troupe: task 1 failed and nothing awaited it");
 * failures.close(); // reports it
 * ```
 */
export class UnobservedFailures implements FailureWatch {
  #log: (line: string) => void;
  /** Reports not yet made, by a token that does not hold the result. */
  #pending = new Map<object, string>();
  #collected = new FinalizationRegistry<object>((token) => this.#report(token));
  #closed = false;
  #onUnload = () => this.#reportAll();

  /** Starts watching; reports go to `log`. */
  constructor(log: (line: string) => void) {
    this.#log = log;
    globalThis.addEventListener("unload", this.#onUnload);
  }

  unobserved(result: object, report: string): () => void {
    // Failures caused by closing the client are the closer's own doing.
    if (this.#closed) return () => {};
    const token = {};
    this.#pending.set(token, report);
    this.#collected.register(result, token, token);
    return () => {
      this.#pending.delete(token);
      this.#collected.unregister(token);
    };
  }

  /**
   * Reports what is still unobserved, and watches no more: the client is
   * closing. Call it before closing ends the tasks still running.
   */
  close(): void {
    this.#closed = true;
    this.#reportAll();
    globalThis.removeEventListener("unload", this.#onUnload);
  }

  #reportAll(): void {
    for (const token of [...this.#pending.keys()]) this.#report(token);
  }

  #report(token: object): void {
    const report = this.#pending.get(token);
    if (report === undefined) return;
    this.#pending.delete(token);
    this.#collected.unregister(token);
    try {
      this.#log(report);
    } catch {
      // A broken log must not break closing or exiting.
    }
  }
}

/**
 * The report for a failed result: which tasks on which engines, the first
 * error, and how to handle it or silence it; `undefined` when none failed.
 *
 * @example
 * ```ts
 * import { unobservedReport } from "./unobserved_failures.ts";
 * console.log(unobservedReport([
 *   { engineId: 1, taskId: 3, outcome: { ok: false, error: new Error("boom") } },
 * ]));
 * ```
 */
export function unobservedReport(
  records: readonly {
    engineId: number;
    taskId: number;
    outcome?: { ok: true } | { ok: false; error: Error };
  }[],
): string | undefined {
  const failed = records.flatMap((r) =>
    r.outcome && !r.outcome.ok
      ? [{ engineId: r.engineId, taskId: r.taskId, error: r.outcome.error }]
      : []
  );
  if (failed.length === 0) return undefined;
  const list = (name: string, values: number[]) => {
    const unique = [...new Set(values)];
    const shown = unique.slice(0, 8).join(", ") +
      (unique.length > 8 ? `, … (${unique.length})` : "");
    return `${name}${unique.length === 1 ? "" : "s"} ${shown}`;
  };
  const first = failed[0].error;
  const more = failed.length > 1
    ? ` (and ${failed.length - 1} more failed task${
      failed.length > 2 ? "s" : ""
    })`
    : "";
  return `troupe: ${list("task", failed.map((f) => f.taskId))} on ` +
    `${list("engine", failed.map((f) => f.engineId))} failed, and nothing ` +
    `awaited the AsyncResult: ${first.name}: ${first.message}${more}. ` +
    "Await it (await ar, ar.get()) to handle the error, or call " +
    "ar.catch(() => {}) to ignore it.";
}
