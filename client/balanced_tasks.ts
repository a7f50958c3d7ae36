/**
 * How a load-balanced view's call becomes tasks: one per argument list,
 * placed by the scheduler, checked before anything is sent, counted
 * against the view's `maxQueue`, tied to the call's signal, and traced
 * when the client traces (direct_tasks.ts is its twin for direct views).
 *
 * @module
 */

import type { Cluster, Placement, SubmittedTask } from "../cluster/cluster.ts";
import type { FunctionRef, TaskSpec } from "../protocol/messages.ts";
import { type AsyncResult, TaskRecord } from "./async_result.ts";
import type { CallOptions } from "./call_options.ts";
import { signalledResult } from "./call_signal.ts";
import { checkArguments } from "./check_arguments.ts";
import type { QueueLimit } from "./queue_limit.ts";
import { viewCallNeeds } from "./task_needs.ts";
import { callKindOf, type CallTrace, tracingOf } from "./task_tracing.ts";
import type { FailureWatch } from "./unobserved_failures.ts";
import { takeRefs } from "./value_ref.ts";

/**
 * What a load-balanced view's results share: its cluster, where unobserved
 * failures go, how its tasks are aborted, its `maxQueue` count, and where
 * its tasks go.
 *
 * @example
 * ```ts
 * import type { BalancedHome } from "./balanced_tasks.ts";
 * const targets = (home: BalancedHome) => home.placement;
 * ```
 */
export interface BalancedHome {
  cluster: Cluster;
  failures: FailureWatch;
  abort: (taskIds: ReadonlySet<number>) => void;
  queue: QueueLimit | undefined;
  placement: Placement;
}

/**
 * One call of a load-balanced view: `fn` once per argument list.
 *
 * @example
 * ```ts
 * import type { BalancedCall } from "./balanced_tasks.ts";
 * const call: BalancedCall = {
 *   single: true,
 *   argsPerTask: [[1]],
 *   items: undefined,
 *   fn: { kind: "source", source: "(x) => x" },
 *   mode: undefined,
 *   unordered: false,
 *   call: {},
 * };
 * ```
 */
export interface BalancedCall {
  /** One task, whose result is unwrapped. */
  single: boolean;
  argsPerTask: unknown[][];
  /** Items per task, for a map. */
  items: number[] | undefined;
  fn: FunctionRef;
  mode: TaskSpec["mode"];
  unordered: boolean;
  call: CallOptions;
  /** An imap's span: its items' tasks go under it, and it is sealed there. */
  imapTrace?: CallTrace;
}

/**
 * Checks the call's arguments (throwing before anything is sent) and
 * submits its tasks: the `AsyncResult` over them.
 *
 * @example
 * ```ts
 * import { Client } from "@troupe/parallel";
 * await using client = await Client.start({ workers: 1 });
 * // Views call it: lv.applyAsync(f) is one BalancedCall.
 * console.log(await client.loadBalancedView().applyAsync(() => 1)); // 1
 * ```
 */
// deno-lint-ignore no-explicit-any
export function balancedResult<R extends AsyncResult<any, any>>(
  home: BalancedHome,
  { single, argsPerTask, items, fn, mode, unordered, call, imapTrace }:
    BalancedCall,
): R {
  const { cluster, placement } = home;
  const none = cluster.unrunnable();
  if (none) throw new Error(none);
  // Results among the arguments and dependencies in the options: what
  // is settled here is put in, the rest waits in the core.
  const dependent = viewCallNeeds(argsPerTask, mode, call, cluster);
  argsPerTask = dependent.argsPerTask;
  const refs = mode ? undefined : takeRefs(cluster, argsPerTask);
  checkArguments(argsPerTask, items && { items });
  // A call already aborted submits nothing, so it takes no place.
  const queue = call.signal?.aborted ? undefined : home.queue;
  queue?.reserve(argsPerTask.length);
  return signalledResult<R>(
    {
      single,
      items,
      unordered,
      watch: home.failures,
      cluster: cluster.clusterId,
      historyId: cluster.historyId,
      owner: cluster,
      start: (listener) => {
        const records: TaskRecord[] = new Array(argsPerTask.length);
        const tasks: SubmittedTask[] = new Array(argsPerTask.length);
        for (let i = 0; i < argsPerTask.length; i++) {
          const taskId = cluster.nextTaskId();
          tasks[i] = { taskId, fn, mode, args: argsPerTask[i], placement };
          if (refs?.[i]) tasks[i].refs = refs[i];
          if (dependent.needs) tasks[i].needs = dependent.needs;
          records[i] = queue
            ? queue.record(taskId, listener)
            : new TaskRecord(-1, taskId, listener);
        }
        if (dependent.unmet) {
          // A dependency that had failed when the call came: no task runs.
          for (const r of records) {
            r.done({ ok: false, error: dependent.unmet(r.taskId) });
          }
          return records;
        }
        // An imap's items are tasks of its one span, sealed at its end.
        const trace = imapTrace ??
          tracingOf(cluster)?.call(
            callKindOf(fn, mode),
            "balanced",
            fn,
            call.traceparent,
          );
        try {
          cluster.submit(
            tasks,
            trace
              ? (t, i) => trace.task(records[i], t.taskId, -1)
              : (_, i) => records[i],
          );
          if (!imapTrace) trace?.seal();
        } catch (error) {
          queue?.cancel(records);
          throw error;
        }
        return records;
      },
      abort: home.abort,
    },
    call.signal,
    new Array(argsPerTask.length).fill(-1),
    () => cluster.nextTaskId(),
  );
}
