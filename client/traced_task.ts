/**
 * `TracedTask`: the listener of one traced task, which passes everything on
 * to the task's own listener and, once it ends, makes the task's spans.
 *
 * @module
 */

import type {
  EngineKind,
  TaskListener,
  TaskOutcome,
} from "../cluster/cluster.ts";
import type { Publication } from "../protocol/publication.ts";
import { newSpanId, type SpanRecord, type SpanValue } from "../observe/span.ts";

/**
 * Where a traced task's spans go, and what it learns of its engine.
 *
 * @example
 * ```ts
 * import type { SpanSink } from "./traced_task.ts";
 * const sink: SpanSink = {
 *   export: (spans) => (console.log(spans.map((s) => s.name)), true),
 *   engine: () => undefined,
 * };
 * ```
 */
export interface SpanSink {
  /**
   * Queues spans that belong together, all or none (`force`: even past the
   * queue's bound); says whether they were queued.
   */
  export(spans: SpanRecord[], force?: boolean): boolean;
  engine(id: number): { kind: EngineKind; host?: string } | undefined;
}

/**
 * The call a traced task belongs to: its span's ids, and what it is told
 * when the task ends.
 *
 * @example
 * ```ts
 * import type { CallSpan } from "./traced_task.ts";
 * const call: CallSpan = {
 *   traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331",
 *   view: "balanced", fn: undefined, taskEnded() {},
 * };
 * ```
 */
export interface CallSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly view: "direct" | "balanced";
  readonly fn: string | undefined;
  /** A task ended at `end`; `kept` when its spans were queued. */
  taskEnded(end: number, error: Error | undefined, kept: boolean): void;
}

/**
 * One task's listener that also times it: it passes every call on to the
 * task's own listener, and at `done` gives the task's spans (`troupe.task`
 * under its call's span, `troupe.queue` and `troupe.run` under it) to
 * `sink`.
 *
 * @example
 * ```ts
 * import { TracedTask } from "./traced_task.ts";
 * import type { TaskListener } from "../cluster/cluster.ts";
 * const spans: string[] = [];
 * const record: TaskListener = {
 *   assigned() {}, started() {}, stream() {}, publish() {}, done() {},
 * };
 * const call = {
 *   traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331",
 *   view: "direct" as const, fn: "inc", taskEnded() {},
 * };
 * const sink = {
 *   export: (s: { name: string }[]) => (spans.push(...s.map((x) => x.name)), true),
 *   engine: () => undefined,
 * };
 * const task = new TracedTask(sink, call, record, 1, 0);
 * task.started();
 * task.done({ ok: true, value: 2, started: Date.now(), completed: Date.now() });
 * console.log(spans); // ["troupe.queue", "troupe.run", "troupe.task"]
 * ```
 */
export class TracedTask implements TaskListener {
  #tracing: SpanSink;
  #call: CallSpan;
  #inner: TaskListener;
  #taskId: number;
  #engineId: number;
  #submitted = now();
  #started: number | undefined;
  #assignments = 0;
  #done = false;

  constructor(
    tracing: SpanSink,
    call: CallSpan,
    inner: TaskListener,
    taskId: number,
    engineId: number,
  ) {
    this.#tracing = tracing;
    this.#call = call;
    this.#inner = inner;
    this.#taskId = taskId;
    this.#engineId = engineId;
  }

  assigned(engineId: number): void {
    this.#engineId = engineId;
    this.#assignments++;
    this.#inner.assigned(engineId);
  }

  started(): void {
    this.#started = now();
    this.#inner.started();
  }

  stream(name: "stdout" | "stderr", text: string): void {
    this.#inner.stream(name, text);
  }

  publish(publication: Publication): void {
    this.#inner.publish(publication);
  }

  done(outcome: TaskOutcome): void {
    // The result first: tracing never delays or breaks it.
    this.#inner.done(outcome);
    if (this.#done) return;
    this.#done = true;
    const ended = now();
    const call = this.#call;
    // The engine's times when it gave both, else what the client heard.
    const run = outcome.started !== undefined && outcome.completed !== undefined
      ? { start: outcome.started, end: outcome.completed }
      : this.#started !== undefined
      ? { start: this.#started, end: ended }
      : undefined;
    const start = this.#submitted;
    const end = Math.max(ended, run?.end ?? ended);
    const taskSpanId = newSpanId();
    const attributes: Record<string, SpanValue> = {
      "troupe.task_id": this.#taskId,
      "troupe.view": call.view,
      "troupe.retries": Math.max(0, this.#assignments - 1),
    };
    if (this.#engineId >= 0) {
      attributes["troupe.engine_id"] = this.#engineId;
      const engine = this.#tracing.engine(this.#engineId);
      if (engine) attributes["troupe.engine.kind"] = engine.kind;
      if (engine?.host) attributes["troupe.engine.host"] = engine.host;
    }
    if (call.fn) attributes["troupe.function"] = call.fn;
    const error = outcome.ok ? undefined : outcome.error;
    if (error) {
      attributes["error.type"] = error.name;
      const remote = (error as { remoteName?: unknown }).remoteName;
      if (typeof remote === "string") {
        attributes["troupe.remote_error"] = remote;
      }
    }
    const child = (name: string, from: number, to: number): SpanRecord => ({
      traceId: call.traceId,
      spanId: newSpanId(),
      parentSpanId: taskSpanId,
      name,
      kind: 1,
      start: from,
      end: Math.max(from, to),
      attributes: { "troupe.task_id": this.#taskId },
    });
    // Clocks may differ by a little: a queue never ends before it began.
    const spans = [child(
      "troupe.queue",
      start,
      run ? Math.max(start, run.start) : end,
    )];
    // The engine's clock may be behind the client's (another host): a run
    // never starts before its task.
    if (run) {
      spans.push(child("troupe.run", Math.max(start, run.start), run.end));
    }
    // The task's spans are queued together or dropped together: a full
    // queue never keeps a child without its parent.
    const kept = this.#tracing.export([...spans, {
      traceId: call.traceId,
      spanId: taskSpanId,
      parentSpanId: call.spanId,
      name: "troupe.task",
      kind: 1,
      start,
      end,
      attributes,
      // A success leaves the status unset, as OTel asks of instrumentation.
      status: error
        ? { code: "error", message: `${error.name}: ${error.message}` }
        : undefined,
    }]);
    call.taskEnded(end, error, kept);
  }
}

/**
 * The client's clock, ms since the epoch, to the microsecond: what every
 * span the client makes is timed by.
 *
 * @example
 * ```ts
 * import { now } from "./traced_task.ts";
 * console.log(Math.abs(now() - Date.now()) < 1000); // true
 * ```
 */
export function now(): number {
  return performance.timeOrigin + performance.now();
}
