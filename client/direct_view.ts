/**
 * `DirectView`: run functions on chosen engines and reach into their
 * namespaces, as ipyparallel's `c[:]`, `c[0]` and `c[[0, 2]]`.
 *
 * @module
 */

import type { FunctionRef } from "../protocol/messages.ts";
import { EXECUTE, PULL, PUSH } from "../protocol/namespace_ops.ts";
import type { AsyncResult } from "./async_result.ts";
import { type DirectHome, directResult } from "./direct_tasks.ts";
import { namespaceCall } from "./call_signal.ts";
import { checkNamespace, pullValues } from "./namespace_calls.ts";
import { liveTargets } from "./view_targets.ts";
import type { PerEngine } from "./per_engine.ts";
import type { Arguments } from "./value_ref.ts";
import {
  type CallOptions,
  checkCallOptions,
  mergeCallOptions,
} from "./call_options.ts";
import type { Cluster } from "../cluster/cluster.ts";
import type { FailureWatch } from "./unobserved_failures.ts";
import {
  bounds,
  checkColumns,
  checkSequence,
  concatParts,
  mapChunks,
  type MapSequences,
  type Sequence,
  slice,
} from "./partition.ts";
import {
  globalName,
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

/**
 * Which engines a view runs on: `"all"` (every engine alive at each call),
 * one id (results unwrapped), or a list of ids.
 */
export type Targets = "all" | number | number[];

/**
 * A view on fixed engines (or on all of them). Each engine runs its tasks one
 * at a time, in the order they were submitted.
 *
 * A task is a function shipped by its source text, or a module function
 * (`moduleFunction`). A shipped function must not use the client's
 * variables: its inputs are its arguments and the engine's globals;
 * `publishData` and `engineId` are in scope inside it without an import.
 *
 * `Single` is `true` for a single-engine view (`client.view(3)`), whose
 * results are unwrapped.
 *
 * @example
 * ```ts
 * import { Client } from "@troupe/parallel";
 * await using client = await Client.start({ workers: 2 });
 * const dv = client.view();
 * console.log(await dv.applySync((a: number, b: number) => a + b, 1, 2)); // [3, 3]
 * await dv.push({ scale: 10 });
 * console.log(await dv.mapSync((x: number) => x * 2, [1, 2, 3])); // [2, 4, 6]
 * await dv.scatter("part", [1, 2, 3, 4]);
 * console.log(await dv.gather("part")); // [1, 2, 3, 4]
 * ```
 */
export class DirectView<Single extends boolean = boolean> {
  #cluster: Cluster;
  #failures: FailureWatch;
  #targets: Targets;
  /** What its results share (one abort function per view). */
  #home: DirectHome;
  /** What every call of this view carries (`with`). */
  #call: CallOptions = {};

  /** Views come from `client.view()`. */
  constructor(cluster: Cluster, failures: FailureWatch, targets: Targets) {
    this.#cluster = cluster;
    this.#failures = failures;
    this.#targets = targets;
    this.#home = {
      cluster,
      failures,
      abort: (taskIds) => cluster.abort(taskIds),
    };
  }

  /** The targets as given: `"all"`, one id, or a list of ids. */
  get targets(): Targets {
    return Array.isArray(this.#targets) ? [...this.#targets] : this.#targets;
  }

  /**
   * A view on the same engines whose calls (apply, map, push, pull,
   * execute, scatter, gather) carry `options` too: a `signal` that aborts
   * them, as `ar.abort()` does. `dv.with(a).with(b)` carries both, `b`'s
   * fields winning. Dependencies (`after`, `follow`,
   * `onDependencyFailure`) are a `TypeError` here: they are for
   * load-balanced views.
   *
   * @example
   * ```ts
   * import { Client } from "@troupe/parallel";
   * await using client = await Client.start({ workers: 2 });
   * const controller = new AbortController();
   * const dv = client.view().with({ signal: controller.signal });
   * console.log(await dv.applySync(() => 6 * 7)); // [42, 42]
   * ```
   */
  with(options: CallOptions): DirectView<Single> {
    checkCallOptions("with options", options, "direct");
    const targets = this.#targets;
    const view = new DirectView<Single>(
      this.#cluster,
      this.#failures,
      Array.isArray(targets) ? [...targets] : targets,
    );
    view.#call = mergeCallOptions(this.#call, options);
    return view;
  }

  /**
   * Runs `fn(...args)` on every target engine and returns at once with an
   * `AsyncResult` (ipyparallel's `apply_async`). Throws at once, and runs
   * nothing, if `fn` cannot be shipped or the view has no live engine.
   */
  applyAsync<F extends TaskFunction>(
    fn: Runnable<F>,
    ...args: Arguments<Parameters<NoInfer<F>>>
  ): AsyncResult<PerEngine<TaskValue<F>, Single>, Single> {
    return this.#run(functionRef(fn), () => args);
  }

  /** Same as `applyAsync` (ipyparallel's `apply` on a non-blocking view). */
  apply<F extends TaskFunction>(
    fn: Runnable<F>,
    ...args: Arguments<Parameters<NoInfer<F>>>
  ): AsyncResult<PerEngine<TaskValue<F>, Single>, Single> {
    return this.applyAsync(fn, ...args);
  }

  /** Runs `fn(...args)` and waits for the result (ipyparallel's `apply_sync`). */
  applySync<F extends TaskFunction>(
    fn: Runnable<F>,
    ...args: Arguments<Parameters<NoInfer<F>>>
  ): Promise<PerEngine<TaskValue<F>, Single>> {
    return this.applyAsync(fn, ...args).get();
  }

  /**
   * Calls `fn` on every item (with several sequences, on items at the same
   * index: `fn(a[i], b[i])`), the items split into contiguous parts across
   * the view's engines. Each engine gets its part in a few chunks, not item
   * by item. The result is all values in order; iterating it gives them as
   * they arrive, and `progress` counts items.
   */
  mapAsync<F extends TaskFunction>(
    fn: Runnable<F>,
    ...seqs: MapSequences<F>
  ): AsyncResult<TaskValue<F>[], false> {
    const ref = functionRef(fn);
    const length = checkColumns(seqs);
    const ids = [this.#resolveTargets()].flat();
    const chunks = mapChunks(length, ids);
    return this.#plan<TaskValue<F>[], false>(
      false,
      chunks.map((c) => c.engineId),
      ref,
      (i) => seqs.map((seq) => slice(seq, chunks[i].start, chunks[i].end)),
      this.#call,
      "map",
      chunks.map((c) => c.end - c.start),
    );
  }

  /** `mapAsync`, then its result. */
  mapSync<F extends TaskFunction>(
    fn: Runnable<F>,
    ...seqs: MapSequences<F>
  ): Promise<TaskValue<F>[]> {
    return this.mapAsync(fn, ...seqs).get();
  }

  /**
   * `fn` as a function that runs on this view (ipyparallel's
   * `@view.remote`): `f(...args)` is `applyAsync(fn, ...args)`. Throws at
   * once if `fn` cannot be shipped.
   *
   * @example
   * ```ts
   * import { Client, engineId } from "@troupe/parallel";
   * await using client = await Client.start({ workers: 2 });
   * const where = client.view().remote((x: number) => x + engineId);
   * console.log(await where(10)); // [10, 11]
   * const square = client.view().parallel((x: number) => x * x);
   * console.log(await square([1, 2, 3])); // [1, 4, 9]
   * ```
   */
  remote<F extends TaskFunction>(
    fn: Runnable<F>,
  ): RemoteFunction<F, AsyncResult<PerEngine<TaskValue<F>, Single>, Single>> {
    return remoteFunction(
      (args) => this.applyAsync(fn, ...args),
      fn,
      typeof this.#targets !== "number",
    );
  }

  /**
   * `fn` as a function that maps it over its sequence arguments on this
   * view (ipyparallel's `@view.parallel`): `p(seq)` and `p.map(seq)` are
   * `mapAsync(fn, seq)`, one call of `fn` per element, as ipyparallel's
   * `p.map`; ipyparallel's `p(seq)` gives `fn` whole sub-sequences: use
   * `dv.scatter` and `apply` for that.
   */
  parallel<F extends TaskFunction>(
    fn: Runnable<F>,
  ): ParallelFunction<F, AsyncResult<TaskValue<F>[], false>> {
    return parallelFunction((seqs) => this.mapAsync(fn, ...seqs), fn);
  }

  /**
   * Sets globals on every target engine (ipyparallel's `push`). Values cross
   * with their types; a task on that engine then sees them by name.
   */
  async push(namespace: Record<string, unknown>): Promise<void> {
    checkNamespace(namespace);
    await namespaceCall(this.#run(PUSH, () => [namespace]), this.#call.signal);
  }

  /**
   * Reads globals from every target engine (ipyparallel's `pull`): one name
   * gives its value, a list of names an array of values; per engine for a
   * multi-engine view. A name is read as a task on the engine sees it: a
   * property of `globalThis` or a `let`/`const` that `execute` declared. A
   * name the engine does not have is a `RemoteError`, which says so when
   * the engine restarted (losing its globals) since the name was pushed.
   */
  async pull(name: string): Promise<PerEngine<unknown, Single>>;
  /** Reads several globals: an array of values (per engine). */
  async pull(names: string[]): Promise<PerEngine<unknown[], Single>>;
  async pull(names: string | string[]): Promise<unknown> {
    return await pullValues(
      names,
      (list) => this.#run(PULL, () => [list]),
      typeof this.#targets === "number",
      this.#call.signal,
    );
  }

  /**
   * Sets one global, `name`, on every target engine (ipyparallel's
   * `dv[name] = value`): `push({ [name]: value })`.
   *
   * @example
   * ```ts
   * import { Client } from "@troupe/parallel";
   * await using client = await Client.start({ workers: 2 });
   * const dv = client.view();
   * await dv.set("a", 5);
   * console.log(await dv.get("a"), await client.view(0).get("a")); // [5, 5] 5
   * ```
   */
  async set(name: string, value: unknown): Promise<void> {
    await this.push({ [globalName(name, "set")]: value });
  }

  /**
   * Reads one global, `name` (ipyparallel's `dv[name]`): `pull(name)`, its
   * value per engine, or the value itself on a single-engine view.
   */
  async get(name: string): Promise<PerEngine<unknown, Single>> {
    return await this.pull(globalName(name, "get"));
  }

  /**
   * Runs `code` as a script in the global scope of every target engine
   * (ipyparallel's `execute`), as a notebook cell runs: its declarations
   * (`var`, `function`, `let`, `const`, `class`) and `globalThis.x = ...`
   * persist for later code, tasks and `pull`; `engineId` and `publishData`
   * are in scope, as in tasks. Top-level `await` works, and so do `import`
   * declarations (each binds a copy of the module's export) and `import()`;
   * relative specifiers resolve against the engine's working directory.
   * In code with top-level `await` or `import`, `const` names become `let`.
   * `export` is a `SyntaxError`. An error is a `RemoteError` that names the
   * line; a name declared with `let`/`const` by earlier code cannot be
   * declared again (assign it).
   *
   * @example
   * ```ts
   * import { Client } from "@troupe/parallel";
   * await using client = await Client.start({ workers: 2 });
   * const dv = client.view();
   * await dv.execute(`
   *   import { join } from "node:path";
   *   const where = join("engine", String(engineId));
   *   let ready = await Promise.resolve(true);
   * `);
   * console.log(await dv.pull(["where", "ready"]));
   * // [["engine/0", true], ["engine/1", true]]
   * ```
   */
  async execute(code: string): Promise<void> {
    if (typeof code !== "string") throw new TypeError("execute takes code");
    await namespaceCall(this.#run(EXECUTE, () => [code]), this.#call.signal);
  }

  /**
   * Splits `seq` into contiguous parts, one per target engine in target
   * order, and sets `name` to its part on each (ipyparallel's `scatter`).
   * A typed array is split into typed arrays.
   */
  async scatter(name: string, seq: Sequence): Promise<void> {
    checkSequence(seq, "scatter");
    const ids = [this.#resolveTargets()].flat();
    const parts = bounds(seq.length, ids.length);
    const part = (i: number) => [{ [name]: slice(seq, ...parts[i]) }];
    const pushed = directResult<void, false>(this.#home, {
      single: false,
      engineIds: ids,
      ref: PUSH,
      argsFor: part,
      call: this.#call,
      callKind: "scatter",
    });
    await namespaceCall(pushed, this.#call.signal);
  }

  /**
   * Joins `name` from every target engine, in target order (ipyparallel's
   * `gather`): typed arrays into one typed array, arrays into one array.
   */
  async gather(name: string): Promise<unknown[] | ArrayBufferView> {
    const ids = [this.#resolveTargets()].flat();
    const pulled = directResult<unknown[][], false>(this.#home, {
      single: false,
      engineIds: ids,
      ref: PULL,
      argsFor: () => [[name]],
      call: this.#call,
      callKind: "gather",
    });
    const parts = await namespaceCall(pulled, this.#call.signal);
    return concatParts(parts.map((p) => p[0]), ids, name) as
      | unknown[]
      | ArrayBufferView;
  }

  /** Runs `ref` once per target, with `argsFor(index)`. */
  #run<T>(
    ref: FunctionRef,
    argsFor: (i: number) => unknown[],
  ): AsyncResult<T, Single> {
    const targets = this.#resolveTargets();
    return this.#plan<T>(
      !Array.isArray(targets),
      Array.isArray(targets) ? targets : [targets],
      ref,
      argsFor,
      this.#call,
    );
  }

  /** Submits `ref` to each of `engineIds`, with `argsFor(index)`. */
  #plan<T, S extends boolean = Single>(
    single: boolean,
    engineIds: number[],
    ref: FunctionRef,
    argsFor: (i: number) => unknown[],
    call: CallOptions,
    mode?: "map",
    items?: number[],
  ): AsyncResult<T, S> {
    const tasks = { single, engineIds, ref, argsFor, call, mode, items };
    return directResult<T, S>(this.#home, tasks);
  }

  #resolveTargets(): number | number[] {
    return liveTargets(this.#cluster, this.#targets);
  }
}
