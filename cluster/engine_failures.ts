/**
 * How a task ended, in errors that say what happened and what to do: as
 * its engine reported it (a `RemoteError`), or because its engine could not
 * run it (it died, was stopped, has been down too long, or its link cannot
 * carry the task). In one place, so that the engine actor and its task
 * pipeline word them alike.
 *
 * @module
 */

import { CROSSES } from "../transport/crossable.ts";
import {
  EngineError,
  type ErrorInfo,
  messageOf,
  RemoteError,
} from "../protocol/errors.ts";
import type { DoneMessage } from "../protocol/messages.ts";
import type { TaskOutcome } from "./engine_types.ts";

/**
 * The outcome of a task as engine `engineId` reported it in `done`. A
 * failure becomes a `RemoteError` carrying `hint` (from the engine's
 * `GlobalsLedger`: why a name it misses may be gone).
 *
 * @example
 * ```ts
 * import { reportedOutcome } from "./engine_failures.ts";
 * const outcome = reportedOutcome(0, {
 *   t: "done", taskId: 7, started: 1, completed: 2, ok: false,
 *   error: { name: "TypeError", message: "x is not a function" },
 * }, () => undefined);
 * console.log(outcome.ok); // false
 * ```
 */
export function reportedOutcome(
  engineId: number,
  message: DoneMessage,
  hint: (error: ErrorInfo) => string | undefined,
): TaskOutcome {
  const { taskId, started, completed } = message;
  if (message.ok) return { ok: true, value: message.value, started, completed };
  const info: ErrorInfo = message.error ??
    { name: "Error", message: "the engine reported no error" };
  const error = new RemoteError(info, { engineId, taskId, hint: hint(info) });
  return { ok: false, error, started, completed };
}

/**
 * Task `taskId` was lost with engine `engineId`, which died `because`.
 *
 * @example
 * ```ts
 * import { diedError } from "./engine_failures.ts";
 * console.log(diedError(0, 7, "it missed 3 heartbeats in a row").message);
 * ```
 */
export function diedError(
  engineId: number,
  taskId: number,
  because: string | undefined,
): EngineError {
  return new EngineError(because ?? "unknown", { engineId, taskId });
}

/**
 * Task `taskId` cannot run: engine `engineId` was stopped for good.
 *
 * @example
 * ```ts
 * import { stoppedError } from "./engine_failures.ts";
 * console.log(stoppedError(0, 7, "the client was closed").message);
 * ```
 */
export function stoppedError(
  engineId: number,
  taskId: number,
  because: string | undefined,
): EngineError {
  return new EngineError(because ?? "it was stopped", {
    engineId,
    taskId,
    advice: "The engine will not come back: run the task on another engine.",
  });
}

/**
 * Task `taskId` waited `limitMs` (`noEngineTimeoutMs`) for engine
 * `engineId` to come back after it died `because`.
 *
 * @example
 * ```ts
 * import { downTooLongError } from "./engine_failures.ts";
 * console.log(downTooLongError(0, 7, 60_000, "its socket closed").message);
 * ```
 */
export function downTooLongError(
  engineId: number,
  taskId: number,
  limitMs: number,
  because: string | undefined,
): EngineError {
  return new EngineError(
    `it has not been up for ${limitMs} ms (noEngineTimeoutMs) since it ` +
      `died because ${because}`,
    {
      engineId,
      taskId,
      advice: "Run the task on an engine that is up (client.ids), or " +
        "start this one again.",
    },
  );
}

/**
 * Task `taskId` could not be sent to engine `engineId`: its link threw
 * `error` (too big for a frame, or a value only this link cannot carry).
 *
 * @example
 * ```ts
 * import { unsendableError } from "./engine_failures.ts";
 * const why = new RangeError("the frame is over maxFrameBytes");
 * console.log(unsendableError(0, 7, why).message);
 * ```
 */
export function unsendableError(
  engineId: number,
  taskId: number,
  error: unknown,
): Error {
  const text = messageOf(error);
  if (error instanceof RangeError) {
    // Too big for a frame: the message says the limit and what to do.
    return new RangeError(
      `task ${taskId} could not be sent to engine ${engineId}: ${text}.`,
    );
  }
  // The views refuse most such values at the call; what is left here is
  // what only this engine's transport cannot carry (`crossable.ts`).
  const advice = text.includes("What crosses")
    ? ""
    : ` Pass plain data: ${CROSSES}.`;
  return new TypeError(
    `task ${taskId} could not be sent to engine ${engineId}: ${text}.` +
      advice,
  );
}
