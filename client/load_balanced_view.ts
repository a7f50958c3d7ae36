/**
 * `LoadBalancedView`: tasks go to whichever engine frees up first, as
 * ipyparallel's `load_balanced_view()`.
 *
 * @module
 */

import type { Cluster, Placement } from "../cluster/cluster.ts";
import type { FunctionRef, TaskSpec } from "../protocol/messages.ts";
import type { AsyncResult } from "./async_result.ts";
import type { Arguments } from "./value_ref.ts";
import { balancedResult } from "./balanced_tasks.ts";
import { QueueLimit } from "./queue_limit.ts";
import {
  type ImapOptions,
  imapSettings,
  type ImapSource,
  imapTasks,
} from "./imap.ts";
import {
  type CallOptions,
  checkCallOptions,
  mergeCallOptions,
  pickCallOptions,
} from "./call_options.ts";
import type { FailureWatch } from "./unobserved_failures.ts";
import { checkOptions } from "./options.ts";
import {
  checkLoadBalancedValues,
  checkOrdered,
  LOAD_BALANCED_OPTIONS,
  type LoadBalancedOptions,
  MAP_OPTIONS,
  type MapOptions,
} from "./load_balanced_options.ts";
import {
  bounds,
  checkColumns,
  isOptionsObject,
  type MapArguments,
  type Sequence,
  slice,
} from "./partition.ts";
import {
  checkParallelOptions,
  type ParallelFunction,
  parallelFunction,
  type RemoteFunction,
  remoteFunction,
} from "./view_functions.ts";
import {
  functionRef,
  type Runnable,
  type TaskFunction,
  type TaskValue,
} from "./task_function.ts";
import { viewEngineCount } from "./view_engines.ts";
import { type CallTrace, sealedAtEnd, tracingOf } from "./task_tracing.ts";

export type { LoadBalancedOptions, MapOptions };

/**
 * A view whose tasks the scheduler hands to the engine with the least
 * outstanding work (one at a time each, or more for tiny tasks: see
 * `highWaterMark`), as engines free up.
 *
 * @example
 * ```ts
 * import { Client, engineId } from "@troupe/parallel";
 * await using client = await Client.start({ workers: 2 });
 * const lv = client.loadBalancedView({ retries: 1 });
 * console.log(await lv.applySync(() => engineId)); // 0 or 1
 * console.log(await lv.mapSync((x: number) => x * x, [1, 2, 3])); // [1, 4, 9]
 * const add = (a: number, b: number) => a + b;
 * console.log(await lv.mapSync(add, [1, 2], [10, 20], { chunkSize: 1 })); // [11, 22]
 * ```
 */
export class LoadBalancedView {
  #cluster: Cluster;
  #failures: FailureWatch;
  #targets: readonly number[] | undefined;
  #options:
    & Required<Pick<LoadBalancedOptions, "retries">>
    & LoadBalancedOptions;
  /** Where this view's tasks go, until its options change: one per view. */
  #placement: Placement | undefined;
  #abort = (taskIds: ReadonlySet<number>): void => this.#cluster.abort(taskIds);
  /** What every call of this view carries (`with`). */
  #call: CallOptions = {};
  /** The count against `maxQueue`, if the view has one (shared by `with`). */
  #queue: QueueLimit | undefined;

  /** Views come from `client.loadBalancedView()`. */
  constructor(
    cluster: Cluster,
    failures: FailureWatch,
    targets: number[] | undefined,
    options: LoadBalancedOptions,
  ) {
    this.#cluster = cluster;
    this.#failures = failures;
    // Distinct ids: they count engines for the chunk size.
    this.#targets = targets ? [...new Set(targets)] : undefined;
    checkOptions("loadBalancedView options", options, LOAD_BALANCED_OPTIONS);
    this.#options = { retries: 0, ...options };
    checkLoadBalancedValues(this.#options);
    const { maxQueue = Infinity } = this.#options;
    if (maxQueue !== Infinity) this.#queue = new QueueLimit(maxQueue);
  }

  /** Runs left for a task whose engine died. */
  get retries(): number {
    return this.#options.retries;
  }

  /** Sets the retries of tasks submitted from now on. */
  set retries(retries: number) {
    checkLoadBalancedValues({ ...this.#options, retries });
    this.#options.retries = retries;
    this.#placement = undefined;
  }

  /** The start deadline of tasks submitted from now on, if any. */
  get timeoutMs(): number | undefined {
    return this.#options.timeoutMs;
  }

  /** Sets the start deadline of tasks submitted from now on. */
  set timeoutMs(timeoutMs: number | undefined) {
    checkLoadBalancedValues({ ...this.#options, timeoutMs });
    this.#options.timeoutMs = timeoutMs;
    this.#placement = undefined;
  }

  /**
   * A view like this one (same engines, same options) whose calls carry
   * `options` too: a `signal` that aborts them, dependencies (`after`,
   * `follow`, `onDependencyFailure`). `lv.with(a).with(b)` carries both,
   * `b`'s fields winning. Throws a `TypeError` on an unknown name or a
   * wrong value.
   *
   * @example
   * ```ts
   * import { Client } from "@troupe/parallel";
   * await using client = await Client.start({ workers: 1 });
   * const controller = new AbortController();
   * const lv = client.loadBalancedView().with({ signal: controller.signal });
   * console.log(await lv.applySync(() => 6 * 7)); // 42
   * ```
   */
  with(options: CallOptions): LoadBalancedView {
    checkCallOptions("with options", options, "balanced");
    const view = new LoadBalancedView(
      this.#cluster,
      this.#failures,
      this.#targets && [...this.#targets],
      this.#options,
    );
    view.#call = mergeCallOptions(this.#call, options);
    view.#queue = this.#queue;
    return view;
  }

  /**
   * Runs `fn(...args)` on one engine, whichever frees up first. Throws at
   * once, and runs nothing, if `fn` cannot be shipped or the client has no
   * engine and cannot gain one.
   */
  applyAsync<F extends TaskFunction>(
    fn: Runnable<F>,
    ...args: Arguments<Parameters<NoInfer<F>>>
  ): AsyncResult<TaskValue<F>, true> {
    return this.#submit(
      true,
      [args],
      undefined,
      functionRef(fn),
      undefined,
      false,
      this.#call,
    );
  }

  /** `applyAsync`, then its result. */
  applySync<F extends TaskFunction>(
    fn: Runnable<F>,
    ...args: Arguments<Parameters<NoInfer<F>>>
  ): Promise<TaskValue<F>> {
    return this.applyAsync(fn, ...args).get();
  }

  /**
   * Calls `fn` on every item (with several sequences, on the items at the
   * same index: `fn(a[i], b[i])`, as ipyparallel zips them), `chunkSize`
   * items per task, each task going to the engine that frees up first. A
   * last argument that is a plain object (not an array) is the options.
   * The result is all values in input order; iterating it gives them as
   * they arrive (`ordered: false`: as tasks complete), and `progress`
   * counts items.
   */
  mapAsync<F extends TaskFunction>(
    fn: Runnable<F>,
    ...seqsAndOptions: MapArguments<F, MapOptions>
  ): AsyncResult<TaskValue<F>[], false> {
    const ref = functionRef(fn);
    const last = seqsAndOptions.at(-1);
    const options: MapOptions = isOptionsObject(last) ? last as MapOptions : {};
    const seqs =
      (options === last
        ? seqsAndOptions.slice(0, -1)
        : seqsAndOptions) as Sequence[];
    checkCallOptions("mapAsync options", options, "balanced", MAP_OPTIONS);
    checkOrdered("mapAsync options", options.ordered);
    const call = mergeCallOptions(this.#call, pickCallOptions(options));
    const length = checkColumns(seqs);
    const engines = viewEngineCount(this.#cluster, this.#targets);
    const chunkSize = options.chunkSize ??
      Math.max(1, Math.min(1000, Math.ceil(length / (engines * 8))));
    if (!Number.isInteger(chunkSize) || chunkSize < 1) {
      throw new RangeError(`chunkSize must be a whole number >= 1`);
    }
    const chunks = bounds(length, Math.ceil(length / chunkSize));
    return this.#submit(
      false,
      chunks.map(([start, end]) => seqs.map((seq) => slice(seq, start, end))),
      chunks.map(([start, end]) => end - start),
      ref,
      "map",
      options.ordered === false,
      call,
    );
  }

  /** `mapAsync`, then its result. */
  mapSync<F extends TaskFunction>(
    fn: Runnable<F>,
    ...seqsAndOptions: MapArguments<F, MapOptions>
  ): Promise<TaskValue<F>[]> {
    return this.mapAsync(fn, ...seqsAndOptions).get();
  }

  /**
   * Calls `fn` on each item of `source` (an Iterable or AsyncIterable,
   * pulled lazily), one task per item, with at most `maxOutstanding` tasks
   * in flight (default: twice the view's engines), and gives the values in
   * input order, or as they complete with `ordered: false`. Each task goes
   * to whichever engine frees up first (ipyparallel's `imap`, without its
   * #743: every engine gets items). Whatever is done is given back while
   * the source is slow, so a source that feeds on the values works. A
   * task's failure is thrown at its place (or when it comes, unordered); an
   * error of the source after the values of the items pulled before it. A
   * failure, a source error or a `break` stops only the tasks no engine has
   * yet: running ones run to their end, their values dropped, and the
   * engines keep their globals (as Python's `Pool.imap`); the source is
   * closed. An aborted `signal` is a "stop": every task is aborted as
   * `ar.abort()` does (a running one restarts its Worker engine / replaces a
   * process engine's task thread), and the iterator throws. One iterable
   * only: zip several yourself. Items go through `applyAsync`'s path: the
   * view's call options apply, a `maxQueue` caps `maxOutstanding` and imap
   * waits for a full queue (never a `QueueFullError`), and an item that
   * is a `ValueRef` (`client.put`), an `AsyncResult` or `ar.item(i)` is
   * its value to the task, as an argument of `applyAsync` is.
   *
   * @example
   * ```ts
   * import { Client } from "@troupe/parallel";
   * await using client = await Client.start({ workers: 2 });
   * const lv = client.loadBalancedView();
   * function* numbers() {
   *   for (let i = 0; ; i++) yield i;
   * }
   * for await (const square of lv.imap((x: number) => x * x, numbers())) {
   *   console.log(square); // 0, 1, 4, 9
   *   if (square >= 9) break; // stops what waits, closes numbers()
   * }
   * ```
   */
  imap<F extends TaskFunction>(
    fn: Runnable<F>,
    // Each item is its task's one argument, so it may be a ref or future.
    source: ImapSource<Arguments<[Parameters<F>[0]]>[0]>,
    options: ImapOptions = {},
  ): AsyncIterableIterator<TaskValue<F>> {
    const engines = viewEngineCount(this.#cluster, this.#targets);
    const queue = this.#queue;
    const settings = imapSettings(source, options, engines, queue?.maxQueue);
    const ref = functionRef(fn);
    const call = mergeCallOptions(this.#call, { signal: settings.signal });
    const trace = tracingOf(this.#cluster)
      ?.call("imap", "balanced", ref, call.traceparent);
    const tasks: AsyncIterableIterator<TaskValue<F>> = imapTasks(
      (item) => {
        const ar = this.#submit<AsyncResult<TaskValue<F>, true>>(
          true,
          [[item]],
          undefined,
          ref,
          undefined,
          false,
          call,
          trace,
        );
        return {
          then: (ok, fail) => ar.then(ok, fail),
          abort: () => ar.abort(),
          // Not yet sent to an engine: stopping it restarts nothing.
          waiting: () => ar.engineIds.every((id) => id === -1),
        };
      },
      source,
      { ...settings, signal: call.signal, room: queue && (() => queue.room()) },
    );
    return trace ? sealedAtEnd(tasks, trace) : tasks;
  }

  /**
   * `fn` as a function that runs on this view (ipyparallel's
   * `@view.remote`): `f(...args)` is `applyAsync(fn, ...args)`, its one
   * value. Throws at once if `fn` cannot be shipped.
   *
   * @example
   * ```ts
   * import { Client } from "@troupe/parallel";
   * await using client = await Client.start({ workers: 2 });
   * const lv = client.loadBalancedView();
   * const double = lv.remote((x: number) => x * 2);
   * console.log(await double(21)); // 42
   * const squares = lv.parallel((x: number) => x * x, { chunkSize: 1 });
   * console.log(await squares([1, 2, 3])); // [1, 4, 9]
   * ```
   */
  remote<F extends TaskFunction>(
    fn: Runnable<F>,
  ): RemoteFunction<F, AsyncResult<TaskValue<F>, true>> {
    return remoteFunction((args) => this.applyAsync(fn, ...args), fn);
  }

  /**
   * `fn` as a function that maps it over its sequence arguments on this
   * view (ipyparallel's `@view.parallel`): `p(seq)` and `p.map(seq)` are
   * `mapAsync(fn, seq, options)`, one call of `fn` per element. `options`
   * are checked now, as `mapAsync`'s ("parallel options").
   */
  parallel<F extends TaskFunction>(
    fn: Runnable<F>,
    options: MapOptions = {},
  ): ParallelFunction<F, AsyncResult<TaskValue<F>[], false>> {
    checkParallelOptions(options);
    return parallelFunction(
      (seqs) => this.mapAsync(fn, ...seqs, options),
      fn,
    );
  }

  // deno-lint-ignore no-explicit-any
  #submit<R extends AsyncResult<any, any>>(
    single: boolean,
    argsPerTask: unknown[][],
    items: number[] | undefined,
    fn: FunctionRef,
    mode: TaskSpec["mode"],
    unordered: boolean,
    call: CallOptions,
    imapTrace?: CallTrace,
  ): R {
    // One placement for all the tasks of the view: the cluster reads it
    // once per call. maxQueue is this side's: the scheduler never sees it.
    const { maxQueue: _, ...balanced } = this.#options;
    const placement = this.#placement ??= {
      balanced: { targets: this.#targets, ...balanced },
    };
    return balancedResult<R>(
      {
        cluster: this.#cluster,
        failures: this.#failures,
        abort: this.#abort,
        queue: this.#queue,
        placement,
      },
      { single, argsPerTask, items, fn, mode, unordered, call, imapTrace },
    );
  }
}
