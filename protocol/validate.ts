/**
 * The check every message from an engine passes before the client acts on
 * it, over any link (a Worker's port or a TCP connection): an engine is
 * code the client does not control, and a field of the wrong type must not
 * reach the client's state.
 *
 * @module
 */

import {
  type Check,
  count,
  optional,
  record,
  taskId,
  text,
} from "./field_checks.ts";
import type { FromEngine } from "./messages.ts";
import { DEATH_CAUSES } from "./engine_link.ts";

type Fields = Record<string, unknown>;

/** What each kind of message must carry, field by field. */
const SHAPES: Record<FromEngine["t"], Record<string, Check>> = {
  ready: {},
  pong: { memory: optional(memory) },
  reset: { reason: text },
  fatal: { reason: text, cause: optional(deathCause) },
  drain: { reason: text },
  pub: { taskId: taskId, seq: count, time: number, data: record },
  stream: { taskId: taskId, name: streamName, text: text },
  cancelled: { taskIds: taskIds },
  done: {
    taskId: taskId,
    started: number,
    completed: number,
    ok: boolean,
    value: () => undefined,
    error: optional(errorInfo),
  },
};

/** `SHAPES` as lists, made once: every message is checked on a hot path. */
const FIELDS = new Map(
  Object.entries(SHAPES).map(([t, fields]) => [t, Object.entries(fields)]),
);

/**
 * Why `value` is not a message an engine may send (`FromEngine`), in words
 * that name the message and the field, or `undefined` when it fits. Fields
 * the protocol does not define are ignored, as an older client would.
 *
 * @example
 * ```ts
 * import { fromEngineProblem } from "./validate.ts";
 * console.log(fromEngineProblem({ t: "pong" })); // undefined
 * console.log(fromEngineProblem({ t: "cancelled", taskIds: 5 }));
 * // a "cancelled" message whose taskIds is 5 (must be an array of task ids)
 * ```
 */
export function fromEngineProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return `${show(value)} instead of a message object`;
  }
  const message = value as Fields;
  const kind = message.t;
  const fields = typeof kind === "string" ? FIELDS.get(kind) : undefined;
  if (fields === undefined) {
    return `a message of unknown type ${show(kind)} (the types are ` +
      `${Object.keys(SHAPES).join(", ")})`;
  }
  for (const [field, check] of fields) {
    const wrong = check(message[field]);
    if (wrong !== undefined) {
      return `a "${kind}" message whose ${field} is ${
        show(message[field])
      } (must be ${wrong})`;
    }
  }
  return undefined;
}

function number(value: unknown): string | undefined {
  return typeof value === "number" && Number.isFinite(value)
    ? undefined
    : "a finite number";
}

function memory(value: unknown): string | undefined {
  const fits = value !== null && typeof value === "object" &&
    !number((value as Fields).heapBytes) &&
    ((value as Fields).rssBytes === undefined ||
      !number((value as Fields).rssBytes));
  return fits
    ? undefined
    : "an object with a number heapBytes (and optionally rssBytes)";
}

function deathCause(value: unknown): string | undefined {
  return (DEATH_CAUSES as readonly unknown[]).includes(value)
    ? undefined
    : `one of ${DEATH_CAUSES.join(", ")}`;
}

function taskIds(value: unknown): string | undefined {
  return Array.isArray(value) && value.every((id) => !taskId(id))
    ? undefined
    : "an array of task ids";
}

function boolean(value: unknown): string | undefined {
  return typeof value === "boolean" ? undefined : "true or false";
}

function streamName(value: unknown): string | undefined {
  return value === "stdout" || value === "stderr"
    ? undefined
    : '"stdout" or "stderr"';
}

function errorInfo(value: unknown): string | undefined {
  const fits = value !== null && typeof value === "object" &&
    typeof (value as Fields).name === "string" &&
    typeof (value as Fields).message === "string" &&
    ["string", "undefined"].includes(typeof (value as Fields).stack);
  return fits
    ? undefined
    : "an object with a string name and message (and optionally stack)";
}

/**
 * A value as a short phrase for an error message, never a whole payload:
 * what the checks of messages from engines (and from clients, in
 * controller/) say they got.
 *
 * @example
 * ```ts
 * import { show } from "./validate.ts";
 * console.log(show(undefined), show("x"), show(5)); // missing "x" 5
 * ```
 */
export function show(value: unknown): string {
  if (value === undefined) return "missing";
  let shown: string;
  try {
    shown = typeof value === "string"
      ? JSON.stringify(value)
      : Deno.inspect(value, { depth: 1, breakLength: Infinity, colors: false });
  } catch {
    shown = typeof value;
  }
  return shown.length > 80 ? `${shown.slice(0, 77)}...` : shown;
}
