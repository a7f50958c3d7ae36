/**
 * The errors a troupe task can end with, named as in ipyparallel.
 *
 * @module
 */

/** An error as it crosses from an engine to the client: plain data. */
export interface ErrorInfo {
  /** The constructor name on the engine, e.g. `"TypeError"`. */
  name: string;
  /** The message, with troupe's hint appended where one helps. */
  message: string;
  /** The engine's stack trace, when it had one. */
  stack?: string;
}

/**
 * Where a `RemoteError` happened, and what the client adds to it.
 *
 * @example
 * ```ts
 * import type { RemoteErrorOptions } from "@troupe/parallel";
 * const where: RemoteErrorOptions = { engineId: 0, taskId: 7 };
 * ```
 */
export interface RemoteErrorOptions extends ErrorOptions {
  /** The engine the task ran on. */
  engineId: number;
  /** The task that failed. */
  taskId: number;
  /** What the client knows about the failure; it ends the message. */
  hint?: string;
}

/**
 * The task threw (or its promise rejected) on an engine.
 *
 * @example
 * ```ts
 * import { RemoteError } from "@troupe/parallel";
 * const e = new RemoteError(
 *   { name: "TypeError", message: "x is null" },
 *   { engineId: 0, taskId: 7 },
 * );
 * console.log(e.message); // "engine 0, task 7: TypeError: x is null"
 * ```
 */
export class RemoteError extends Error {
  /** The engine the task ran on. */
  readonly engineId: number;
  /** The task that failed. */
  readonly taskId: number;
  /** The error's name on the engine. */
  readonly remoteName: string;
  /** The error's message on the engine. */
  readonly remoteMessage: string;
  /** The engine's stack trace (empty when the engine had none). */
  readonly remoteStack: string;

  /**
   * Builds the client-side error from what the engine reported. `hint`, what
   * the client knows about the failure (e.g. that the engine restarted since
   * a missing value was pushed), ends the message; `remoteMessage` stays the
   * engine's own.
   */
  constructor(info: ErrorInfo, options: RemoteErrorOptions) {
    const { engineId, taskId, hint } = options;
    const stop = hint && !/[.!?]$/.test(info.message) ? "." : "";
    super(
      `engine ${engineId}, task ${taskId}: ${info.name}: ${info.message}` +
        (hint ? `${stop} ${hint}` : ""),
      { cause: options.cause },
    );
    this.name = "RemoteError";
    this.engineId = engineId;
    this.taskId = taskId;
    this.remoteName = info.name;
    this.remoteMessage = info.message;
    this.remoteStack = info.stack ?? "";
  }
}

/**
 * Which engine and task an `EngineError` is about, and what to advise.
 *
 * @example
 * ```ts
 * import type { EngineErrorOptions } from "@troupe/parallel";
 * const lost: EngineErrorOptions = { engineId: 2, taskId: 5 };
 * ```
 */
export interface EngineErrorOptions extends ErrorOptions {
  /** The engine that died. */
  engineId: number;
  /** The task that was lost, when the error is about one task. */
  taskId?: number;
  /**
   * What to do, ending the message. By default: run the task again, and
   * look at what it does to its engine.
   */
  advice?: string;
}

/**
 * The engine died while the task was queued on it or running on it (crash,
 * exit, lost heartbeat, lost connection, or the client closed). The task
 * never ran to completion; run it again if it is safe to.
 *
 * @example
 * ```ts
 * import { EngineError } from "@troupe/parallel";
 * const e = new EngineError("the Worker exited with code 1", {
 *   engineId: 2,
 *   taskId: 5,
 * });
 * console.log(e.engineId, e.reason);
 * ```
 */
export class EngineError extends Error {
  /** The engine that died. */
  readonly engineId: number;
  /** Why the engine is gone, in words. */
  readonly reason: string;
  /** The task that was lost, when the error is about one task. */
  readonly taskId?: number;

  /**
   * `reason` says what happened; the message adds `advice`, what to do
   * (by default: run the task again, and look at what it does to its engine).
   */
  constructor(reason: string, options: EngineErrorOptions) {
    const {
      engineId,
      taskId,
      advice = "Run the task again; if it keeps failing, look at " +
        "what the task does to its engine (memory, exits, unhandled errors).",
    } = options;
    const what = taskId === undefined ? "" : `; task ${taskId} did not finish`;
    super(`engine ${engineId} died (${reason})${what}. ${advice}`, {
      cause: options.cause,
    });
    this.name = "EngineError";
    this.engineId = engineId;
    this.reason = reason;
    this.taskId = taskId;
  }
}

/**
 * Several engines of one multi-engine result failed. `errors` holds each
 * failure; `results` holds every engine's value in target order, with
 * `undefined` where that engine failed, so the work that succeeded is kept.
 *
 * @example
 * ```ts
 * import { CompositeError, RemoteError } from "@troupe/parallel";
 * const e = new CompositeError(
 *   [new RemoteError({ name: "Error", message: "no" }, {
 *     engineId: 1,
 *     taskId: 3,
 *   })],
 *   [42, undefined],
 * );
 * console.log(e.errors.length, e.results[0]);
 * ```
 */
export class CompositeError extends AggregateError {
  /** Each engine's value in target order; `undefined` where it failed. */
  readonly results: unknown[];

  /**
   * Wraps the failures of one result and keeps the successes. `of` says
   * what failed out of how many (by default: engines, one per result).
   */
  constructor(
    errors: Error[],
    results: unknown[],
    options: ErrorOptions & { of?: string } = {},
  ) {
    const { of = `${results.length} engines` } = options;
    const lines = errors.map((e) => `  - ${e.message}`).join("\n");
    super(errors, `${errors.length} of ${of} failed:\n${lines}`, {
      cause: options.cause,
    });
    this.name = "CompositeError";
    this.results = results;
  }
}

/**
 * A wait ran out of time. The task itself keeps running: abort it with
 * `AsyncResult.abort()` if it should stop.
 *
 * @example
 * ```ts
 * import { Client, TimeoutError } from "@troupe/parallel";
 * await using client = await Client.start({ workers: 1 });
 * const ar = client.view(0).applyAsync(() =>
 *   new Promise((done) => setTimeout(done, 200))
 * );
 * try {
 *   await ar.get(10);
 * } catch (error) {
 *   if (error instanceof TimeoutError) console.log(error.message);
 * }
 * await ar; // the task itself goes on
 * ```
 */
export class TimeoutError extends Error {
  /** `message` says what was waited for and for how long. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TimeoutError";
  }
}

/**
 * The task was aborted with `AsyncResult.abort()` before it finished.
 *
 * @example
 * ```ts
 * import { TaskAbortedError } from "@troupe/parallel";
 * const e = new TaskAbortedError({ taskId: 12, engineId: 0 });
 * console.log(e.taskId);
 * ```
 */
export class TaskAbortedError extends Error {
  /** The engine the task was queued on or running on; none if it had none. */
  readonly engineId: number | undefined;
  /** The aborted task. */
  readonly taskId: number;

  /**
   * Names the task and its engine, if it had reached one. `bySignal` says
   * a call's `signal` aborted it, whose reason is then `cause`: the message
   * says so, and quotes the reason (or says the signal timed out, for
   * `AbortSignal.timeout`'s).
   */
  constructor(
    options: ErrorOptions & {
      taskId: number;
      engineId?: number;
      bySignal?: boolean;
    },
  ) {
    const { taskId, engineId, cause } = options;
    const where = engineId === undefined ? " before it reached an engine" : "";
    const task = engineId === undefined
      ? `task ${taskId}`
      : `task ${taskId} on engine ${engineId}`;
    const timedOut = (cause as { name?: unknown } | null)?.name ===
      "TimeoutError";
    // An AbortController's default reason says nothing the message does not.
    const reason = cause instanceof Error
      ? cause.name === "AbortError" ? "" : ` (${messageOf(cause)})`
      : cause === undefined
      ? ""
      : ` (${typeof cause === "string" ? cause : describe(cause)})`;
    super(
      !options.bySignal
        ? `${task} was aborted${where}`
        : timedOut
        ? `${task} was aborted${where}: its signal timed out`
        : `${task} was aborted by its signal${where}${reason}`,
      { cause },
    );
    this.name = "TaskAbortedError";
    this.engineId = engineId;
    this.taskId = taskId;
  }
}

// Errors of the client itself (closed, its controller lost) live in
// client_errors.ts.
export { ClientClosedError, ControllerLostError } from "./client_errors.ts";

// Errors of a call's tasks that could not be run (dependencies, a full
// queue) live in call_errors.ts; they are errors of troupe's like these.
export { QueueFullError, UnmetDependencyError } from "./call_errors.ts";

/**
 * `situation` (why the work cannot run: no engine) followed by every way a
 * client gets engines, so that a newcomer who started none knows what to
 * type.
 *
 * @example
 * ```ts
 * import { noEnginesMessage } from "./errors.ts";
 * console.log(noEnginesMessage("this client has no engines"));
 * ```
 */
export function noEnginesMessage(situation: string): string {
  return `${situation}. To get engines, start the client with some ` +
    "(Client.start({ workers: 4 }) for threads, { processes: 4 } for " +
    "local processes), or listen and start engines by hand: " +
    "Client.start({ workers: 0, listen: true }), then " +
    'await client.writeConnectionFile("conn.json"), run ' +
    "`deno run -A jsr:@troupe/parallel/engine --file conn.json` once per " +
    "engine, and await client.waitForEngines(n) before submitting work";
}

/**
 * Turns anything thrown into plain data that survives a structured clone
 * or msgpack, keeping the stack.
 *
 * @example
 * ```ts
 * import { toErrorInfo } from "./errors.ts";
 * const info = toErrorInfo(new RangeError("too big"));
 * console.log(info.name); // "RangeError"
 * ```
 */
export function toErrorInfo(thrown: unknown): ErrorInfo {
  if (thrown instanceof Error) {
    return {
      name: thrown.name,
      message: thrown.message,
      stack: thrown.stack,
    };
  }
  return {
    name: "NonErrorThrown",
    message: `the task threw a non-Error value: ${describe(thrown)}`,
  };
}

/**
 * What was thrown, in words, without a final period, so that a hint can
 * follow it.
 *
 * @example
 * ```ts
 * import { messageOf } from "./errors.ts";
 * console.log(messageOf(new Error("could not be cloned."))); // "could not be cloned"
 * ```
 */
export function messageOf(thrown: unknown): string {
  const text = thrown instanceof Error ? thrown.message : String(thrown);
  return text.replace(/\.+$/, "");
}

function describe(value: unknown): string {
  try {
    return typeof value === "string" ? JSON.stringify(value) : String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
