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

/** A span's context as another program gives it: its trace and its id. */
export interface SpanContext {
  traceId: string;
  spanId: string;
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
 * // { traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331" }
 * console.log(parseTraceparent("00-xyz")); // undefined
 * ```
 */
export function parseTraceparent(header: string): SpanContext | undefined {
  const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/.exec(header);
  if (!match || /^0+$/.test(match[1]) || /^0+$/.test(match[2])) {
    return undefined;
  }
  return { traceId: match[1], spanId: match[2] };
}

/**
 * The `traceparent` of a span, sampled: what a task's own code would pass on
 * to nest its work under it.
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
  return `00-${context.traceId}-${context.spanId}-01`;
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
