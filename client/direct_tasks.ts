/**
 * How a direct view's call becomes tasks: one per target engine, placed on
 * it, checked before anything is sent, tied to the call's signal.
 *
 * @module
 */

import type { Cluster, SubmittedTask } from "../cluster/cluster.ts";
import type { FunctionRef } from "../protocol/messages.ts";
import { PUSH } from "../protocol/namespace_ops.ts";
import {
  type AsyncResult,
  type ResultPlan,
  TaskRecord,
} from "./async_result.ts";
import type { CallOptions } from "./call_options.ts";
import { signalledResult } from "./call_signal.ts";
import { checkArguments } from "./check_arguments.ts";
import { takeRefs } from "./value_ref.ts";
import { viewCallNeeds } from "./task_needs.ts";
import type { FailureWatch } from "./unobserved_failures.ts";
import { type CallKind, callKindOf, tracingOf } from "./task_tracing.ts";

/**
 * What a direct view's results share: its cluster, where unobserved
 * failures go, and how its tasks are aborted (one function per view).
 *
 * @example
 * ```ts
 * import type { DirectHome } from "./direct_tasks.ts";
 * const ids = (home: DirectHome) => home.cluster.ids();
 * ```
 */
export interface DirectHome {
  cluster: Cluster;
  failures: FailureWatch;
  abort: (taskIds: ReadonlySet<number>) => void;
}

/**
 * One call of a direct view: `ref` on each of `engineIds`, the task at
 * index `i` with `argsFor(i)`.
 *
 * @example
 * ```ts
 * import type { DirectCall } from "./direct_tasks.ts";
 * const call: DirectCall = {
 *   single: true,
 *   engineIds: [0],
 *   ref: { kind: "source", source: "() => 1" },
 *   argsFor: () => [],
 *   call: {},
 * };
 * ```
 */
export interface DirectCall {
  /** One engine, whose result is unwrapped. */
  single: boolean;
  engineIds: number[];
  ref: FunctionRef;
  argsFor: (i: number) => unknown[];
  call: CallOptions;
  mode?: "map";
  /** Items per task, for a map. */
  items?: number[];
  /** What its span is named when not by `ref`: a scatter's push, say. */
  callKind?: CallKind;
}

/**
 * Checks the call's arguments (throwing before anything is sent) and
 * submits its tasks: the `AsyncResult` over them.
 *
 * @example
 * ```ts
 * import { Client } from "@troupe/parallel";
 * await using client = await Client.start({ workers: 1 });
 * // Views call it: client.view(0).applyAsync(f) is one DirectCall.
 * console.log(await client.view(0).applyAsync(() => 1)); // 1
 * ```
 */
export function directResult<T, S extends boolean>(
  home: DirectHome,
  { single, engineIds, ref, argsFor, call, mode, items, callKind }: DirectCall,
): AsyncResult<T, S> {
  const { cluster } = home;
  let argLists = engineIds.map((_, i) => argsFor(i));
  // Results among an apply's arguments stand for their values (a map's
  // sequences and a push's namespace are data).
  const dependent = mode || ref === PUSH
    ? undefined
    : viewCallNeeds(argLists, undefined, call, cluster);
  if (dependent) argLists = dependent.argsPerTask;
  // A map's are sequences and a push's a namespace: only apply takes refs.
  const refs = mode || ref === PUSH ? undefined : takeRefs(cluster, argLists);
  let sharedMemory = true;
  for (const id of engineIds) sharedMemory &&= cluster.sharesMemory(id);
  checkArguments(argLists, { items, pushed: ref === PUSH, sharedMemory });
  const plan: ResultPlan = {
    single,
    items,
    watch: home.failures,
    cluster: cluster.clusterId,
    historyId: cluster.historyId,
    owner: cluster,
    start: (listener) => {
      const records: TaskRecord[] = [];
      if (dependent?.unmet) {
        // A result argument that had failed when the call came: none runs.
        for (const engineId of engineIds) {
          const record = new TaskRecord(
            engineId,
            cluster.nextTaskId(),
            listener,
          );
          records.push(record);
          record.done({ ok: false, error: dependent.unmet(record.taskId) });
        }
        return records;
      }
      const trace = tracingOf(cluster)?.call(
        callKind ?? callKindOf(ref, mode),
        "direct",
        ref,
        call.traceparent,
      );
      cluster.submit(
        engineIds.map((engineId, i): SubmittedTask => {
          const task: SubmittedTask = {
            taskId: cluster.nextTaskId(),
            fn: ref,
            mode,
            args: argLists[i],
            placement: { engineId },
          };
          if (refs?.[i]) task.refs = refs[i];
          if (dependent?.needs) task.needs = dependent.needs;
          return task;
        }),
        (task, i) => {
          const record = new TaskRecord(engineIds[i], task.taskId, listener);
          records.push(record);
          return trace ? trace.task(record, task.taskId, engineIds[i]) : record;
        },
      );
      trace?.seal();
      return records;
    },
    abort: home.abort,
  };
  return signalledResult(
    plan,
    call.signal,
    engineIds,
    () => cluster.nextTaskId(),
  );
}
