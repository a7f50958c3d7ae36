/**
 * Errors back from their fields on the wire (ext 4, PROTOCOL.md): the
 * built-in class its name names, the same message, stack and cause.
 *
 * @module
 */

/** What the wire carries of an `Error` (ext 4's payload, a map). */
export interface ErrorFields {
  name: string;
  message: string;
  stack?: string;
  cause?: unknown;
  errors?: unknown[];
}

const ERROR_TYPES: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/**
 * The `Error` that `fields` describe: an `AggregateError` when it has
 * `errors`, else the built-in class named `name` (`Error` for any other
 * name, which is kept as its own property).
 *
 * @example
 * ```ts
 * import { reviveError } from "./error_revival.ts";
 * const e = reviveError({ name: "TypeError", message: "no" });
 * console.log(e instanceof TypeError, e.message); // true "no"
 * ```
 */
export function reviveError(fields: ErrorFields): Error {
  const error = fields.errors
    ? new AggregateError(fields.errors, fields.message)
    : new (ERROR_TYPES[fields.name] ?? Error)(fields.message);
  if ("cause" in fields) error.cause = fields.cause;
  // Only a name the class does not give becomes an own property.
  if (error.name !== fields.name) error.name = fields.name;
  if (fields.stack !== undefined) error.stack = fields.stack;
  return error;
}
