/**
 * A finished span as plain data, its ids, and the W3C `traceparent` header
 * that carries a span's context between programs. Nothing here knows what
 * a span is about: the client's tracing (client/task_tracing.ts) names and
 * fills them, the OTLP exporter (otlp_export.ts) sends them.
 *
 * @module
 */

/** What a span's attribute holds: OTLP's string, int and bool values. */
export type SpanValue = string | number | boolean;

/**
 * One finished span: ids as lowercase hex (trace 16 bytes, span 8), times
 * as ms since the epoch (fractions are kept: the exporter writes them to
 * the ns), `kind` as OTLP numbers it (1 internal, 3 client).
 *
 * @example
 * ```ts
 * import { newSpanId, newTraceId, type SpanRecord } from "./span.ts";
 * const span: SpanRecord = {
 *   traceId: newTraceId(),
 *   spanId: newSpanId(),
 *   name: "troupe.apply",
 *   kind: 3,
 *   start: Date.now(),
 *   end: Date.now() + 1.5,
 *   attributes: { "troupe.view": "direct" },
 * };
 * console.log(span.traceId.length, span.spanId.length); // 32 16
 * ```
 */
export interface SpanRecord {
  traceId: string;
  spanId: string;
  /** Absent for a root span. */
  parentSpanId?: string;
  name: string;
  /** OTLP's SpanKind: 1 internal, 2 server, 3 client. */
  kind: 1 | 2 | 3;
  /** ms since the epoch. */
  start: number;
  /** ms since the epoch, `>= start`. */
  end: number;
  attributes: Record<string, SpanValue>;
  /** Absent: unset (OTLP's code 0). */
  status?: { code: "ok" | "error"; message?: string };
}

/**
 * A fresh trace id: 16 random bytes as hex, never all zeros (W3C calls
 * that id invalid).
 *
 * @example
 * ```ts
 * import { newTraceId } from "./span.ts";
 * console.log(/^[0-9a-f]{32}$/.test(newTraceId())); // true
 * ```
 */
export function newTraceId(): string {
  return randomHex(16);
}

/**
 * A fresh span id: 8 random bytes as hex, never all zeros.
 *
 * @example
 * ```ts
 * import { newSpanId } from "./span.ts";
 * console.log(/^[0-9a-f]{16}$/.test(newSpanId())); // true
 * ```
 */
export function newSpanId(): string {
  return randomHex(8);
}

/**
 * A span's context as another program gives it: its trace, its id, and
 * whether it is sampled (the `traceparent`'s flag 01; absent means it is).
 */
export interface SpanContext {
  traceId: string;
  spanId: string;
  sampled?: boolean;
}

/**
 * Reads a W3C `traceparent` (`00-<trace id>-<span id>-<flags>`); `undefined`
 * if it is not one (a wrong version, length or case, or an all-zero id).
 *
 * @example
 * ```ts
 * import { parseTraceparent } from "./span.ts";
 * const header = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
 * console.log(parseTraceparent(header));
 * // { traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331", sampled: true }
 * console.log(parseTraceparent("00-xyz")); // undefined
 * ```
 */
export function parseTraceparent(header: string): SpanContext | undefined {
  const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(
    header,
  );
  if (!match || /^0+$/.test(match[1]) || /^0+$/.test(match[2])) {
    return undefined;
  }
  const sampled = (parseInt(match[3], 16) & 1) === 1;
  return { traceId: match[1], spanId: match[2], sampled };
}

/**
 * Whether a trace that starts here is sampled at `ratio` (0..1): decided
 * from its id alone, as OpenTelemetry's `TraceIdRatioBased` sampler does
 * (its lower 8 bytes, shifted right once, under `ratio` × 2^63), so that
 * every program sampling one trace at one ratio decides alike.
 *
 * @example
 * ```ts
 * import { sampledAt } from "./span.ts";
 * console.log(sampledAt("4bf92f3577b34da6a3ce929d0e0e4736", 1)); // true
 * console.log(sampledAt("4bf92f3577b34da6a3ce929d0e0e4736", 0)); // false
 * console.log(sampledAt("4bf92f3577b34da60000000000000001", 0.5)); // true
 * console.log(sampledAt("4bf92f3577b34da6ffffffffffffffff", 0.5)); // false
 * ```
 */
export function sampledAt(traceId: string, ratio: number): boolean {
  if (ratio >= 1) return true;
  if (!(ratio > 0)) return false;
  const low = BigInt(`0x${traceId.slice(-16)}`) >> 1n;
  return low < BigInt(Math.floor(ratio * 2 ** 63));
}

/**
 * The `traceparent` of a span: what a task's own code would pass on to nest
 * its work under it. Its flag says whether it was sampled (01 unless
 * `context.sampled` is `false`, 00), so that the next program does as this
 * one did.
 *
 * @example
 * ```ts
 * import { traceparentOf } from "./span.ts";
 * const traceId = "0af7651916cd43dd8448eb211c80319c";
 * console.log(traceparentOf({ traceId, spanId: "b7ad6b7169203331" }));
 * // "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
 * ```
 */
export function traceparentOf(context: SpanContext): string {
  const flags = context.sampled === false ? "00" : "01";
  return `00-${context.traceId}-${context.spanId}-${flags}`;
}

/** Random bytes drawn in blocks: one call per 512 ids, not one per id. */
const pool = new Uint8Array(4096);
let drawn = pool.length;
const HEX = Array.from(
  { length: 256 },
  (_, b) => b.toString(16).padStart(2, "0"),
);

function randomHex(bytes: number): string {
  if (drawn + bytes > pool.length) {
    crypto.getRandomValues(pool);
    drawn = 0;
  }
  let hex = "";
  let any = 0;
  for (let i = 0; i < bytes; i++) {
    const b = pool[drawn++];
    any |= b;
    hex += HEX[b];
  }
  // All zeros is invalid; one set bit is as random as the rest needs.
  return any === 0 ? hex.slice(0, -2) + "01" : hex;
}
