/**
 * What views need from the client: its engines, its registry, task ids.
 *
 * @module
 */

import type { EngineActor, Task } from "../actors/engine_actor.ts";
import type { FunctionRef } from "../actors/messages.ts";
import type { PublicationSink, Registry } from "../actors/registry.ts";
import type { TaskRecord } from "./async_result.ts";
import type { FailureWatch } from "./unobserved_failures.ts";

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
 * import type { EngineActor, Task } from "../actors/engine_actor.ts";
 * import type { PublicationSink, Registry } from "../actors/registry.ts";
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
