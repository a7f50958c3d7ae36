/**
 * `DirectView`: run a function on chosen engines, as ipyparallel's
 * `c[:]`, `c[0]` and `c[[0, 2]]`.
 *
 * @module
 */

import { AsyncResult, TaskRecord } from "./async_result.ts";
import { type Engines, submit } from "./engines.ts";
import { shippable } from "./shippable.ts";

/**
 * Which engines a view runs on: `"all"` (every engine alive at each call),
 * one id (results unwrapped), or a list of ids.
 */
export type Targets = "all" | number | number[];

/** Any function a task can run. */
// deno-lint-ignore no-explicit-any
export type TaskFunction = (...args: any[]) => unknown;

/** What a task's function gives back, once awaited. */
export type TaskValue<F extends TaskFunction> = Awaited<ReturnType<F>>;

/**
 * A view on fixed engines (or on all of them). Each engine runs its tasks one
 * at a time, in the order they were submitted.
 *
 * A task is a function shipped by its source text: it must not use the
 * client's variables. Its inputs are its arguments and the engine's globals;
 * `publishData` and `engineId` are in scope inside it without an import.
 *
 * `Single` is `true` for a single-engine view (`client.view(3)`), whose
 * results are unwrapped.
 *
 * @example
 * ```ts
 * import { Client } from "../mod.ts";
 * await using client = await Client.start({ workers: 2 });
 * const dv = client.view();
 * console.log(await dv.applySync((a: number, b: number) => a + b, 1, 2)); // [3, 3]
 * console.log(await client.view(1).applySync(() => engineId)); // 1
 * ```
 */
export class DirectView<Single extends boolean = boolean> {
  #engines: Engines;
  #targets: Targets;

  /** Views come from `client.view()`. */
  constructor(engines: Engines, targets: Targets) {
    this.#engines = engines;
    this.#targets = targets;
  }

  /** The targets as given: `"all"`, one id, or a list of ids. */
  get targets(): Targets {
    return Array.isArray(this.#targets) ? [...this.#targets] : this.#targets;
  }

  /**
   * Runs `fn(...args)` on every target engine and returns at once with an
   * `AsyncResult` (ipyparallel's `apply_async`). Throws at once, and runs
   * nothing, if `fn` cannot be shipped or the view has no live engine.
   */
  applyAsync<F extends TaskFunction>(
    fn: F,
    ...args: Parameters<F>
  ): AsyncResult<Single extends true ? TaskValue<F> : TaskValue<F>[], Single> {
    const source = shippable(fn);
    const targets = this.#resolveTargets();
    const engines = this.#engines;
    return new AsyncResult(
      !Array.isArray(targets),
      (listener) =>
        [targets].flat().map((engineId) => {
          const record = new TaskRecord(
            engineId,
            engines.nextTaskId(),
            listener,
          );
          submit(engines, record, source, args);
          return record;
        }),
      (taskIds) => {
        for (const engineId of new Set([targets].flat())) {
          engines.get(engineId)?.tell({ kind: "abort", taskIds });
        }
      },
    );
  }

  /** Same as `applyAsync` (ipyparallel's `apply` on a non-blocking view). */
  apply<F extends TaskFunction>(
    fn: F,
    ...args: Parameters<F>
  ): AsyncResult<Single extends true ? TaskValue<F> : TaskValue<F>[], Single> {
    return this.applyAsync(fn, ...args);
  }

  /** Runs `fn(...args)` and waits for the result (ipyparallel's `apply_sync`). */
  applySync<F extends TaskFunction>(
    fn: F,
    ...args: Parameters<F>
  ): Promise<Single extends true ? TaskValue<F> : TaskValue<F>[]> {
    return this.applyAsync(fn, ...args).get();
  }

  #resolveTargets(): number | number[] {
    const targets = this.#targets;
    if (targets === "all") {
      const ids = this.#engines.ids();
      if (ids.length === 0) {
        throw new Error(
          "no engine is up: start the client with workers, or wait for " +
            "engines with client.waitForEngines(n)",
        );
      }
      return ids;
    }
    return targets;
  }
}
