/**
 * How a finished task of the controller's history ended: as a `done` tells
 * a client that follows it (`finishedOutcome`), and as the core needs it
 * for a dependent that came after the core let the task go (`endedTask`).
 *
 * @module
 */

import type { EndedTask } from "../cluster/cluster.ts";
import type { TaskSummary, WireOutcome } from "../remote/wire.ts";
import { fromWireError, toWireError } from "../remote/wire_errors.ts";

/**
 * How a finished task of the history ended, as its `done` says it.
 *
 * @example
 * ```ts
 * import { finishedOutcome } from "./finished_outcome.ts";
 * import type { TaskSummary } from "../remote/wire.ts";
 * const show = (summary: TaskSummary) => finishedOutcome(summary).ok;
 * ```
 */
export function finishedOutcome(summary: TaskSummary): WireOutcome {
  const { taskId, started, completed } = summary;
  const times = {
    ...(started === undefined ? {} : { started }),
    ...(completed === undefined ? {} : { completed }),
  };
  if (summary.state !== "ok") {
    return {
      ok: false,
      error: summary.error ??
        { name: "Error", message: summary.errorMessage ?? "the task failed" },
      ...times,
    };
  }
  // The field prefix LiveTask.encoded writes: a note about the arguments
  // may well mention a "value" (a key's path) without the value being lost.
  const lost = summary.notKept?.find((why) => why.startsWith("value: "));
  if (lost !== undefined) {
    return {
      ok: false,
      error: toWireError(
        new RangeError(
          `task ${taskId} succeeded, but the history did not keep its ` +
            `value (${lost}); run it again, or raise maxValueBytes`,
        ),
      ),
      ...times,
    };
  }
  return {
    ok: true,
    value: summary.value,
    started: started ?? completed ?? summary.submitted,
    completed: completed ?? summary.submitted,
  };
}

/**
 * A finished task of the history as a dependency: its outcome and engine.
 * A value the history did not keep still counts for an `after` (it
 * succeeded); an argument made of it fails with `valueLost`'s advice.
 *
 * @example
 * ```ts
 * import { endedTask } from "./finished_outcome.ts";
 * import type { TaskSummary } from "../remote/wire.ts";
 * const ranOn = (summary: TaskSummary) => endedTask(summary).engineId;
 * ```
 */
export function endedTask(summary: TaskSummary): EndedTask {
  const lost = summary.notKept?.find((why) => why.startsWith("value: "));
  if (lost !== undefined && summary.state === "ok") {
    return {
      outcome: { ok: true, value: undefined, started: 0, completed: 0 },
      engineId: summary.engineId,
      valueLost: `${lost}: pass the value itself, or raise maxValueBytes`,
    };
  }
  const wire = finishedOutcome(summary);
  return {
    outcome: wire.ok ? wire : { ...wire, error: fromWireError(wire.error) },
    engineId: summary.engineId,
  };
}
