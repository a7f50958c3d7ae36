/**
 * troupe's msgpack codec: the one place that decides how values become
 * bytes. Everything else calls `encodeValue` and `decodeValue`.
 *
 * Plain msgpack loses JavaScript's types; the extension types below keep
 * them (`protocol/PROTOCOL.md` lists them for implementers in other
 * languages). Dates use msgpack's own timestamp extension.
 *
 * @module
 */

import { Decoder, Encoder, ExtensionCodec } from "@msgpack/msgpack";
import { OVER_MSGPACK } from "./crossable.ts";
import { checkCrossable } from "./crossing_check.ts";
import { grownSize, handOver, takeBack } from "./encoder_buffers.ts";
import { type ErrorFields, reviveError } from "./error_revival.ts";
import { SharedDecoding, sharedObjects } from "./shared_values.ts";
import { TYPED_ARRAYS, viewAs } from "./typed_arrays.ts";
import { EXT } from "./ext_types.ts";

export { EXT } from "./ext_types.ts";

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
  type: EXT.shared,
  encode: () => null, // Written by `TroupeEncoder`, which tracks objects.
  decode: (data) =>
    (sharing ??= new SharedDecoding()).shared(data, decodeValue),
});
codec.register({
  type: EXT.ref,
  encode: () => null, // Written by `TroupeEncoder`.
  decode: (data) => (sharing ??= new SharedDecoding()).ref(data),
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
  proto.ensureBufferSizeToWrite = function (size: number) {
    const required = this.pos + size;
    if (this.view.byteLength < required) {
      this.resizeBuffer(grownSize(required, size));
    }
  };
  // No extension takes an array or a plain object (the checker refuses any
  // other object msgpack would write as a map): asking each of them, a
  // dozen typed arrays first, was a third of encoding a small message.
  const encodeObject = proto.encodeObject;
  proto.encodeObject = function (object: object, depth: number) {
    if (Array.isArray(object)) return this.encodeArray(object, depth);
    const prototype = Object.getPrototypeOf(object);
    if (prototype === Object.prototype || prototype === null) {
      return this.encodeMap(object, depth);
    }
    encodeObject.call(this, object, depth);
  };
  proto.doEncode = function (object: unknown, depth: number) {
    if (typeof object === "object" && object !== null && tracking) {
      if (tracking.body === object) {
        tracking.body = undefined; // Its own encoding, inside its ext 9.
      } else if (tracking.shared === undefined) {
        if (tracking.seen.has(object)) throw AGAIN;
        tracking.seen.add(object);
      } else if (tracking.shared.has(object)) {
        this.encodeExtension(sharedExtension(object, tracking));
        return;
      }
    }
    if (referenced && this === encoder && isReferenced(object)) {
      // The ext 32 header here, the array's own bytes as a part after it.
      this.writeU8(0xc9);
      this.writeU32(object.byteLength);
      this.writeI8(
        EXT.typedArrayBase + TYPED_ARRAYS.findIndex((C) => object instanceof C),
      );
      referenced.push({ at: this.pos, bytes: bytesOf(object) });
    } else if (object === undefined) {
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

/**
 * The checker refuses messages nested deeper than `OVER_MSGPACK.maxDepth`,
 * so msgpack's own limit is never what refuses one. msgpack counts
 * the top-level value as depth 1, and a Map's payload (entries, then pairs)
 * adds 2 to the depth of what it holds.
 */
const ENCODER_OPTIONS = {
  extensionCodec: codec,
  maxDepth: OVER_MSGPACK.maxDepth + 3,
};
const encoder = new TroupeEncoder(ENCODER_OPTIONS);
const decoder = new Decoder({ extensionCodec: codec });

/**
 * What one `encodeValue` knows of the objects it has met. A first pass
 * notes every object; meeting one again (most values never do) restarts
 * the encoding with the objects that are reached twice in `shared`.
 */
interface Tracking {
  seen: Set<object>;
  shared: Set<object> | undefined;
  /** Shared objects written so far, by their number. */
  ids: Map<object, number>;
  /** The shared object whose own encoding is being written. */
  body: object | undefined;
}
let tracking: Tracking | undefined;
const AGAIN = Symbol("encode again, with back-references");

/** Ext 9 the first time a shared object is met, ext 10 after that. */
function sharedExtension(
  object: object,
  state: Tracking,
): { type: number; data: Uint8Array } {
  const known = state.ids.get(object);
  if (known !== undefined) return { type: EXT.ref, data: indexBytes(known) };
  const n = state.ids.size;
  state.ids.set(object, n);
  state.body = object;
  const body = new TroupeEncoder(ENCODER_OPTIONS).encode(object);
  const data = new Uint8Array(4 + body.byteLength);
  data.set(indexBytes(n));
  data.set(body, 4);
  return { type: EXT.shared, data };
}

function indexBytes(n: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, n);
  return bytes;
}

/**
 * Encodes `value` as msgpack with troupe's extension types. An object
 * reached twice (shared, or a cycle) is written once and referred back to,
 * so it decodes as one object, as structured clone gives a Worker. Throws a
 * `TypeError` with the path to what cannot cross (`crossable.ts`): msgpack
 * would otherwise write a function, a class instance or a host object as a
 * map of its own properties.
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
  if (encoding) return new TroupeEncoder(ENCODER_OPTIONS).encode(value);
  return encodeTop(value, ownBytes);
}

/**
 * Encodes `value` as `encodeValue` does, as the parts of its encoding in
 * order: the bytes of each typed array of 1 MiB or more are a part of
 * their own, not copied, so that they can be written as they are. Only for
 * a sender whose arrays nothing changes until they are written (an engine
 * process's relay, whose values are its thread's private copies); anyone
 * else needs `encodeValue`'s copy.
 *
 * @example
 * ```ts
 * import { decodeValue, encodeParts } from "./codec.ts";
 * import { concatBytes } from "./bytes.ts";
 * const big = new Float64Array(1 << 17);
 * const parts = encodeParts({ big });
 * console.log(parts.length, parts[1].buffer === big.buffer); // 3 true
 * console.log(decodeValue(concatBytes(parts))); // { big: Float64Array(131072) }
 * ```
 */
export function encodeParts(value: unknown): Uint8Array[] {
  if (encoding) return [encodeValue(value)];
  const holes: Hole[] = [];
  referenced = holes;
  try {
    return encodeTop(value, (bytes) => {
      if (holes.length === 0) return [ownBytes(bytes)];
      const parts: Uint8Array[] = [];
      let from = 0;
      for (const hole of holes) {
        parts.push(bytes.slice(from, hole.at), hole.bytes);
        from = hole.at;
      }
      parts.push(bytes.slice(from));
      return parts;
    });
  } finally {
    referenced = undefined;
  }
}

/** Where a referenced array's bytes go in the encoding, and the bytes. */
interface Hole {
  at: number;
  bytes: Uint8Array;
}
/** The holes of the `encodeParts` under way. */
let referenced: Hole[] | undefined;
const REFERENCE_BYTES = 2 ** 20;

function isReferenced(object: unknown): object is ArrayBufferView {
  return ArrayBuffer.isView(object) && !(object instanceof DataView) &&
    object.byteLength >= REFERENCE_BYTES &&
    object.buffer instanceof ArrayBuffer;
}

/** One top-level encoding; `finish` takes the shared encoder's bytes. */
function encodeTop<T>(value: unknown, finish: (bytes: Uint8Array) => T): T {
  checkCrossable(value, "the message", OVER_MSGPACK);
  encoding = true;
  try {
    tracking = {
      seen: new Set(),
      shared: undefined,
      ids: new Map(),
      body: undefined,
    };
    try {
      return finish(encoder.encodeSharedRef(value));
    } catch (error) {
      if (error !== AGAIN) throw error;
    }
    referenced?.splice(0); // Written again, with back-references.
    tracking = {
      seen: tracking.seen,
      shared: sharedObjects(value),
      ids: new Map(),
      body: undefined,
    };
    return finish(encoder.encodeSharedRef(value));
  } finally {
    encoding = false;
    tracking = undefined;
  }
}
let encoding = false;

/** `bytes`, in the shared encoder's buffer, as the caller's own. */
const ownBytes = (bytes: Uint8Array) => handOver(encoder, bytes);

/**
 * Takes back the buffer of a large encoding once its frame is written, for
 * the next one to be written into (`encoder_buffers.ts`): only for bytes
 * that `encodeValue` returned and that nothing reads any more.
 *
 * @example
 * ```ts
 * import { encodeValue, recycleEncoding } from "./codec.ts";
 * const body = encodeValue({ big: new Float64Array(1 << 18) });
 * // ...once the frame is written:
 * recycleEncoding(body);
 * ```
 */
export function recycleEncoding(bytes: Uint8Array): void {
  if (!encoding) takeBack(encoder, bytes);
}

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
    const value = decoder.decode(bytes);
    return sharing ? sharing.relink(value) : value;
  } finally {
    decoding = false;
    sharing = undefined;
  }
}
/** The current frame's shared objects, once it has one. */
let sharing: SharedDecoding | undefined;
let decoding = false;

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

interface RegExpFields {
  source: string;
  flags: string;
}
