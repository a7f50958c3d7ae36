/**
 * A batching OTLP/HTTP JSON span exporter: spans are queued, posted every
 * `flushMs` or as soon as `maxBatch` are waiting, one POST at a time, each
 * bounded by `timeoutMs`. A batch whose POST failed is tried once more on
 * the next flush, then dropped and counted; beyond `maxQueue` waiting spans
 * new ones are dropped and counted. It holds a timer only while spans wait,
 * and `close()` sends what waits within its bound and leaves nothing behind.
 *
 * @module
 */

import type { SpanRecord, SpanValue } from "./span.ts";
import { attributes, otlpJson } from "./otlp_json.ts";

/**
 * How an `OtlpExporter` sends: where, as whom, how often, how much.
 *
 * @example
 * ```ts
 * import type { OtlpExporterOptions } from "./otlp_export.ts";
 * const options: OtlpExporterOptions = {
 *   endpoint: "http://127.0.0.1:4318/v1/traces",
 *   serviceName: "troupe",
 *   log: console.warn,
 * };
 * ```
 */
export interface OtlpExporterOptions {
  /** The collector's traces URL (OTLP/HTTP: `.../v1/traces`). */
  endpoint: string;
  /** The resource's `service.name`. */
  serviceName: string;
  /** Sent with every POST (an API key, say); never logged. */
  headers?: Record<string, string>;
  /** How long a span waits for its batch at most, ms. Default 1000. */
  flushMs?: number;
  /** Spans per POST at most; a full batch is sent at once. Default 512. */
  maxBatch?: number;
  /** Spans kept while the collector is slow; more are dropped. Default 8192. */
  maxQueue?: number;
  /** How long one POST may take, ms. Default 5000. */
  timeoutMs?: number;
  /** The instrumentation scope named in every request. */
  scope?: { name: string; version?: string };
  /**
   * The resource's other attributes (`telemetry.sdk.name`, `host.name`,
   * ...); `serviceName` wins over a `service.name` among them.
   */
  resource?: Record<string, SpanValue>;
  /** Where the one warning a minute about an unreachable collector goes. */
  log: (line: string) => void;
}

/**
 * What an exporter has done so far: spans the collector took, spans it
 * dropped (the queue was full, or their batch failed twice, or they were
 * still waiting when `close()`'s bound ran out), POSTs that failed, and
 * spans waiting now.
 *
 * @example
 * ```ts
 * import type { ExportStats } from "./otlp_export.ts";
 * const none: ExportStats = { exported: 0, dropped: 0, failedPosts: 0, queued: 0 };
 * ```
 */
export interface ExportStats {
  exported: number;
  dropped: number;
  failedPosts: number;
  queued: number;
}

/** How often the user is told the collector cannot be reached, at most. */
const WARN_EVERY_MS = 60_000;

/**
 * Sends spans to an OTLP/HTTP collector in batches.
 *
 * @example
 * ```ts
 * import { OtlpExporter } from "./otlp_export.ts";
 * import { newSpanId, newTraceId } from "./span.ts";
 * const bodies: unknown[] = [];
 * await using server = Deno.serve(
 *   { hostname: "127.0.0.1", port: 0, onListen() {} },
 *   async (request) => {
 *     bodies.push(await request.json());
 *     return new Response("{}");
 *   },
 * );
 * const exporter = new OtlpExporter({
 *   endpoint: `http://127.0.0.1:${server.addr.port}/v1/traces`,
 *   serviceName: "demo",
 *   log: console.warn,
 * });
 * const now = Date.now();
 * exporter.add({
 *   traceId: newTraceId(), spanId: newSpanId(), name: "work", kind: 1,
 *   start: now, end: now + 1, attributes: { n: 1 },
 * });
 * await exporter.close();
 * console.log(exporter.stats().exported, bodies.length); // 1 1
 * ```
 */
export class OtlpExporter {
  #options: Required<
    Omit<OtlpExporterOptions, "headers" | "scope" | "resource">
  >;
  #headers: Record<string, string>;
  #resource: unknown;
  #scope: { name: string; version?: string };
  #queue: SpanRecord[] = [];
  /** The batch whose POST failed once: first on the next flush. */
  #retry: SpanRecord[] | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The delay `#timer` was set with. */
  #timerMs = 0;
  #posting: Promise<void> | undefined;
  #abort: AbortController | undefined;
  #closing = false;
  #lastWarning = -Infinity;
  #stats: ExportStats = { exported: 0, dropped: 0, failedPosts: 0, queued: 0 };

  constructor(options: OtlpExporterOptions) {
    // Field by field: a field given as undefined takes its default too.
    this.#options = {
      endpoint: options.endpoint,
      serviceName: options.serviceName,
      log: options.log,
      flushMs: options.flushMs ?? 1000,
      maxBatch: options.maxBatch ?? 512,
      maxQueue: options.maxQueue ?? 8192,
      timeoutMs: options.timeoutMs ?? 5000,
    };
    this.#headers = {
      ...options.headers,
      "content-type": "application/json",
    };
    this.#scope = options.scope ?? { name: "troupe" };
    this.#resource = {
      attributes: attributes({
        ...options.resource,
        "service.name": options.serviceName,
      }),
    };
  }

  /** Queues a finished span; drops it (counted) when the queue is full. */
  add(span: SpanRecord): void {
    this.addAll([span]);
  }

  /**
   * Queues finished spans that belong together (a task's), all or none:
   * dropped together (counted) when they do not all fit, so that a kept
   * span never lacks its parent. `force` queues them even past `maxQueue`
   * (not once closing): for a parent whose children are queued already.
   * Says whether they were queued.
   */
  addAll(spans: readonly SpanRecord[], force = false): boolean {
    const waiting = this.#queue.length + (this.#retry?.length ?? 0);
    const room = force || waiting + spans.length <= this.#options.maxQueue;
    if (this.#closing || !room) {
      this.#stats.dropped += spans.length;
      return false;
    }
    this.#queue.push(...spans);
    this.#wake();
    return true;
  }

  #wake(): void {
    if (this.#posting) return; // Its end looks at the queue again.
    if (this.#queue.length >= this.#options.maxBatch) this.#schedule(0);
    else this.#schedule(this.#options.flushMs);
  }

  /** What the exporter has done so far, as a fresh object. */
  stats(): ExportStats {
    const queued = this.#queue.length + (this.#retry?.length ?? 0);
    return { ...this.#stats, queued };
  }

  /**
   * Sends what waits, within `withinMs` (default 2000): a POST still under
   * way then is aborted, and what was not sent is dropped and counted.
   * Spans added afterwards are dropped. Leaves no timer or fetch behind.
   */
  async close(withinMs = 2000): Promise<void> {
    if (this.#closing) return await this.#posting;
    this.#closing = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    let expired = false;
    const deadline = setTimeout(() => {
      expired = true;
      this.#abort?.abort();
    }, withinMs);
    try {
      await this.#posting;
      // A failed batch is tried once more here too, while the bound lasts.
      while (!expired && (this.#retry || this.#queue.length > 0)) {
        await (this.#posting = this.#post());
      }
    } finally {
      clearTimeout(deadline);
      this.#posting = undefined;
      this.#stats.dropped += this.#queue.length + (this.#retry?.length ?? 0);
      this.#queue = [];
      this.#retry = undefined;
    }
  }

  #schedule(ms: number): void {
    if (this.#closing) return;
    if (this.#timer !== undefined) {
      // A full batch does not wait for the flush timer set by its first span.
      if (ms > 0 || this.#timerMs === 0) return;
      clearTimeout(this.#timer);
    }
    this.#timerMs = ms;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#posting = this.#post().finally(() => {
        this.#posting = undefined;
        if (this.#closing) return;
        if (this.#retry || this.#queue.length >= this.#options.maxBatch) {
          // A full batch goes at once; a failed one waits its turn.
          this.#schedule(this.#retry ? this.#options.flushMs : 0);
        } else if (this.#queue.length > 0) {
          this.#schedule(this.#options.flushMs);
        }
      });
    }, ms);
    // Waiting spans never keep a program alive: close() sends them. (A
    // number at run time; Node's types call it `Timeout`.)
    Deno.unrefTimer(this.#timer as unknown as number);
  }

  /** One POST: the failed batch first, else the next batch of the queue. */
  async #post(): Promise<void> {
    const retried = this.#retry !== undefined;
    const batch = this.#retry ?? this.#queue.splice(0, this.#options.maxBatch);
    this.#retry = undefined;
    if (batch.length === 0) return;
    const abort = this.#abort = new AbortController();
    const timer = setTimeout(
      () =>
        abort.abort(new Error(`no answer in ${this.#options.timeoutMs} ms`)),
      this.#options.timeoutMs,
    );
    /** What went wrong, worded to follow "the collector at URL ". */
    let failure: string | undefined;
    try {
      const response = await fetch(this.#options.endpoint, {
        method: "POST",
        headers: this.#headers,
        body: otlpJson(batch, this.#resource, this.#scope),
        signal: abort.signal,
      });
      await response.body?.cancel();
      if (!response.ok) failure = answered(response.status);
    } catch (error) {
      failure = abort.signal.aborted
        ? `cannot be reached (${
          abort.signal.reason?.message ?? "the POST was aborted"
        })`
        : `cannot be reached (${(error as Error).message})`;
    } finally {
      clearTimeout(timer);
      this.#abort = undefined;
    }
    if (failure === undefined) {
      this.#stats.exported += batch.length;
      return;
    }
    this.#stats.failedPosts++;
    // Once more on the next flush (at close(), at once, within its bound),
    // unless it was the second try.
    if (retried) this.#stats.dropped += batch.length;
    else this.#retry = batch;
    this.#warn(failure);
  }

  #warn(failure: string): void {
    const now = Date.now();
    if (now - this.#lastWarning < WARN_EVERY_MS) return;
    this.#lastWarning = now;
    this.#options.log(
      `tracing: the collector at ${
        safeUrl(this.#options.endpoint)
      } ${failure}; spans are tried once more, then ` +
        "dropped and counted (client.tracingStats()); said at most once a minute",
    );
  }
}

/**
 * A collector's error answer, worded: it was reached, and a 404 most often
 * means a base URL where the traces path belongs.
 */
function answered(status: number): string {
  const hint = status === 404
    ? ": OTLP/HTTP traces go to the collector's /v1/traces path " +
      "(http://host:4318/v1/traces)"
    : status === 401 || status === 403
    ? ": check tracing.headers (an API key?)"
    : "";
  return `answered ${status}${hint}`;
}

/** The endpoint without credentials or query: what a warning may show. */
function safeUrl(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    return `${url.origin}${url.pathname}`;
  } catch {
    return "(the endpoint)";
  }
}
