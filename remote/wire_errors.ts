/**
 * Errors across the client⇄controller wire (`wire.ts`'s `WireError`): a
 * client gets back troupe's own classes with their own fields, so that
 * `error instanceof EngineError` and `error.engineId` hold on a connected
 * client as on an embedded one.
 *
 * @module
 */

import {
  ClientClosedError,
  CompositeError,
  ControllerLostError,
  EngineError,
  QueueFullError,
  RemoteError,
  TaskAbortedError,
  TimeoutError,
  UnmetDependencyError,
} from "../protocol/errors.ts";
import { reviveError } from "../transport/error_revival.ts";
import type { WireError } from "./wire.ts";

type Fields = Record<string, unknown>;

/** How one of troupe's classes crosses; see `CLASSES`. */
interface Crossing {
  type: abstract new (...args: never[]) => Error;
  fields(error: Error): Fields;
  revive(fields: Fields): Error;
}

/**
 * How each of troupe's classes crosses: the fields it carries, and how it
 * is built again from them. The message is set afterwards, as it was: the
 * constructors compose messages, and a message made on the other side
 * (with advice, a hint) must arrive as it was written.
 */
const CLASSES: Record<string, Crossing> = {
  EngineError: {
    type: EngineError,
    fields: (e) => pick(e as EngineError, ["engineId", "reason", "taskId"]),
    revive: (f) =>
      new EngineError(String(f.reason ?? ""), {
        engineId: f.engineId as number,
        taskId: f.taskId as number | undefined,
      }),
  },
  RemoteError: {
    type: RemoteError,
    fields: (e) =>
      pick(e as RemoteError, [
        "engineId",
        "taskId",
        "remoteName",
        "remoteMessage",
        "remoteStack",
      ]),
    revive: (f) =>
      new RemoteError(
        {
          name: String(f.remoteName ?? "Error"),
          message: String(f.remoteMessage ?? ""),
          stack: f.remoteStack as string | undefined,
        },
        { engineId: f.engineId as number, taskId: f.taskId as number },
      ),
  },
  TimeoutError: {
    type: TimeoutError,
    fields: () => ({}),
    revive: () => new TimeoutError(""),
  },
  TaskAbortedError: byOptions(TaskAbortedError, ["taskId", "engineId"]),
  UnmetDependencyError: byOptions(UnmetDependencyError, [
    "taskId",
    "dependency",
  ]),
  QueueFullError: byOptions(QueueFullError, ["maxQueue", "queued"]),
  ClientClosedError: {
    type: ClientClosedError,
    fields: () => ({}),
    revive: () => new ClientClosedError(),
  },
  ControllerLostError: {
    type: ControllerLostError,
    fields: (e) => pick(e as ControllerLostError, ["controller", "why"]),
    revive: (f) =>
      new ControllerLostError({
        controller: String(f.controller ?? ""),
        why: String(f.why ?? ""),
      }),
  },
  CompositeError: {
    type: CompositeError,
    fields: (e) => ({
      results: (e as CompositeError).results,
      errors: (e as CompositeError).errors.map(asWireError),
    }),
    revive: (f) =>
      new CompositeError(
        wireErrors(f.errors).map(fromWireError),
        Array.isArray(f.results) ? f.results : [],
      ),
  },
};

/**
 * `error` as it crosses: its class's name, message, stack, its own fields
 * (an `EngineError`'s `engineId` and `reason`, a `RemoteError`'s remote
 * name, message and stack, an `AggregateError`'s errors, ...) and its
 * cause when that is an error too.
 *
 * @example
 * ```ts
 * import { toWireError } from "./wire_errors.ts";
 * import { EngineError } from "../protocol/errors.ts";
 * const wire = toWireError(new EngineError("it exited", { engineId: 2 }));
 * console.log(wire.name, wire.fields?.engineId); // EngineError 2
 * ```
 */
export function toWireError(error: Error): WireError {
  const troupe = Object.hasOwn(CLASSES, error.name)
    ? CLASSES[error.name]
    : undefined;
  const own = troupe && error instanceof troupe.type
    ? troupe.fields(error)
    : error instanceof AggregateError
    ? { errors: error.errors.map(asWireError) }
    : undefined;
  return {
    name: error.name,
    message: error.message,
    ...(error.stack === undefined ? {} : { stack: error.stack }),
    ...(own && Object.keys(own).length > 0 ? { fields: own } : {}),
    ...(error.cause instanceof Error
      ? { cause: toWireError(error.cause) }
      : {}),
  };
}

/**
 * The error `wire` describes: troupe's class of that name with its fields,
 * a built-in class (`TypeError`, `RangeError`, `AggregateError`, ...), or
 * an `Error` whose `name` is the one given; with the same message, stack
 * and cause.
 *
 * @example
 * ```ts
 * import { fromWireError } from "./wire_errors.ts";
 * import { EngineError } from "../protocol/errors.ts";
 * const e = fromWireError({
 *   name: "EngineError",
 *   message: "engine 2 died (it exited)",
 *   fields: { engineId: 2, reason: "it exited" },
 * });
 * console.log(e instanceof EngineError, (e as EngineError).engineId); // true 2
 * ```
 */
export function fromWireError(wire: WireError): Error {
  const fields = wire.fields ?? {};
  const troupe = Object.hasOwn(CLASSES, wire.name)
    ? CLASSES[wire.name]
    : undefined;
  const error = troupe ? troupe.revive(fields) : reviveError({
    name: wire.name,
    message: wire.message,
    ...(Array.isArray(fields.errors)
      ? { errors: wireErrors(fields.errors).map(fromWireError) }
      : {}),
  });
  // Own properties, as the constructors set theirs: what was written on
  // the other side, not what this side's constructor would compose.
  Object.defineProperty(error, "message", {
    value: wire.message,
    writable: true,
    configurable: true,
  });
  if (wire.stack !== undefined) error.stack = wire.stack;
  if (wire.cause) error.cause = fromWireError(wire.cause);
  return error;
}

/** Any thrown value as an error that crosses. */
function asWireError(thrown: unknown): WireError {
  return toWireError(
    thrown instanceof Error ? thrown : new Error(String(thrown)),
  );
}

/** The wire errors in `value`, skipping anything that is not one. */
function wireErrors(value: unknown): WireError[] {
  if (!Array.isArray(value)) return [];
  return value.filter((w): w is WireError =>
    typeof w === "object" && w !== null && typeof w.name === "string" &&
    typeof w.message === "string"
  );
}

/**
 * How a class whose constructor takes its fields as its options object
 * crosses: those fields, given back to the constructor as they came.
 */
function byOptions<E extends Error>(
  type: new (options: never) => E,
  names: (keyof E & string)[],
): Crossing {
  return {
    type,
    fields: (e) => pick(e as E, names),
    revive: (f) => new type(f as never),
  };
}

/** The fields of `error` named in `names` that it has. */
function pick<E extends Error>(error: E, names: (keyof E)[]): Fields {
  const out: Fields = {};
  for (const name of names) {
    if (error[name] !== undefined) out[name as string] = error[name];
  }
  return out;
}
