/**
 * troupe's msgpack codec: the one place that decides how values become
 * bytes. Everything else calls `encodeValue` and `decodeValue`.
 *
 * Plain msgpack loses JavaScript's types; the extension types below keep
 * them (`transport/PROTOCOL.md` lists them for implementers in other
 * languages). Dates use msgpack's own timestamp extension.
 *
 * @module
 */

import { Decoder, Encoder, ExtensionCodec } from "@msgpack/msgpack";
import { checkCrossable, OVER_MSGPACK } from "./crossable.ts";
import { TYPED_ARRAYS, type TypedArrayConstructor } from "./typed_arrays.ts";

/** Extension type numbers; see PROTOCOL.md. */
export const EXT = {
  undefined: 0,
  map: 1,
  set: 2,
  bigint: 3,
  error: 4,
  arrayBuffer: 5,
  dataView: 6,
  /** A `Date` whose time is NaN: msgpack's timestamp cannot say it. */
  invalidDate: 7,
  regExp: 8,
  /** Typed arrays take 16 + their kind, so no payload byte names the kind. */
  typedArrayBase: 16,
} as const;

/**
 * Below this size a decoded typed array gets a buffer of its own, so that a
 * small array does not keep a whole frame alive; above it an aligned array
 * is a view into the frame, with no copy.
 */
const COPY_BELOW_BYTES = 4096;

const codec = new ExtensionCodec();

// Typed arrays go first: msgpack would otherwise write every view as `bin`
// and read it back as a Uint8Array.
TYPED_ARRAYS.forEach((Ctor, kind) => {
  codec.register({
    type: EXT.typedArrayBase + kind,
    // `instanceof`: a subclass travels as its built-in type.
    encode: (value) => value instanceof Ctor ? bytesOf(value) : null,
    decode: (data) => viewAs(Ctor, data),
  });
});
codec.register({
  type: EXT.dataView,
  encode: (value) => value instanceof DataView ? bytesOf(value) : null,
  decode: (data) => new DataView(data.slice().buffer),
});
codec.register({
  type: EXT.arrayBuffer,
  encode: (value) =>
    value instanceof ArrayBuffer ? new Uint8Array(value) : null,
  decode: (data) => data.slice().buffer,
});
codec.register({
  type: EXT.map,
  encode: (value) =>
    value instanceof Map ? encodeValue([...value.entries()]) : null,
  decode: (data) => new Map(decodeValue(data) as [unknown, unknown][]),
});
codec.register({
  type: EXT.set,
  encode: (value) => value instanceof Set ? encodeValue([...value]) : null,
  decode: (data) => new Set(decodeValue(data) as unknown[]),
});
codec.register({
  type: EXT.bigint,
  encode: (value) =>
    typeof value === "bigint" ? textEncoder.encode(value.toString()) : null,
  decode: (data) => BigInt(textDecoder.decode(data)),
});
codec.register({
  type: EXT.error,
  encode: (value) =>
    value instanceof Error
      ? encodeValue({
        name: value.name,
        message: value.message,
        stack: value.stack,
        ...("cause" in value ? { cause: value.cause } : {}),
        ...(value instanceof AggregateError ? { errors: value.errors } : {}),
      })
      : null,
  decode: (data) => reviveError(decodeValue(data) as ErrorFields),
});
codec.register({
  type: EXT.regExp,
  encode: (value) =>
    value instanceof RegExp
      ? encodeValue({ source: value.source, flags: value.flags })
      : null,
  decode: (data) => {
    const { source, flags } = decodeValue(data) as RegExpFields;
    return new RegExp(source, flags);
  },
});
codec.register({
  type: EXT.invalidDate,
  encode: () => null, // Written by `TroupeEncoder`, before the timestamp.
  decode: () => new Date(NaN),
});
codec.register({
  type: EXT.undefined,
  encode: () => null, // Written by `TroupeEncoder`, which sees undefined.
  decode: () => undefined,
});

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/**
 * msgpack writes `undefined` as nil before asking extensions, so `[1,
 * undefined]` would come back as `[1, null]`; it writes -0 as the integer 0
 * and an invalid `Date` as the epoch. This encoder writes each as what it
 * is. It reaches into `doEncode`, which the library does not declare
 * public; the codec's tests fail loudly if an upgrade changes that.
 */
class TroupeEncoder extends Encoder {}
{
  // deno-lint-ignore no-explicit-any
  const proto = TroupeEncoder.prototype as any;
  const doEncode = proto.doEncode;
  const empty = new Uint8Array(0);
  proto.doEncode = function (object: unknown, depth: number) {
    if (object === undefined) {
      this.encodeExtension({ type: EXT.undefined, data: empty });
    } else if (Object.is(object, -0)) {
      this.encodeNumberAsFloat(-0); // As an integer it would be 0.
    } else if (object instanceof Date && Number.isNaN(object.getTime())) {
      this.encodeExtension({ type: EXT.invalidDate, data: empty });
    } else {
      doEncode.call(this, object, depth);
    }
  };
}

const encoder = new TroupeEncoder({ extensionCodec: codec });
const decoder = new Decoder({ extensionCodec: codec });

/**
 * Encodes `value` as msgpack with troupe's extension types. Throws a
 * `TypeError` with the path to what cannot cross (`crossable.ts`): msgpack
 * would otherwise write a function, a class instance or a host object as a
 * map of its own properties, and loop on a cycle.
 *
 * @example
 * ```ts
 * import { decodeValue, encodeValue } from "./codec.ts";
 * const bytes = encodeValue({ a: new Float64Array([1, 2]), when: new Date() });
 * console.log(decodeValue(bytes));
 * ```
 */
export function encodeValue(value: unknown): Uint8Array {
  // Extensions call back in: a shared encoder would overwrite its own
  // buffer, so nested calls get an encoder of their own. Their values were
  // checked with the whole message.
  if (encoding) {
    return new TroupeEncoder({ extensionCodec: codec }).encode(value);
  }
  checkCrossable(value, "the message", OVER_MSGPACK);
  encoding = true;
  try {
    return encoder.encode(value);
  } finally {
    encoding = false;
  }
}
let encoding = false;

/**
 * Decodes one msgpack value written by `encodeValue` (or by any msgpack
 * writer that follows PROTOCOL.md). Large aligned typed arrays are views
 * into `bytes`, which must therefore not be reused by the caller.
 *
 * @example
 * ```ts
 * import { decodeValue, encodeValue } from "./codec.ts";
 * console.log(decodeValue(encodeValue([1, undefined, 3n]))); // [1, undefined, 3n]
 * ```
 */
export function decodeValue(bytes: Uint8Array): unknown {
  if (decoding) return new Decoder({ extensionCodec: codec }).decode(bytes);
  decoding = true;
  try {
    return decoder.decode(bytes);
  } finally {
    decoding = false;
  }
}
let decoding = false;

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function viewAs(Ctor: TypedArrayConstructor, data: Uint8Array): unknown {
  const size = Ctor.BYTES_PER_ELEMENT;
  if (data.byteLength % size !== 0) {
    throw new RangeError(
      `a ${Ctor.name} needs a multiple of ${size} bytes, got ${data.byteLength}`,
    );
  }
  const aligned = data.byteOffset % size === 0;
  const bytes = aligned && data.byteLength >= COPY_BELOW_BYTES
    ? data
    : data.slice();
  return new Ctor(
    bytes.buffer as ArrayBuffer,
    bytes.byteOffset,
    bytes.byteLength / size,
  );
}

interface ErrorFields {
  name: string;
  message: string;
  stack?: string;
  cause?: unknown;
  errors?: unknown[];
}

interface RegExpFields {
  source: string;
  flags: string;
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

function reviveError(fields: ErrorFields): Error {
  const error = fields.errors
    ? new AggregateError(fields.errors, fields.message)
    : new (ERROR_TYPES[fields.name] ?? Error)(fields.message);
  if ("cause" in fields) error.cause = fields.cause;
  // Only a name the class does not give becomes an own property.
  if (error.name !== fields.name) error.name = fields.name;
  if (fields.stack !== undefined) error.stack = fields.stack;
  return error;
}
