/**
 * The facade's half of dependencies: from a call's options (`after`,
 * `follow`, `onDependencyFailure`) and its top-level arguments (results and
 * their items), what is already settled here is settled here (a finished
 * result's value put in, its success checked, its engine taken), and the
 * rest goes to the core as `needs`, plain data (cluster/dependencies.ts).
 *
 * @module
 */

import type { ArgumentNeed, Cluster, TaskNeeds } from "../cluster/cluster.ts";
import { UnmetDependencyError } from "../protocol/errors.ts";
import { AsyncResult } from "./async_result.ts";
import type { CallOptions } from "./call_options.ts";
import { ResultItem, resultParts } from "./result_item.ts";
import type { TaskRecord } from "./task_record.ts";

/**
 * What a call's tasks carry: their arguments with every finished result in
 * place, what they wait for, or why they cannot run.
 */
export interface CallNeeds {
  args: unknown[];
  needs: TaskNeeds | undefined;
  /** Set when a finished dependency already failed the call's tasks. */
  unmet: ((taskId: number) => UnmetDependencyError) | undefined;
}

/**
 * Settles what can be of `args` and `call` now. Only top-level arguments
 * are results that stand for their values, as in Ray: one nested in an
 * object is refused by `checkArguments`.
 *
 * @example
 * ```ts
 * import { Client } from "@troupe/parallel";
 * import { callNeeds } from "./task_needs.ts";
 * import { resultParts } from "./result_item.ts";
 * await using client = await Client.start({ workers: 1 });
 * const ar = client.loadBalancedView().applyAsync(() => 6);
 * await ar;
 * // The view's cluster: the one the result's tasks ran in.
 * const cluster = resultParts(ar).owner!;
 * console.log(callNeeds([ar, 7], {}, cluster).args); // [6, 7]
 * ```
 */
export function callNeeds(
  args: unknown[],
  call: CallOptions,
  cluster: Cluster,
): CallNeeds {
  for (let at = 0; at < args.length; at++) {
    checkHome(args[at], cluster, `argument ${at + 1}`);
  }
  for (const result of call.after ?? []) checkHome(result, cluster, "after");
  for (const result of call.follow ?? []) checkHome(result, cluster, "follow");
  let needs: TaskNeeds | undefined;
  let unmet: CallNeeds["unmet"];
  const run = call.onDependencyFailure === "run";
  const fail = (
    record: TaskRecord,
    argument?: number,
    why?: string,
  ) => {
    const cause = record.outcome && !record.outcome.ok
      ? record.outcome.error
      : undefined;
    unmet ??= (taskId) =>
      new UnmetDependencyError({
        taskId,
        dependency: record.taskId,
        argument,
        why,
        cause,
      });
  };
  let out = args;
  for (let index = 0; index < args.length; index++) {
    const arg = args[index];
    if (!(arg instanceof AsyncResult || arg instanceof ResultItem)) continue;
    if (out === args) out = [...args];
    const need = argumentNeed(arg, index);
    const waiting: number[] = [];
    const ready: Record<number, unknown> = {};
    need.records.forEach((record, position) => {
      const outcome = record.outcome;
      if (!outcome) return void waiting.push(record.taskId);
      if (!outcome.ok) return fail(record, index);
      ready[position] = outcome.value;
    });
    if (waiting.length === 0) {
      const value = valueOf(
        need.shape,
        need.records.map((_, p) => ready[p]),
      )(need.item);
      if (value instanceof NoItem) {
        fail(need.records[0], index, value.why);
        out[index] = null;
      } else out[index] = value;
      continue;
    }
    out[index] = null;
    (needs ??= {}).args ??= [];
    needs.args.push({
      index,
      tasks: need.records.map((r) => r.taskId),
      shape: need.shape,
      ...(need.item === undefined ? {} : { item: need.item }),
      ...(Object.keys(ready).length > 0 ? { ready } : {}),
    });
  }
  for (const result of call.after ?? []) {
    for (const record of dependencyRecords(result)) {
      const outcome = record.outcome;
      if (!outcome) ((needs ??= {}).after ??= []).push(record.taskId);
      else if (!outcome.ok && !run) fail(record);
    }
  }
  for (const result of call.follow ?? []) {
    for (const record of dependencyRecords(result)) {
      const outcome = record.outcome;
      if (!outcome) {
        ((needs ??= {}).follow ??= []).push(record.taskId);
        continue;
      }
      if (!outcome.ok && !run) fail(record);
      else if (record.engineId < 0) {
        fail(record, undefined, "never reached an engine");
      } else if (needs?.on !== undefined && needs.on !== record.engineId) {
        fail(
          record,
          undefined,
          `ran on engine ${record.engineId}, and a task it follows on engine ` +
            `${needs.on}: no engine is where every task it follows ran`,
        );
      } else {
        needs ??= {};
        needs.on = record.engineId;
        needs.onTask ??= record.taskId;
      }
    }
  }
  if (needs && run) needs.onFailure = "run";
  return { args: out, needs, unmet };
}

/**
 * Refuses a result of another client: its task ids are that cluster's, so
 * here they would name this one's tasks (embedded clients each count from
 * 1). On one controller task ids are global, so a result another client
 * of it made (`getResult`, `resume`) is one of its tasks too.
 */
function checkHome(value: unknown, cluster: Cluster, what: string): void {
  const result = value instanceof ResultItem
    ? value.result
    : value instanceof AsyncResult
    ? value
    : undefined;
  if (result === undefined) return;
  const owner = resultParts(result).owner;
  if (owner === undefined || owner === cluster) return;
  const sameController = owner.clusterId !== undefined &&
    owner.clusterId === cluster.clusterId &&
    owner.historyId !== undefined && owner.historyId === cluster.historyId;
  if (sameController) return;
  throw new TypeError(
    `${what} is an AsyncResult that belongs to another client: its tasks ` +
      "run in another cluster, which this client cannot wait on. Await it " +
      "and pass its value",
  );
}

/**
 * The tasks a dependency stands for: all of a result's, or the one that
 * computes an item. Its failure reaches the dependent's error, as a cause:
 * it is observed.
 */
function dependencyRecords(
  dependency: AsyncResult<unknown> | ResultItem<unknown>,
): readonly TaskRecord[] {
  if (dependency instanceof ResultItem) {
    resultParts(dependency.result).observe();
    return [dependency.source.record];
  }
  const parts = resultParts(dependency);
  parts.observe();
  return parts.records;
}

/** The tasks a result argument is made of, and how. */
function argumentNeed(
  arg: AsyncResult<unknown> | ResultItem<unknown>,
  _index: number,
): {
  records: readonly TaskRecord[];
  shape: ArgumentNeed["shape"];
  item?: number;
} {
  if (arg instanceof ResultItem) {
    const { record, offset } = arg.source;
    resultParts(arg.result).observe();
    return offset === undefined
      ? { records: [record], shape: "one" }
      : { records: [record], shape: "items", item: offset };
  }
  const parts = resultParts(arg);
  parts.observe();
  return {
    records: parts.records,
    shape: parts.single ? "one" : parts.items ? "items" : "list",
  };
}

/** The value the tasks' values make, as the core makes it. */
function valueOf(
  shape: ArgumentNeed["shape"],
  values: unknown[],
): (item: number | undefined) => unknown {
  const whole = shape === "one"
    ? values[0]
    : shape === "list"
    ? values
    : values.flat();
  return (item) =>
    item === undefined
      ? whole
      : Array.isArray(whole) && item < whole.length
      ? whole[item]
      : new NoItem(
        `succeeded, but its value has no item ${item} (${
          Array.isArray(whole)
            ? `an array of ${whole.length}`
            : whole === null
            ? "null"
            : `a value of type ${typeof whole}`
        })`,
      );
}

/** An item asked of a value that has none (why, as `UnmetDependencyError`'s). */
class NoItem {
  constructor(readonly why: string) {}
}

/**
 * `callNeeds` for a view's call: an apply's one argument list (or a direct
 * view's, the same for every engine) has its results settled; a map's
 * sequences are data, never results (only the call options count).
 *
 * @example
 * ```ts
 * import { viewCallNeeds } from "./task_needs.ts";
 * import { Client } from "@troupe/parallel";
 * import { resultParts } from "./result_item.ts";
 * await using client = await Client.start({ workers: 1 });
 * const ar = client.loadBalancedView().applyAsync(() => 1);
 * await ar;
 * const cluster = resultParts(ar).owner!;
 * console.log(viewCallNeeds([[1, 2]], undefined, {}, cluster).needs); // undefined
 * ```
 */
export function viewCallNeeds(
  argsPerTask: unknown[][],
  mode: "apply" | "map" | undefined,
  call: CallOptions,
  cluster: Cluster,
): CallNeeds & { argsPerTask: unknown[][] } {
  if (mode === "map" || argsPerTask.length === 0) {
    return { argsPerTask, ...callNeeds([], call, cluster) };
  }
  const settled = callNeeds(argsPerTask[0], call, cluster);
  const same = argsPerTask.every((args) => args === argsPerTask[0]);
  return {
    ...settled,
    argsPerTask: same
      ? argsPerTask.map(() => settled.args)
      : argsPerTask.map((args) => callNeeds(args, call, cluster).args),
  };
}
