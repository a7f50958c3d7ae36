/**
 * Tasks as OpenTelemetry spans, built from what the client hears of them
 * (submission, `assigned`, `started`, `done` with the engine's own times),
 * so that an embedded and a connected client trace the same way: one span
 * per call (`troupe.apply`, `troupe.map`, `troupe.imap`, ...), a
 * `troupe.task` span per task under it, and under each task `troupe.queue`
 * (submitted → started on the engine) and `troupe.run` (started → ended,
 * by the engine's clock). Only a client with `tracing` has a
 * `ClientTracing`, and only then are task listeners wrapped: without it a
 * call costs one WeakMap lookup.
 *
 * @module
 */

import type {
  Cluster,
  EngineKind,
  MetricFamily,
  TaskListener,
} from "../cluster/cluster.ts";
import type { FunctionRef, TaskSpec } from "../protocol/messages.ts";
import { EXECUTE, PULL, PUSH } from "../protocol/namespace_ops.ts";
import { type ExportStats, OtlpExporter } from "../observe/otlp_export.ts";
import {
  newSpanId,
  newTraceId,
  parseTraceparent,
  sampledAt,
  type SpanRecord,
  type SpanValue,
} from "../observe/span.ts";
import { exporterOptions, type ResolvedTracing } from "./tracing_setup.ts";
import { now, TracedTask } from "./traced_task.ts";

/**
 * What a client's tracing has done: spans the collector took, spans dropped
 * (queue full, a batch that failed twice, or still waiting when `close()`'s
 * bound ran out), failed POSTs, and spans waiting now.
 *
 * @example
 * ```ts
 * import type { TracingStats } from "@troupe/parallel";
 * const stats: TracingStats = { exported: 4, dropped: 0, failedPosts: 0, queued: 0 };
 * ```
 */
export type TracingStats = ExportStats;

/** What a call is, as its span is named: `troupe.<kind>`. */
export type CallKind =
  | "apply"
  | "map"
  | "imap"
  | "push"
  | "pull"
  | "execute"
  | "scatter"
  | "gather";

/** How long `close()` may spend sending what waits. */
const CLOSE_FLUSH_MS = 2000;

/** The tracing of each client that has one, by its cluster. */
const tracings = new WeakMap<Cluster, ClientTracing>();

/**
 * The tracing of the client whose cluster this is, if it traces: what a
 * view's submit path asks, once per call.
 *
 * @example
 * ```ts
 * import { Client } from "@troupe/parallel";
 * import { tracingOf } from "./task_tracing.ts";
 * await using client = await Client.start({ workers: 0 });
 * // A client without `tracing`: nothing is traced, nothing is wrapped.
 * console.log(client.tracingStats()); // undefined
 * console.log(tracingOf({} as never)); // undefined
 * ```
 */
export function tracingOf(cluster: Cluster): ClientTracing | undefined {
  return tracings.get(cluster);
}

/**
 * One client's tracing: the exporter its spans go to, and what it knows of
 * engines (kind, host) for the task spans' attributes.
 *
 * @example
 * ```ts
 * import { Client } from "@troupe/parallel";
 * await using server = Deno.serve(
 *   { hostname: "127.0.0.1", port: 0, onListen() {} },
 *   async (request) => (await request.body?.cancel(), new Response("{}")),
 * );
 * const endpoint = `http://127.0.0.1:${server.addr.port}/v1/traces`;
 * const client = await Client.start({ workers: 1, tracing: { endpoint } });
 * await client.view(0).applyAsync(() => 1);
 * await client.close(); // sends the spans that wait
 * console.log(client.tracingStats()); // { exported: 4, dropped: 0, failedPosts: 0, queued: 0 }
 * ```
 */
export class ClientTracing {
  #exporter: OtlpExporter;
  #engines = new Map<number, { kind: EngineKind; host?: string }>();
  #cluster: Cluster;
  #stopWatching: () => void;
  #sampleRatio: number;
  #parentBased: boolean;

  constructor(
    cluster: Cluster,
    options: ResolvedTracing,
    log: (line: string) => void,
  ) {
    this.#cluster = cluster;
    this.#sampleRatio = options.sampleRatio ?? 1;
    this.#parentBased = options.parentBased ?? true;
    this.#exporter = new OtlpExporter(exporterOptions(options, log));
    // A restarted engine may be elsewhere: look it up again.
    this.#stopWatching = cluster.onEngineEvent((event) =>
      this.#engines.delete(event.engineId)
    );
    tracings.set(cluster, this);
  }

  /**
   * A call's span, started now: a child of `traceparent`'s span when one is
   * given (W3C trace context), else the root of a trace of its own; or
   * `undefined`, nothing traced, for a call not sampled: its parent was
   * not (its flag 00), or a root's trace id fell outside `sampleRatio`.
   * With `parentBased: false` the ratio decides every call, from the
   * parent's trace id when there is one.
   */
  call(
    kind: CallKind,
    view: "direct" | "balanced",
    fn: FunctionRef,
    traceparent?: string,
  ): CallTrace | undefined {
    const parent = traceparent ? parseTraceparent(traceparent) : undefined;
    const traceId = parent?.traceId ?? newTraceId();
    if (parent && this.#parentBased) {
      // OpenTelemetry's default sampler: the caller decided.
      if (!parent.sampled) return undefined;
    } else if (!sampledAt(traceId, this.#sampleRatio)) return undefined;
    return new CallTrace(this, kind, view, functionName(fn), traceId, parent);
  }

  /** Finished spans that belong together, to the exporter: all or none. */
  export(spans: SpanRecord[], force = false): boolean {
    return this.#exporter.addAll(spans, force);
  }

  /** What is known of engine `id`: its kind, and its host if it said. */
  engine(id: number): { kind: EngineKind; host?: string } | undefined {
    let known = this.#engines.get(id);
    if (!known) {
      const status = this.#cluster.engines().find((e) => e.engineId === id);
      if (!status) return undefined;
      known = { kind: status.kind, host: status.host };
      this.#engines.set(id, known);
    }
    return known;
  }

  /** What the exporter has done so far. */
  stats(): TracingStats {
    return this.#exporter.stats();
  }

  /**
   * The client side's own metrics, as the core's are given
   * (`Cluster.metrics()`): spans exported and dropped, failed POSTs.
   */
  families(): MetricFamily[] {
    const { exported, dropped, failedPosts } = this.#exporter.stats();
    const counter = (name: string, help: string, value: number) => ({
      name,
      help,
      type: "counter" as const,
      labelNames: [],
      samples: [{ labels: {}, value }],
    });
    return [
      counter(
        "troupe_trace_spans_exported_total",
        "Spans the collector took.",
        exported,
      ),
      counter(
        "troupe_trace_spans_dropped_total",
        "Spans dropped: the queue was full, their batch failed twice, or " +
          "they still waited when the client closed.",
        dropped,
      ),
      counter(
        "troupe_trace_export_failures_total",
        "POSTs to the collector that failed.",
        failedPosts,
      ),
    ];
  }

  /** Sends what waits (at most 2 s) and stops; leaves nothing behind. */
  async close(): Promise<void> {
    this.#stopWatching();
    tracings.delete(this.#cluster);
    await this.#exporter.close(CLOSE_FLUSH_MS);
  }
}

/**
 * One call's span: the parent of its tasks' spans; it ends once it is
 * sealed (every task of it submitted) and every task has ended.
 *
 * @example
 * ```ts
 * import { Client } from "@troupe/parallel";
 * // Views make them: each applyAsync / mapAsync / imap is one CallTrace.
 * await using client = await Client.start({ workers: 1 });
 * console.log(await client.view(0).applyAsync(() => 1)); // 1
 * ```
 */
export class CallTrace {
  readonly traceId: string;
  readonly spanId: string;
  readonly view: "direct" | "balanced";
  readonly fn: string | undefined;
  #tracing: ClientTracing;
  #name: string;
  #parentSpanId: string | undefined;
  #start = now();
  #end = 0;
  #open = 0;
  #tasks = 0;
  #failed = 0;
  #firstError: string | undefined;
  #sealed = false;
  /** Whether a task's spans were queued: then this span must be too. */
  #kept = false;

  constructor(
    tracing: ClientTracing,
    kind: CallKind,
    view: "direct" | "balanced",
    fn: string | undefined,
    traceId: string,
    parent: { spanId: string } | undefined,
  ) {
    this.#tracing = tracing;
    this.#name = `troupe.${kind}`;
    this.view = view;
    this.fn = fn;
    this.traceId = traceId;
    this.#parentSpanId = parent?.spanId;
    this.spanId = newSpanId();
  }

  /** The listener of one task of the call: `listener`, and its spans. */
  task(listener: TaskListener, taskId: number, engineId: number): TaskListener {
    this.#open++;
    this.#tasks++;
    return new TracedTask(this.#tracing, this, listener, taskId, engineId);
  }

  /** Every task of the call is submitted: it ends with the last one. */
  seal(): void {
    this.#sealed = true;
    this.#endIfDone();
  }

  /** @ignore A task of the call ended at `end`, failed with `error`. */
  taskEnded(end: number, error: Error | undefined, kept: boolean): void {
    this.#open--;
    this.#kept ||= kept;
    this.#end = Math.max(this.#end, end);
    if (error) {
      this.#failed++;
      this.#firstError ??= `${error.name}: ${error.message}`;
    }
    this.#endIfDone();
  }

  #endIfDone(): void {
    if (!this.#sealed || this.#open > 0) return;
    this.#sealed = false; // Ends once.
    const attributes: Record<string, SpanValue> = {
      "troupe.view": this.view,
      "troupe.tasks": this.#tasks,
      "troupe.failed": this.#failed,
    };
    if (this.fn) attributes["troupe.function"] = this.fn;
    const span: SpanRecord = {
      traceId: this.traceId,
      spanId: this.spanId,
      name: this.#name,
      kind: 3,
      start: this.#start,
      end: Math.max(this.#end, now()),
      attributes,
    };
    if (this.#parentSpanId) span.parentSpanId = this.#parentSpanId;
    // A success leaves the status unset, as OTel asks of instrumentation.
    if (this.#failed > 0) {
      span.status = {
        code: "error",
        message: `${this.#failed} of ${this.#tasks} tasks failed; the ` +
          `first: ${this.#firstError}`,
      };
    }
    // Past the queue's bound if need be: its tasks' spans are its children.
    this.#tracing.export([span], this.#kept);
  }
}

/**
 * What a view's call is, by what it runs: a map, a namespace operation, or
 * an apply.
 *
 * @example
 * ```ts
 * import { callKindOf } from "./task_tracing.ts";
 * console.log(callKindOf({ kind: "source", source: "() => 1" }, "map")); // "map"
 * ```
 */
export function callKindOf(fn: FunctionRef, mode: TaskSpec["mode"]): CallKind {
  if (mode === "map") return "map";
  return fn === PUSH
    ? "push"
    : fn === PULL
    ? "pull"
    : fn === EXECUTE
    ? "execute"
    : "apply";
}

/**
 * `tasks`, sealing `trace` when the iteration ends (done, thrown, or left
 * with `break`): an imap's span ends with its last task after that.
 *
 * @example
 * ```ts
 * import { Client } from "@troupe/parallel";
 * await using client = await Client.start({ workers: 1 });
 * // lv.imap uses it when the client traces.
 * for await (const x of client.loadBalancedView().imap((x: number) => x, [1])) {
 *   console.log(x); // 1
 * }
 * ```
 */
export async function* sealedAtEnd<T>(
  tasks: AsyncIterableIterator<T>,
  trace: CallTrace,
): AsyncGenerator<T, void, undefined> {
  try {
    yield* tasks;
  } finally {
    trace.seal();
  }
}

/** The function's name when its source or module says it. */
function functionName(fn: FunctionRef): string | undefined {
  if (fn.kind === "module") return fn.name;
  return /^\s*(?:async\s+)?function\s*\*?\s*([\w$]+)/.exec(fn.source)?.[1];
}
