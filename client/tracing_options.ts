/**
 * `TracingOptions`: where a client sends its tasks' spans (OTLP/HTTP), and
 * the check that refuses a wrong one before anything starts.
 *
 * @module
 */

import { MAX_TIMER_MS } from "../actors/async.ts";
import { checkOptions, type OptionNames } from "./options.ts";

/**
 * Tracing of tasks as OpenTelemetry spans, exported over OTLP/HTTP JSON to
 * a collector (an OpenTelemetry Collector, Jaeger's OTLP port 4318, ...):
 * `Client.start({ tracing })` or `Client.connect(target, { tracing })`.
 * Off when absent, and then it costs nothing.
 *
 * @example
 * ```ts
 * import type { TracingOptions } from "@troupe/parallel";
 * const tracing: TracingOptions = {
 *   endpoint: "http://127.0.0.1:4318/v1/traces",
 *   serviceName: "my-sim",
 *   headers: { authorization: "Bearer ..." },
 * };
 * ```
 */
export interface TracingOptions {
  /**
   * The collector's traces URL, http(s): `http://127.0.0.1:4318/v1/traces`.
   * Absent (or `tracing: true`): the OpenTelemetry variables say it, and
   * what else is not given (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else
   * `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`; `..._HEADERS`,
   * `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`
   * and `_ARG`), read under `--allow-env`.
   */
  endpoint?: string;
  /** The resource's `service.name`. Default `"troupe"`. */
  serviceName?: string;
  /** More attributes of the resource (`deployment.environment`, ...). */
  resourceAttributes?: Record<string, string>;
  /** Sent with every POST (an API key, say); never logged. */
  headers?: Record<string, string>;
  /** How long a finished span waits for its batch at most, ms. Default 1000. */
  flushMs?: number;
  /** Spans per POST at most; a full batch goes at once. Default 512. */
  maxBatch?: number;
  /**
   * Spans kept while the collector is slow or away; beyond, new ones are
   * dropped and counted (`client.tracingStats()`). Default 8192.
   */
  maxQueue?: number;
  /** How long one POST may take, ms. Default 5000. */
  timeoutMs?: number;
  /**
   * The share of calls traced (0..1, default 1), decided per call from its
   * trace id as OpenTelemetry's `TraceIdRatioBased` does. A call given a
   * `traceparent` follows its sampled flag instead (parent-based): 01 is
   * traced, 00 is not; unless `parentBased` is `false`.
   */
  sampleRatio?: number;
  /**
   * `false`: `sampleRatio` decides every call, a `traceparent`'s flag too
   * (OpenTelemetry's `always_on`, `always_off`, `traceidratio` samplers:
   * `sampleRatio: 0` traces nothing, even under a sampled parent). Default
   * `true` (the `parentbased_` ones).
   */
  parentBased?: boolean;
}

/**
 * The names of `TracingOptions`, checked by `checkOptions`.
 *
 * @example
 * ```ts
 * import { TRACING_OPTIONS } from "./tracing_options.ts";
 * import { checkOptions } from "./options.ts";
 * checkOptions("tracing", { endpoint: "http://127.0.0.1:4318/v1/traces" }, TRACING_OPTIONS);
 * ```
 */
export const TRACING_OPTIONS: OptionNames<TracingOptions> = {
  endpoint: true,
  serviceName: true,
  resourceAttributes: true,
  headers: true,
  flushMs: true,
  maxBatch: true,
  maxQueue: true,
  timeoutMs: true,
  sampleRatio: true,
  parentBased: true,
};

/**
 * Throws a `TypeError` or `RangeError` naming the field when `options` are
 * not tracing options (or `true`: all from the OpenTelemetry variables): an
 * unknown name, an endpoint that is not an http(s) URL, a header that is
 * not a string (its value is never shown), a count or a time out of range.
 *
 * @example
 * ```ts
 * import { checkTracingOptions } from "./tracing_options.ts";
 * checkTracingOptions("tracing", { endpoint: "http://127.0.0.1:4318/v1/traces" });
 * try {
 *   checkTracingOptions("tracing", { endpoint: "127.0.0.1:4318" });
 * } catch (error) {
 *   console.log((error as TypeError).message); // tracing.endpoint must be an http(s) URL ...
 * }
 * ```
 */
export function checkTracingOptions(
  what: string,
  options: unknown,
): asserts options is TracingOptions | true {
  if (options === true) return;
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `${what} must be an object such as { endpoint: ` +
        `"http://127.0.0.1:4318/v1/traces" } (or true: the OpenTelemetry ` +
        `variables say where), got ${describe(options)}`,
    );
  }
  checkOptions(what, options, TRACING_OPTIONS);
  const o = options as Partial<TracingOptions>;
  if (o.endpoint !== undefined && !isHttpUrl(o.endpoint)) {
    throw new TypeError(
      `${what}.endpoint must be an http(s) URL, the collector's traces ` +
        `endpoint such as "http://127.0.0.1:4318/v1/traces" (OTLP/HTTP), ` +
        `got ${describe(o.endpoint)}`,
    );
  }
  if (
    o.serviceName !== undefined &&
    (typeof o.serviceName !== "string" || o.serviceName === "")
  ) {
    throw new TypeError(
      `${what}.serviceName must be a non-empty string, got ${
        describe(o.serviceName)
      }`,
    );
  }
  if (o.headers !== undefined) checkHeaders(what, o.headers);
  if (o.resourceAttributes !== undefined) {
    checkAttributes(what, o.resourceAttributes);
  }
  for (const name of ["flushMs", "timeoutMs"] as const) {
    const ms = o[name];
    if (
      ms !== undefined &&
      !(typeof ms === "number" && ms > 0 && ms <= MAX_TIMER_MS)
    ) {
      throw new RangeError(
        `${what}.${name} must be a number of ms above 0, got ${describe(ms)}`,
      );
    }
  }
  const ratio = o.sampleRatio;
  if (
    ratio !== undefined &&
    !(typeof ratio === "number" && ratio >= 0 && ratio <= 1)
  ) {
    throw new RangeError(
      `${what}.sampleRatio must be a number from 0 to 1 (the share of ` +
        `calls traced), got ${describe(ratio)}`,
    );
  }
  if (o.parentBased !== undefined && typeof o.parentBased !== "boolean") {
    throw new TypeError(
      `${what}.parentBased must be true (a traceparent's flag decides) or ` +
        `false (sampleRatio decides every call), got ${
          describe(o.parentBased)
        }`,
    );
  }
  for (const name of ["maxBatch", "maxQueue"] as const) {
    const n = o[name];
    if (n !== undefined && !(Number.isInteger(n) && n >= 1)) {
      throw new RangeError(
        `${what}.${name} must be a whole number of spans >= 1, got ${
          describe(n)
        }`,
      );
    }
  }
}

function isHttpUrl(endpoint: unknown): boolean {
  if (typeof endpoint !== "string") return false;
  try {
    const { protocol } = new URL(endpoint);
    return protocol === "http:" || protocol === "https:";
  } catch {
    return false;
  }
}

/** Headers are secrets: a wrong one is named, its value never shown. */
function checkHeaders(what: string, headers: unknown): void {
  if (
    typeof headers !== "object" || headers === null || Array.isArray(headers)
  ) {
    throw new TypeError(
      `${what}.headers must be an object of header names to strings, got ` +
        (Array.isArray(headers) ? "an array" : typeof headers),
    );
  }
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== "string") {
      throw new TypeError(
        `${what}.headers[${JSON.stringify(name)}] must be a string, got a ` +
          `${typeof value} (its value is not shown: headers are secrets)`,
      );
    }
    try {
      new Headers([[name, value]]);
    } catch {
      throw new TypeError(
        `${what}.headers[${JSON.stringify(name)}] is not a valid HTTP ` +
          "header name or value (its value is not shown: headers are secrets)",
      );
    }
  }
}

function checkAttributes(what: string, attributes: unknown): void {
  const strings = typeof attributes === "object" && attributes !== null &&
    !Array.isArray(attributes) &&
    Object.values(attributes).every((v) => typeof v === "string");
  if (!strings) {
    throw new TypeError(
      `${what}.resourceAttributes must be an object of names to strings ` +
        `such as { "deployment.environment": "test" }, got ${
          describe(attributes)
        }`,
    );
  }
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}
