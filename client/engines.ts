/**
 * What views need from the client: its engines, its registry, task ids.
 *
 * @module
 */

import type { EngineActor, TaskObserver } from "../actors/engine_actor.ts";
import type { FunctionRef } from "../actors/messages.ts";
import type { Registry } from "../actors/registry.ts";
import type { TaskRecord } from "./async_result.ts";

/**
 * The client's engines as views see them.
 *
 * @example
 * ```ts
 * import type { Engines } from "./engines.ts";
 * declare const engines: Engines;
 * console.log(engines.ids());
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
 * declare const engines: Engines;
 * declare const record: TaskRecord;
 * submit(engines, record, { kind: "source", source: "() => 1" }, []);
 * ```
 */
export function submit(
  engines: Engines,
  record: TaskRecord,
  fn: FunctionRef,
  args: unknown[],
  mode?: "apply" | "map",
  observer: TaskObserver = record,
): void {
  const { engineId, taskId } = record;
  engines.registry.tell({ kind: "watch", taskId, sink: record });
  engines.get(engineId)!.tell({
    kind: "submit",
    task: { taskId, fn, mode, args, observer },
  });
}
