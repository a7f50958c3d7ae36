/**
 * `AsyncResult`: a handle on tasks that run on engines, as in ipyparallel.
 *
 * @module
 */

import type { TaskObserver, TaskOutcome } from "../actors/engine_actor.ts";
import { CompositeError, TimeoutError } from "../actors/errors.ts";
import { type Publication, PublicationStream } from "../actors/publication.ts";
import type { PublicationSink } from "../actors/registry.ts";

/** Where a task is: waiting, running, or ended one of three ways. */
export type TaskStatus = "queued" | "running" | "ok" | "error" | "aborted";

/**
 * What is known of one task on one engine (ipyparallel's `ar.metadata`).
 *
 * @example
 * ```ts
 * import type { TaskMetadata } from "./async_result.ts";
 * function show(m: TaskMetadata) {
 *   console.log(m.engineId, m.status, m.completed?.toISOString());
 * }
 * ```
 */
export interface TaskMetadata {
  /** The engine the task was sent to. */
  engineId: number;
  /** The task's id. */
  taskId: number;
  /** When the client accepted the task. */
  submitted: Date;
  /**
   * When the task began: the client's clock while it runs, the engine's once
   * it has ended.
   */
  started: Date | null;
  /** When the task ended, by the engine's clock (or the client's, if lost). */
  completed: Date | null;
  /** Where the task is now. */
  status: TaskStatus;
  /** Why it failed, once it has. */
  error: Error | null;
}

/**
 * One task on one engine, as the client follows it. It is the task's
 * observer for the engine actor and its publication sink for the registry.
 */
export class TaskRecord implements TaskObserver, PublicationSink {
  readonly metadata: TaskMetadata;
  data: Record<string, unknown> = {};
  stdout = "";
  stderr = "";
  outcome: TaskOutcome | undefined;
  #listener: TaskListener;

  constructor(engineId: number, taskId: number, listener: TaskListener) {
    this.metadata = {
      engineId,
      taskId,
      submitted: new Date(),
      started: null,
      completed: null,
      status: "queued",
      error: null,
    };
    this.#listener = listener;
  }

  started(): void {
    this.metadata.status = "running";
    // The client's clock for now; the engine's replaces it when it reports.
    this.metadata.started = new Date();
  }

  stream(name: "stdout" | "stderr", text: string): void {
    this[name] += text;
  }

  publish(publication: Publication): void {
    // ipyparallel's `md['data'].update(...)`: merge, do not replace.
    Object.assign(this.data, publication.data);
    this.#listener.published(publication);
  }

  done(outcome: TaskOutcome): void {
    if (this.outcome) return;
    this.outcome = outcome;
    const m = this.metadata;
    if (outcome.started !== undefined) m.started = new Date(outcome.started);
    m.completed = new Date(outcome.completed ?? Date.now());
    if (outcome.ok) {
      m.status = "ok";
    } else {
      m.status = outcome.error.name === "TaskAbortedError"
        ? "aborted"
        : "error";
      m.error = outcome.error;
    }
    this.#listener.finished(this);
  }
}

/** How an `AsyncResult` hears from its task records. */
export interface TaskListener {
  published(publication: Publication): void;
  finished(record: TaskRecord): void;
}

/** One value for a single-engine result, an array for a multi one. */
export type Shaped<V, Single extends boolean> = Single extends true ? V : V[];

/**
 * The handle `applyAsync` returns. Awaiting it gives the result (`T`), or
 * throws the task's error: for a single-engine view the `RemoteError` or
 * `EngineError` itself, for a multi-engine view a `CompositeError` that also
 * keeps the values of the engines that succeeded.
 *
 * While the tasks run, `data` shows what they published, merged key by key
 * per engine, and it keeps the last state after they end.
 *
 * @example
 * ```ts
 * import { Client } from "../mod.ts";
 * await using client = await Client.start({ workers: 2 });
 * const ar = client.view().applyAsync(() => {
 *   publishData({ step: 1 });
 *   return engineId;
 * });
 * console.log(await ar, ar.data); // [0, 1] [{ step: 1 }, { step: 1 }]
 * ```
 */
export class AsyncResult<T, Single extends boolean = boolean>
  implements PromiseLike<T> {
  #records: TaskRecord[];
  #single: boolean;
  #abort: (taskIds: ReadonlySet<number>) => void;
  #finished = 0;
  #all: PromiseWithResolvers<void> = Promise.withResolvers();
  #submitted = performance.now();
  #elapsed: number | undefined;
  #streams = new Set<PublicationStream>();

  /**
   * Built by views, not by users: `start(listener)` must create and submit
   * the records, reporting to `listener`.
   */
  constructor(
    single: boolean,
    start: (listener: TaskListener) => TaskRecord[],
    abort: (taskIds: ReadonlySet<number>) => void,
  ) {
    this.#single = single;
    this.#abort = abort;
    this.#records = [];
    this.#records = start({
      published: (p) => {
        for (const stream of this.#streams) stream.push(p);
      },
      finished: () => this.#onFinished(),
    });
    if (this.#records.length === this.#finished) this.#complete();
  }

  /**
   * The result: waits for every engine, then returns the value (or throws the
   * error). With `timeoutMs`, rejects with a `TimeoutError` if the tasks are
   * not done in time; the tasks keep running.
   */
  async get(timeoutMs?: number): Promise<T> {
    if (!(await this.wait(timeoutMs))) {
      throw new TimeoutError(
        `the result is not ready after ${timeoutMs} ms (${this.progress} of ` +
          `${this.#records.length} tasks done); the tasks keep running: ` +
          "wait longer, or stop them with abort()",
      );
    }
    return this.#result();
  }

  /** Lets `await ar` mean `await ar.get()`. */
  then<A = T, B = never>(
    onFulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.get().then(onFulfilled, onRejected);
  }

  /** `true` once every engine has answered. */
  ready(): boolean {
    return this.#finished === this.#records.length;
  }

  /** Resolves `true` once ready, or `false` if `timeoutMs` passes first. */
  async wait(timeoutMs?: number): Promise<boolean> {
    if (this.ready()) return true;
    if (timeoutMs === undefined) {
      await this.#all.promise;
      return true;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(0, timeoutMs));
    });
    try {
      return await Promise.race([this.#all.promise.then(() => true), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** `true` if every task succeeded. Throws if they are not all done. */
  successful(): boolean {
    if (!this.ready()) {
      throw new Error(
        "successful() needs a finished result; check ready() or await wait()",
      );
    }
    return this.#records.every((r) => r.outcome?.ok);
  }

  /**
   * What the tasks published, merged key by key per engine; live while they
   * run. A single-engine result gives the object, a multi one an array of
   * them in target order.
   */
  get data(): Shaped<Record<string, unknown>, Single> {
    return this.#shape((r) => r.data);
  }

  /** What the tasks printed with `console.log`, `info` and `debug`. */
  get stdout(): Shaped<string, Single> {
    return this.#shape((r) => r.stdout);
  }

  /** What the tasks printed with `console.warn` and `console.error`. */
  get stderr(): Shaped<string, Single> {
    return this.#shape((r) => r.stderr);
  }

  /** Per engine: where the task ran, when, and how it ended. A copy. */
  get metadata(): Shaped<TaskMetadata, Single> {
    return this.#shape((r) => ({ ...r.metadata }));
  }

  /** How many of the tasks have finished. */
  get progress(): number {
    return this.#finished;
  }

  /** Milliseconds since submission; frozen once every task has finished. */
  get elapsed(): number {
    return this.#elapsed ?? performance.now() - this.#submitted;
  }

  /** The engines the tasks went to, in target order. */
  get engineIds(): number[] {
    return this.#records.map((r) => r.metadata.engineId);
  }

  /** The tasks' ids, in target order. */
  get taskIds(): number[] {
    return this.#records.map((r) => r.metadata.taskId);
  }

  /**
   * The tasks' publications from now on, as they arrive and never reordered;
   * ends when every task has finished. A slow reader costs bounded memory:
   * unread publications of one engine merge.
   */
  publications(): AsyncIterable<Publication> {
    const stream = new PublicationStream(() => this.#streams.delete(stream));
    if (this.ready()) stream.end();
    else this.#streams.add(stream);
    return stream;
  }

  /**
   * Stops the tasks: queued ones never run, running ones are stopped by
   * restarting their engine (which loses its globals). Both fail with
   * `TaskAbortedError`; tasks that had finished keep their result. Resolves
   * once every task of this result has settled.
   */
  async abort(): Promise<void> {
    const unfinished = this.#records.filter((r) => !r.outcome);
    if (unfinished.length === 0) return;
    this.#abort(new Set(unfinished.map((r) => r.metadata.taskId)));
    await this.#all.promise;
  }

  /** Names the class in `Object.prototype.toString`. */
  get [Symbol.toStringTag](): string {
    return "AsyncResult";
  }

  #onFinished(): void {
    this.#finished++;
    if (this.#finished === this.#records.length) this.#complete();
  }

  #complete(): void {
    this.#elapsed ??= performance.now() - this.#submitted;
    for (const stream of [...this.#streams]) stream.end();
    this.#all.resolve();
  }

  #result(): T {
    const outcomes = this.#records.map((r) => r.outcome!);
    if (this.#single) {
      const o = outcomes[0];
      if (!o.ok) throw o.error;
      return o.value as T;
    }
    const errors = outcomes.flatMap((o) => o.ok ? [] : [o.error]);
    const values = outcomes.map((o) => o.ok ? o.value : undefined);
    if (errors.length > 0) throw new CompositeError(errors, values);
    return values as T;
  }

  #shape<V>(pick: (r: TaskRecord) => V): Shaped<V, Single> {
    return (this.#single
      ? pick(this.#records[0])
      : this.#records.map(pick)) as Shaped<V, Single>;
  }
}
