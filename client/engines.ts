/**
 * What views need from the client: its engines, its registry, task ids.
 *
 * @module
 */

import type { EngineActor, Task } from "../cluster/engine_actor.ts";
import type { FunctionRef } from "../protocol/messages.ts";
import type { PublicationSink, Registry } from "../cluster/registry.ts";
import type { TaskRecord } from "./async_result.ts";
import type { FailureWatch } from "./unobserved_failures.ts";
import {
  ANY_ENGINE,
  checkCrossable,
  type CrossingRules,
  ENGINE_PROCESS,
} from "../transport/crossable.ts";

/**
 * The client's engines as views see them.
 *
 * @example
 * ```ts
 * import type { Engines } from "./engines.ts";
 * function describe(engines: Engines) {
 *   console.log(engines.ids());
 * }
 * ```
 */
export interface Engines {
  /** Ids of the live engines, ascending. */
  ids(): number[];
  /** The engine with this id, dead or alive, if it ever existed. */
  get(engineId: number): EngineActor | undefined;
  /** The registry that routes publications. */
  readonly registry: Registry;
  /** A fresh task id. */
  nextTaskId(): number;
  /** Where results report failures that nothing observed. */
  readonly failures: FailureWatch;
}

/**
 * How a view's tasks take their arguments, so that a refused value is named
 * as the caller wrote it.
 *
 * @example
 * ```ts
 * import type { ArgumentLayout } from "./engines.ts";
 * const chunks: ArgumentLayout = { items: [3, 3, 2] }; // a map of 8 items
 * ```
 */
export interface ArgumentLayout {
  /**
   * A map's items per task: each task's arguments are then slices of the
   * sequences, one per sequence, and `items` says where each starts.
   */
  items?: readonly number[];
  /** The tasks set globals: their one argument is a `push` namespace. */
  pushed?: boolean;
  /**
   * `false` when some engine the tasks go to is an engine process, which
   * shares no memory with the client: a `SharedArrayBuffer` is refused at
   * the call then. Unknown (a load-balanced view) counts as `true`; the
   * engine process refuses it when the task is sent.
   */
  sharedMemory?: boolean;
}

/**
 * Refuses, before any task is sent, a value that would not arrive as it
 * left (`transport/crossable.ts`): a `TypeError` that names where it is,
 * what it is, what crosses and what to do. Every view checks its tasks
 * here, so the call throws and nothing runs, as for a function that cannot
 * be shipped.
 *
 * @example
 * ```ts
 * import { checkArguments } from "./engines.ts";
 * checkArguments([[1, "two", { three: [3] }]]); // fine
 * try {
 *   checkArguments([[1, AbortSignal.timeout(10)]]);
 * } catch (error) {
 *   console.log((error as Error).message); // argument 2 is an AbortSignal, ...
 * }
 * ```
 */
export function checkArguments(
  argsPerTask: readonly (readonly unknown[])[],
  layout: ArgumentLayout = {},
): void {
  const { items, pushed } = layout;
  const rules = layout.sharedMemory === false ? ENGINE_PROCESS : ANY_ENGINE;
  let start = 0;
  let previous: readonly unknown[] | undefined;
  argsPerTask.forEach((args, task) => {
    const first = start;
    if (items) start += items[task];
    // A view's tasks often share one argument list: check it once.
    if (args === previous) return;
    previous = args;
    if (items) {
      checkItems(args, first, args.length > 1, rules);
    } else if (pushed) {
      const namespace = args[0] as Record<string, unknown>;
      for (const name of Object.keys(namespace)) {
        checkCrossable(
          namespace[name],
          `the value pushed as "${name}"`,
          rules,
        );
      }
    } else {
      for (let i = 0; i < args.length; i++) {
        checkCrossable(args[i], `argument ${i + 1}`, rules);
      }
    }
  });
}

/** A map's slices: items are numbered as in the whole sequence. */
function checkItems(
  slices: readonly unknown[],
  start: number,
  several: boolean,
  rules: CrossingRules,
): void {
  slices.forEach((slice, k) => {
    if (ArrayBuffer.isView(slice)) return; // Numbers only.
    const seq = slice as ArrayLike<unknown>;
    const of = several ? ` of sequence ${k + 1}` : "";
    for (let i = 0; i < seq.length; i++) {
      checkCrossable(seq[i], `item ${start + i}${of}`, rules);
    }
  });
}

/**
 * Hands a task to its engine. Its publications are routed to `record`
 * before the engine can send any.
 *
 * @example
 * ```ts
 * import { submit } from "./engines.ts";
 * import type { Engines } from "./engines.ts";
 * import type { TaskRecord } from "./async_result.ts";
 * function one(engines: Engines, record: TaskRecord) {
 *   submit(engines, record, { kind: "source", source: "() => 1" }, []);
 * }
 * ```
 */
export function submit(
  engines: Engines,
  record: TaskRecord,
  fn: FunctionRef,
  args: unknown[],
  mode?: "apply" | "map",
): void {
  const { engineId, taskId } = record;
  submitTask(engines.registry, engines.get(engineId)!, {
    taskId,
    fn,
    mode,
    args,
    observer: record,
  }, record);
}

/**
 * Hands `task` to `engine`, routing its publications to `sink` first so that
 * none is missed. Direct views and the scheduler both submit through here.
 *
 * @example
 * ```ts
 * import { submitTask } from "./engines.ts";
 * import type { EngineActor, Task } from "../cluster/engine_actor.ts";
 * import type { PublicationSink, Registry } from "../cluster/registry.ts";
 * function hand(
 *   registry: Registry,
 *   engine: EngineActor,
 *   task: Task,
 *   sink: PublicationSink,
 * ) {
 *   submitTask(registry, engine, task, sink);
 * }
 * ```
 */
export function submitTask(
  registry: Registry,
  engine: EngineActor,
  task: Task,
  sink: PublicationSink,
): void {
  registry.tell({ kind: "watch", taskId: task.taskId, sink });
  engine.tell({ kind: "submit", task });
}
