/**
 * The engine runtime: the actor inside an engine that runs tasks, one at a
 * time and in order, and reports on them to the client.
 *
 * @module
 */

import type { EnginePort } from "../protocol/engine_link.ts";
import { installEngineContext, publishData } from "./engine_context.ts";
import { checkCrossable } from "../transport/crossing_check.ts";
import { keepSpare } from "../transport/spare_buffers.ts";
import { endOnUncaughtError } from "./uncaught_errors.ts";
import { installNamespace } from "./namespace.ts";
import { captureConsole } from "./console_capture.ts";
import { Publisher } from "./publisher.ts";
import { PutValues } from "./put_values.ts";
import { explain, moduleImportError, unsendableResult } from "./task_errors.ts";
import {
  type RunMessage,
  RUNNING_SLOT,
  SHARED_SLOTS,
  type ToEngine,
} from "../protocol/messages.ts";

/** What the host thread provides to the runner. */
export interface RunnerHost {
  /** Runs `fn` on a fresh macrotask of the engine's event loop. */
  schedule(fn: () => void): void;
  /**
   * Why the engine cannot go on, if it cannot: checked at every heartbeat.
   * A Worker whose heap ran out inside a promise callback stays alive with
   * its task lost; this is how the client learns of it.
   */
  fatal?(): string | undefined;
}

/** How a task ended, before it is reported. */
type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * How long tasks that end synchronously run one after another before the
 * engine reads its messages (a cancel, a ping) again.
 */
const CHAIN_MS = 2;

/** Compiled shipped functions kept per engine, by source text. */
const COMPILED_CACHE_SIZE = 256;

/**
 * Runs the tasks sent through `port`. `host.schedule` starts each task on a
 * macrotask of its own rather than inside the message handler: a task that
 * exhausts the heap inside a message handler hangs a Node-compat Worker in
 * Deno 2.9 instead of ending it.
 *
 * @example
 * ```ts
 * import { TaskRunner } from "./task_runner.ts";
 * import type { EnginePort } from "../protocol/engine_link.ts";
 * // On an engine's task thread, once:
 * function serve(port: EnginePort) {
 *   new TaskRunner(port, { schedule: (fn) => setTimeout(fn, 0) });
 * }
 * ```
 */
export class TaskRunner {
  #port: EnginePort;
  #host: RunnerHost;
  #engineId = -1;
  /** The process runs sandboxed: permission errors say so. */
  #sandboxed = false;
  #acks: Int32Array<ArrayBufferLike> = new Int32Array(SHARED_SLOTS);
  #queue: RunMessage[] = [];
  #busy = false;
  #taskId: number | undefined;
  /** `epochMs()` when the last task started and ended, for the chain. */
  #lastStarted = 0;
  #lastCompleted = 0;
  #compiled = new Map<string, (...args: unknown[]) => unknown>();
  #modules = new Map<string, Promise<Record<string, unknown>>>();
  #publisher: Publisher;
  #puts = new PutValues();
  /** Queued tasks that fail as they start: a put value was not here. */
  #refused = new WeakMap<RunMessage, unknown>();

  /** Listens on `port`; the client's `init` message starts the engine. */
  constructor(port: EnginePort, host: RunnerHost) {
    this.#port = port;
    this.#host = host;
    this.#publisher = this.#newPublisher();
    port.onMessage = (message) => this.#receive(message);
    captureConsole(this);
    endOnUncaughtError((reason) => port.post({ t: "fatal", reason }));
  }

  /** The task running now, if any. */
  get taskId(): number | undefined {
    return this.#taskId;
  }

  /** Sends what the running task printed; returns `false` outside a task. */
  write(name: "stdout" | "stderr", text: string): boolean {
    if (this.#taskId === undefined) return false;
    this.#port.post({ t: "stream", taskId: this.#taskId, name, text });
    return true;
  }

  #receive(message: ToEngine): void {
    switch (message.t) {
      case "init": {
        this.#engineId = message.engineId;
        this.#sandboxed = message.sandboxed === true;
        if (message.acks) this.#acks = new Int32Array(message.acks);
        this.#publisher = this.#newPublisher();
        installEngineContext({
          engineId: message.engineId,
          publishData: (data) => this.#publisher.publish(data),
        });
        installNamespace(message.engineId);
        this.#port.post({ t: "ready" });
        return;
      }
      case "run": {
        let run = message;
        try {
          run = this.#puts.takeIn(message);
        } catch (error) {
          this.#refused.set(run, error);
        }
        this.#queue.push(run);
        this.#next();
        return;
      }
      case "release":
        this.#puts.release(message);
        return;
      case "interrupt":
      case "stop":
        return; // Handled by the engine process around this thread.
      case "spare":
        for (const array of message.arrays) keepSpare(array.buffer);
        return;
      case "cancel": {
        const drop = new Set(message.taskIds);
        const dropped = this.#queue.filter((m) => drop.has(m.taskId));
        this.#queue = this.#queue.filter((m) => !drop.has(m.taskId));
        this.#port.post({
          t: "cancelled",
          taskIds: dropped.map((m) => m.taskId),
        });
        return;
      }
      case "ping": {
        const reason = this.#host.fatal?.();
        // Its heap: a Worker's own isolate. The process's rss is the
        // client's (a Worker engine) or said by the relay (a process).
        this.#port.post(
          reason
            ? { t: "fatal", reason, cause: "heap" }
            : { t: "pong", memory: { heapBytes: Deno.memoryUsage().heapUsed } },
        );
        return;
      }
    }
  }

  #next(): void {
    if (this.#busy || this.#queue.length === 0) return;
    this.#busy = true;
    this.#host.schedule(() => this.#runQueued());
  }

  /**
   * Runs queued tasks on this macrotask (a plain one, see `schedule`): a
   * task that ends synchronously, its `done` posted, is followed at once by
   * the next, without a turn of the event loop between them (a turn costs
   * more than a tiny task), for at most `CHAIN_MS`; then messages are read.
   * A task that awaits ends the chain: the next starts on a macrotask of
   * its own, as every task did before.
   */
  #runQueued(): void {
    let until: number | undefined;
    while (this.#queue.length > 0) {
      const pending = this.#run(this.#queue.shift()!);
      if (pending) {
        pending.finally(() => {
          this.#busy = false;
          this.#next();
        });
        return;
      }
      // The task's own timestamps tell the time: a clock read costs about
      // as much as a tiny task, and a no-op task made two more of them.
      until ??= this.#lastStarted + CHAIN_MS;
      if (this.#lastCompleted >= until) break;
    }
    this.#busy = false;
    this.#next();
  }

  /** Runs one task; a promise if it did not end synchronously. */
  #run(message: RunMessage): Promise<void> | undefined {
    const { taskId } = message;
    this.#taskId = taskId;
    Atomics.store(this.#acks, RUNNING_SLOT, taskId);
    const started = epochMs();
    this.#lastStarted = started;
    if (this.#refused.has(message)) {
      this.#done(message, started, {
        ok: false,
        error: this.#refused.get(message),
      });
      return;
    }
    if (message.fn.kind !== "source" || message.mode === "map") {
      return this.#runAsync(message, started);
    }
    let value: unknown;
    try {
      value = this.#compile(message.fn.source)(...message.args);
    } catch (error) {
      this.#done(message, started, { ok: false, error });
      return;
    }
    if (isThenable(value)) return this.#awaitValue(message, started, value);
    this.#done(message, started, { ok: true, value });
  }

  /** A module function, or a map chunk: always awaited. */
  async #runAsync(message: RunMessage, started: number): Promise<void> {
    let outcome: Outcome;
    try {
      const fn = message.fn.kind === "source"
        ? this.#compile(message.fn.source)
        : await this.#load(message.fn.url, message.fn.name);
      let value = message.mode === "map"
        ? await mapColumns(fn, message.args as ArrayLike<unknown>[])
        : fn(...message.args);
      if (isThenable(value)) value = await value;
      outcome = { ok: true, value };
    } catch (error) {
      outcome = { ok: false, error };
    }
    this.#done(message, started, outcome);
  }

  async #awaitValue(
    message: RunMessage,
    started: number,
    value: PromiseLike<unknown>,
  ): Promise<void> {
    let outcome: Outcome;
    try {
      outcome = { ok: true, value: await value };
    } catch (error) {
      outcome = { ok: false, error };
    }
    this.#done(message, started, outcome);
  }

  /** The task ended with `outcome`: its `done` goes now. */
  #done(message: RunMessage, started: number, result: Outcome): void {
    const { taskId } = message;
    let outcome = result;
    this.#publisher.flush();
    this.#taskId = undefined;
    Atomics.store(this.#acks, RUNNING_SLOT, 0);
    const completed = epochMs();
    this.#lastCompleted = completed;
    const base = { t: "done", taskId, started, completed } as const;
    if (outcome.ok) {
      try {
        // Structured clone would strip a class instance to `{}` silently.
        checkCrossable(
          outcome.value,
          message.mode === "map"
            ? "this map chunk's results"
            : "the task's result",
        );
      } catch (error) {
        outcome = { ok: false, error };
      }
    }
    if (outcome.ok) {
      try {
        this.#port.post({ ...base, ok: true, value: outcome.value });
        return;
      } catch (error) {
        outcome = { ok: false, error: unsendableResult(outcome.value, error) };
      }
    }
    const source = message.fn.kind === "source" ? message.fn.source : "";
    this.#port.post({
      ...base,
      ok: false,
      error: explain(outcome.error, source, this.#sandboxed),
    });
  }

  #compile(source: string): (...args: unknown[]) => unknown {
    let fn = this.#compiled.get(source);
    if (fn) return fn;
    const factory = new Function(
      "publishData",
      "engineId",
      `return (${source}\n);`,
    );
    fn = factory(publishData, this.#engineId);
    if (typeof fn !== "function") {
      throw new TypeError(
        `the shipped source is not a function, it evaluates to ${typeof fn}`,
      );
    }
    if (this.#compiled.size >= COMPILED_CACHE_SIZE) {
      this.#compiled.delete(this.#compiled.keys().next().value!);
    }
    this.#compiled.set(source, fn);
    return fn;
  }

  /** Imports a module once per engine and returns the named function. */
  async #load(
    url: string,
    name: string,
  ): Promise<(...args: unknown[]) => unknown> {
    let module = this.#modules.get(url);
    if (!module) {
      module = import(url).catch((error) => {
        this.#modules.delete(url);
        throw moduleImportError(url, error, this.#sandboxed);
      });
      this.#modules.set(url, module);
    }
    const fn = (await module)[name];
    if (typeof fn !== "function") {
      const what = fn === undefined ? "no export" : `a ${typeof fn} export`;
      throw new TypeError(
        `${url} has ${what} named "${name}", not a function`,
      );
    }
    return fn as (...args: unknown[]) => unknown;
  }

  #newPublisher(): Publisher {
    return new Publisher(
      this.#port,
      this.#engineId,
      this.#acks,
      () => this.#taskId,
    );
  }
}

/** `fn` over the rows of `columns`, in order, one at a time. */
async function mapColumns(
  fn: (...args: unknown[]) => unknown,
  columns: ArrayLike<unknown>[],
): Promise<unknown[]> {
  const n = columns.length === 0 ? 0 : columns[0].length;
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    let value = fn(...columns.map((column) => column[i]));
    if (isThenable(value)) value = await value;
    out[i] = value;
  }
  return out;
}

/**
 * Milliseconds since the epoch, to the microsecond: the client's load
 * balancer reads `completed - started` as a task's duration, and tiny
 * tasks take far less than the millisecond of `Date.now()`.
 */
function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === "function";
}
