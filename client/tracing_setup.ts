/**
 * From a client's `tracing` option to its exporter: the OpenTelemetry
 * variables when no endpoint is given, the net permission for the
 * collector checked before anything starts, and the resource and scope
 * every request names (OTel's semantic conventions).
 *
 * @module
 */

import type { OtlpExporterOptions } from "../observe/otlp_export.ts";
import type { SpanValue } from "../observe/span.ts";
import { requirePermission } from "../protocol/require_permission.ts";
import { tracingFromEnv } from "./tracing_env.ts";
import { checkTracingOptions, type TracingOptions } from "./tracing_options.ts";
import { VERSION } from "./version.ts";

/**
 * Tracing options with their endpoint known, checked, and allowed.
 *
 * @example
 * ```ts
 * import type { ResolvedTracing } from "./tracing_setup.ts";
 * const tracing: ResolvedTracing = { endpoint: "http://127.0.0.1:4318/v1/traces" };
 * ```
 */
export interface ResolvedTracing extends TracingOptions {
  endpoint: string;
}

/**
 * `tracing` as the client will use it, or `undefined` without it: checked;
 * without an endpoint (`true`, or options that leave it out), completed
 * from the OpenTelemetry variables, the options given winning; and the
 * collector's `host:port` allowed (`--allow-net`), else a `NotCapable`
 * naming the flag. No endpoint anywhere is a `TypeError` saying where to
 * give one.
 *
 * @param what how the option is named in messages
 *
 * @example
 * ```ts
 * import { resolveTracing } from "./tracing_setup.ts";
 * const tracing = resolveTracing({ endpoint: "http://127.0.0.1:4318/v1/traces" });
 * console.log(tracing?.endpoint); // "http://127.0.0.1:4318/v1/traces"
 * console.log(resolveTracing(undefined)); // undefined
 * ```
 */
export function resolveTracing(
  tracing: TracingOptions | true | undefined,
  what = "tracing",
): ResolvedTracing | undefined {
  if (tracing === undefined) return undefined;
  checkTracingOptions(what, tracing);
  const given: TracingOptions = tracing === true ? {} : tracing;
  const resolved: TracingOptions = given.endpoint === undefined
    ? { ...tracingFromEnv(given), ...defined(given) }
    : given;
  const { endpoint } = resolved;
  if (endpoint === undefined) {
    throw new TypeError(
      `${what} names no collector: give ${what}: { endpoint: ` +
        `"http://127.0.0.1:4318/v1/traces" }, or set ` +
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (or OTEL_EXPORTER_OTLP_ENDPOINT, " +
        "to which /v1/traces is added)",
    );
  }
  checkTracingOptions(what, resolved);
  requireCollectorPermission(endpoint);
  return { ...resolved, endpoint };
}

/**
 * What the exporter of `tracing` is made with: the scope
 * `@troupe/parallel` at troupe's version, and a resource of
 * `service.name` (`serviceName`, else the resource attributes', else
 * `"troupe"`), `telemetry.sdk.*`, `process.runtime.*`,
 * `service.instance.id`, `host.name` when the script may read it (never
 * asked for), then the user's resource attributes.
 *
 * @example
 * ```ts
 * import { exporterOptions } from "./tracing_setup.ts";
 * const options = exporterOptions({ endpoint: "http://127.0.0.1:4318/v1/traces" }, console.warn);
 * console.log(options.serviceName, options.resource?.["telemetry.sdk.name"]); // "troupe" "troupe"
 * ```
 */
export function exporterOptions(
  tracing: ResolvedTracing,
  log: (line: string) => void,
): OtlpExporterOptions {
  const resource: Record<string, SpanValue> = {
    "telemetry.sdk.name": "troupe",
    "telemetry.sdk.language": "javascript",
    "telemetry.sdk.version": VERSION,
    "process.runtime.name": "deno",
    "process.runtime.version": Deno.version.deno,
    "service.instance.id": crypto.randomUUID(),
  };
  const mayName = Deno.permissions.querySync({ name: "sys", kind: "hostname" });
  if (mayName.state === "granted") resource["host.name"] = Deno.hostname();
  Object.assign(resource, tracing.resourceAttributes);
  return {
    endpoint: tracing.endpoint,
    serviceName: tracing.serviceName ??
      tracing.resourceAttributes?.["service.name"] ?? "troupe",
    headers: tracing.headers,
    flushMs: tracing.flushMs,
    maxBatch: tracing.maxBatch,
    maxQueue: tracing.maxQueue,
    timeoutMs: tracing.timeoutMs,
    scope: { name: "@troupe/parallel", version: VERSION },
    resource,
    log,
  };
}

/** The collector's `host:port` must be allowed before any span is sent. */
function requireCollectorPermission(endpoint: string): void {
  const url = new URL(endpoint);
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  const host = `${url.hostname}:${port}`;
  requirePermission(
    { name: "net", host },
    `--allow-net=${host}`,
    `tracing sends spans to the collector at ${url.origin}${url.pathname}`,
  );
}

/** `options` without the fields given as `undefined`: those are not given. */
function defined(options: TracingOptions): TracingOptions {
  return Object.fromEntries(
    Object.entries(options).filter(([, v]) => v !== undefined),
  ) as TracingOptions;
}
