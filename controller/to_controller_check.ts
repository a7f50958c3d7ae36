/**
 * The check every message from a client passes before the controller acts
 * on it (`ToController`, remote/wire.ts): a client holds the client key,
 * but its bugs (or an older troupe) must not reach the cluster core as a
 * field of the wrong type; the session that sent it is closed instead.
 *
 * @module
 */

import {
  type Check,
  count,
  isRecord,
  optional,
  record,
  taskId,
  text,
} from "../protocol/field_checks.ts";
import { show } from "../protocol/validate.ts";
import type { ToController } from "../remote/wire.ts";

type Fields = Record<string, unknown>;

const CALLS: Record<string, Record<string, Check>> = {
  waitForEngines: { n: count, timeoutMs: optional(duration) },
  scale: { n: count, launcher: optional(text), timeoutMs: optional(duration) },
  setRestartPolicy: { policy: record },
  queueStatus: {},
  metrics: {},
  history: {},
  query: { query: record },
  purge: { filter: record },
  shutdown: {},
};

const MESSAGES: Record<ToController["t"], Record<string, Check>> = {
  submit: { tasks: list(task) },
  abort: { taskIds: list(taskId) },
  follow: { taskIds: list(taskId) },
  call: { id: count, call: call },
  put: { id: taskId, value: () => undefined },
  release: { ids: list(taskId) },
  beat: {},
};

/**
 * Why `value` is not a message a client may send (`ToController`), naming
 * the message and the field, or `undefined` when it fits.
 *
 * @example
 * ```ts
 * import { toControllerProblem } from "./to_controller_check.ts";
 * console.log(toControllerProblem({ t: "abort", taskIds: [1] })); // undefined
 * console.log(toControllerProblem({ t: "abort", taskIds: 1 }));
 * // an "abort" message whose taskIds is 1 (must be an array of: a task id, ...)
 * ```
 */
export function toControllerProblem(value: unknown): string | undefined {
  if (!isRecord(value)) return `${show(value)} instead of a message object`;
  const kind = value.t;
  const fields = typeof kind === "string" && Object.hasOwn(MESSAGES, kind)
    ? MESSAGES[kind as ToController["t"]]
    : undefined;
  if (fields === undefined) {
    return `a message of unknown type ${show(kind)} (the types are ` +
      `${Object.keys(MESSAGES).join(", ")})`;
  }
  return fieldsProblem(`a "${kind}" message`, value, fields);
}

function fieldsProblem(
  what: string,
  value: Fields,
  fields: Record<string, Check>,
): string | undefined {
  for (const [field, check] of Object.entries(fields)) {
    const wrong = check(value[field]);
    if (wrong !== undefined) {
      return `${what} whose ${field} is ${
        show(value[field])
      } (must be ${wrong})`;
    }
  }
  return undefined;
}

function call(value: unknown): string | undefined {
  const kinds = Object.keys(CALLS).join(", ");
  if (!isRecord(value)) return `a call object, of kind ${kinds}`;
  const kind = value.kind;
  if (typeof kind !== "string" || !Object.hasOwn(CALLS, kind)) {
    return `a call of kind ${kinds}`;
  }
  const wrong = fieldsProblem(`a "${kind}" call`, value, CALLS[kind]);
  return wrong === undefined ? undefined : `a fitting call: ${wrong}`;
}

function task(value: unknown): string | undefined {
  const fits = isRecord(value) && !taskId(value.taskId) &&
    !functionRef(value.fn) && Array.isArray(value.args) &&
    [undefined, "apply", "map"].includes(value.mode as string) &&
    !optional(list(argRef))(value.refs) && !placement(value.placement) &&
    !optional(needs)(value.needs) && withinArgs(value);
  return fits
    ? undefined
    : 'a task: { taskId, fn: { kind: "source", source } or { kind: ' +
      '"module", url, name }, args: [...], mode?: "apply" | "map", ' +
      "refs?: [{ arg, id }], placement: { engineId } or { balanced: { retries, ... } } }" +
      " (each needs.args[].index and refs[].arg < args.length)";
}

/** A task's dependencies (cluster/task_needs.ts' `TaskNeeds`). */
function needs(value: unknown): string | undefined {
  const fits = isRecord(value) && !optional(list(taskId))(value.after) &&
    !optional(list(taskId))(value.follow) && !optional(count)(value.on) &&
    !optional(taskId)(value.onTask) &&
    [undefined, "fail", "run"].includes(value.onFailure as string) &&
    !optional(list(argumentNeed))(value.args);
  return fits
    ? undefined
    : "needs: { after?, follow?: [task ids], on?: engine id, onTask?: " +
      "task id, args?: " +
      '[{ index, tasks, shape: "one" | "list" | "items", item?, ready? }], ' +
      'onFailure?: "fail" | "run" }';
}

function argumentNeed(value: unknown): string | undefined {
  const fits = isRecord(value) && !count(value.index) &&
    !list(taskId)(value.tasks) &&
    ["one", "list", "items"].includes(value.shape as string) &&
    // An item is of a list of values: "one" value may not be an array.
    (value.item === undefined ||
      (!count(value.item) && value.shape !== "one")) &&
    (value.ready === undefined ||
      readyPositions(value.ready, (value.tasks as unknown[]).length));
  return fits ? undefined : "an argument's need";
}

/** `ready` is a record of values by position in the need's `tasks`. */
function readyPositions(ready: unknown, tasks: number): boolean {
  return isRecord(ready) && !Array.isArray(ready) &&
    Object.keys(ready).every((key) => {
      const at = Number(key);
      return String(at) === key && !count(at) && at < tasks;
    });
}

/**
 * Every argument a task's needs and refs name is one of its own: a far
 * index would make a sparse array as long as it, encoded densely.
 */
function withinArgs(task: Fields): boolean {
  const length = (task.args as unknown[]).length;
  const needs = task.needs as { args?: { index: number }[] } | undefined;
  const refs = task.refs as { arg: number }[] | undefined;
  return (needs?.args ?? []).every((need) => need.index < length) &&
    (refs ?? []).every((ref) => ref.arg < length);
}

function argRef(value: unknown): string | undefined {
  const fits = isRecord(value) && Number.isSafeInteger(value.arg) &&
    (value.arg as number) >= 0 && !taskId(value.id);
  return fits ? undefined : "a put value's argument: { arg, id }";
}

function functionRef(value: unknown): string | undefined {
  if (!isRecord(value)) return "a function";
  if (value.kind === "source" && typeof value.source === "string") {
    return undefined;
  }
  const isModule = value.kind === "module" && typeof value.url === "string" &&
    typeof value.name === "string";
  return isModule ? undefined : "a function";
}

function placement(value: unknown): string | undefined {
  if (!isRecord(value)) return "a placement";
  if ("engineId" in value) return count(value.engineId);
  const balanced = value.balanced;
  if (!isRecord(balanced)) return "a placement";
  return count(balanced.retries) ??
    optional(list(count))(balanced.targets) ??
    optional(duration)(balanced.timeoutMs) ??
    optional(count)(balanced.highWaterMark);
}

function duration(value: unknown): string | undefined {
  return typeof value === "number" && value >= 0 && !Number.isNaN(value)
    ? undefined
    : "a number of ms >= 0";
}

function list(each: Check): Check {
  return (value) => {
    if (!Array.isArray(value)) return `an array of: ${each(undefined)}`;
    for (const item of value) {
      const wrong = each(item);
      if (wrong !== undefined) return `an array of: ${wrong}`;
    }
    return undefined;
  };
}
