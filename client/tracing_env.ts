/**
 * The OpenTelemetry SDK's environment variables, read as `TracingOptions`:
 * what `tracing: true` (or tracing options without an endpoint) takes,
 * so a script traces where its deployment says, as other OTel programs do.
 *
 * @module
 */

import { requirePermission } from "../protocol/require_permission.ts";
import type { TracingOptions } from "./tracing_options.ts";

/** The variables read, in the order they are looked at. */
export const OTEL_VARIABLES: readonly string[] = [
  "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
  "OTEL_EXPORTER_OTLP_ENDPOINT",
  "OTEL_EXPORTER_OTLP_HEADERS",
  "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
  "OTEL_SERVICE_NAME",
  "OTEL_RESOURCE_ATTRIBUTES",
  "OTEL_TRACES_SAMPLER",
  "OTEL_TRACES_SAMPLER_ARG",
];

/** The samplers of `OTEL_TRACES_SAMPLER` troupe has, as a `sampleRatio`. */
const SAMPLERS: Record<string, number | "arg"> = {
  always_on: 1,
  parentbased_always_on: 1,
  always_off: 0,
  parentbased_always_off: 0,
  traceidratio: "arg",
  parentbased_traceidratio: "arg",
};

/**
 * The tracing options the OpenTelemetry variables give, for the fields
 * `given` leaves out: the endpoint from `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`
 * as it is, else `OTEL_EXPORTER_OTLP_ENDPOINT` with `/v1/traces` added;
 * headers from `OTEL_EXPORTER_OTLP_HEADERS` and, over them,
 * `OTEL_EXPORTER_OTLP_TRACES_HEADERS` (`k=v,k=v`, values URL-encoded);
 * `OTEL_SERVICE_NAME` (else the resource's `service.name`); resource
 * attributes from `OTEL_RESOURCE_ATTRIBUTES`; `sampleRatio` from
 * `OTEL_TRACES_SAMPLER` (`always_on`, `always_off`, `traceidratio` and
 * their `parentbased_` forms; the plain ones set `parentBased: false`, so
 * their ratio decides under a traceparent too) and, for the ratio ones,
 * `OTEL_TRACES_SAMPLER_ARG` (default 1).
 * An empty variable is unset.
 * Each variable's env permission is checked before it is read: without it,
 * a `NotCapable` names it and the flag to add. A malformed value is a
 * `TypeError` naming its variable (a header's value is never shown).
 *
 * @example
 * ```ts
 * import { tracingFromEnv } from "./tracing_env.ts";
 * Deno.env.set("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318");
 * console.log(tracingFromEnv({}).endpoint); // "http://127.0.0.1:4318/v1/traces"
 * Deno.env.delete("OTEL_EXPORTER_OTLP_ENDPOINT");
 * ```
 */
export function tracingFromEnv(given: TracingOptions): TracingOptions {
  const found: TracingOptions = {};
  const traces = read("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  const base = traces ? undefined : read("OTEL_EXPORTER_OTLP_ENDPOINT");
  if (traces) {
    found.endpoint = httpUrl("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", traces);
  } else if (base) {
    const url = httpUrl("OTEL_EXPORTER_OTLP_ENDPOINT", base);
    found.endpoint = url.replace(/\/?$/, "/v1/traces");
  }
  if (given.headers === undefined) {
    const headers = {
      ...pairs("OTEL_EXPORTER_OTLP_HEADERS", true),
      ...pairs("OTEL_EXPORTER_OTLP_TRACES_HEADERS", true),
    };
    if (Object.keys(headers).length > 0) found.headers = headers;
  }
  const resource = pairs("OTEL_RESOURCE_ATTRIBUTES", false);
  if (given.resourceAttributes === undefined && resource) {
    found.resourceAttributes = resource;
  }
  if (given.serviceName === undefined) {
    const name = read("OTEL_SERVICE_NAME") ?? resource?.["service.name"];
    if (name) found.serviceName = name;
  }
  if (given.sampleRatio === undefined) {
    const ratio = sampleRatio();
    if (ratio !== undefined) found.sampleRatio = ratio;
    const sampler = read("OTEL_TRACES_SAMPLER")?.toLowerCase();
    if (
      given.parentBased === undefined && sampler !== undefined &&
      !sampler.startsWith("parentbased_")
    ) {
      found.parentBased = false;
    }
  }
  return found;
}

function sampleRatio(): number | undefined {
  const sampler = read("OTEL_TRACES_SAMPLER");
  if (sampler === undefined) return undefined;
  const ratio = SAMPLERS[sampler.toLowerCase()];
  if (ratio === undefined) {
    throw new TypeError(
      `OTEL_TRACES_SAMPLER is ${JSON.stringify(sampler)}, which troupe does ` +
        `not have: give one of ${Object.keys(SAMPLERS).join(", ")}`,
    );
  }
  if (ratio !== "arg") return ratio;
  const arg = read("OTEL_TRACES_SAMPLER_ARG");
  if (arg === undefined) return 1; // The OTel SDKs' default.
  const n = Number(arg);
  if (!(n >= 0 && n <= 1)) {
    throw new TypeError(
      `OTEL_TRACES_SAMPLER_ARG must be a ratio from 0 to 1 for ${sampler}, ` +
        `got ${JSON.stringify(arg)}`,
    );
  }
  return n;
}

/** A variable's value, its permission checked first; empty is unset. */
function read(variable: string): string | undefined {
  requirePermission(
    { name: "env", variable },
    `--allow-env=${OTEL_VARIABLES.join(",")}`,
    `tracing without an endpoint reads the OpenTelemetry variable ${variable}`,
  );
  const value = Deno.env.get(variable)?.trim();
  return value ? value : undefined;
}

function httpUrl(variable: string, value: string): string {
  let protocol = "";
  try {
    protocol = new URL(value).protocol;
  } catch {
    // Said below.
  }
  if (protocol !== "http:" && protocol !== "https:") {
    throw new TypeError(
      `${variable} must be an http(s) URL such as http://127.0.0.1:4318` +
        `${variable.includes("TRACES") ? "/v1/traces" : ""}, got ${
          JSON.stringify(value)
        }`,
    );
  }
  return value;
}

/**
 * `k=v,k=v` with URL-encoded keys and values (the W3C baggage form the
 * OTel variables use); `secret`: values are never shown, and each pair must
 * make a valid HTTP header.
 */
function pairs(
  variable: string,
  secret: boolean,
): Record<string, string> | undefined {
  const text = read(variable);
  if (text === undefined) return undefined;
  const out: Record<string, string> = {};
  text.split(",").forEach((pair, i) => {
    if (pair.trim() === "") return;
    const at = pair.indexOf("=");
    let key = "";
    let value = "";
    try {
      key = decodeURIComponent(pair.slice(0, at).trim());
      value = decodeURIComponent(pair.slice(at + 1).trim());
      if (secret) new Headers([[key, value]]);
    } catch {
      key = "";
    }
    if (at <= 0 || key === "") {
      throw new TypeError(
        `${variable}'s entry ${i + 1} is not key=value (URL-encoded${
          secret ? ", a valid HTTP header" : ""
        }); ${
          secret
            ? "its text is not shown: headers are secrets"
            : `got ${JSON.stringify(pair)}`
        }`,
      );
    }
    out[key] = value;
  });
  return out;
}
