/**
 * Tasks that wait for other tasks (ipyparallel's `after` and `follow`, and
 * Ray's futures as arguments). The core holds them here, counted as queued,
 * until the tasks they need have ended, which it hears of through its own
 * task routes: so on a connected client a value goes engine → controller →
 * engine, never through the client. Then each is placed (its arguments
 * filled in, a `follow` turned into its one engine) or failed.
 *
 * @module
 */

import {
  ClientClosedError,
  TaskAbortedError,
  TimeoutError,
  UnmetDependencyError,
} from "../protocol/errors.ts";
import type { SubmittedTask, TaskListener } from "./cluster.ts";
import type { TaskOutcome } from "./engine_types.ts";
import type { Route } from "./task_routes.ts";
import { placedTask } from "./held_placement.ts";
import { needsError } from "./needs_check.ts";
import type {
  DependencyHost,
  EndedTask,
  Held,
  TaskNeeds,
} from "./task_needs.ts";

export type {
  ArgumentNeed,
  DependencyHost,
  EndedTask,
  Held,
  TaskNeeds,
} from "./task_needs.ts";

/** One held task. */
class Waiting implements Held {
  task: SubmittedTask;
  listener: TaskListener;
  needs: TaskNeeds;
  /** Distinct dependencies not ended yet. */
  pending: number;
  /** The ends it must read (args, follow); `after` alone reads none. */
  ends: Map<number, EndedTask> | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** When a balanced `timeoutMs` runs out, counted from submission. */
  deadline: number | undefined;

  constructor(task: SubmittedTask, listener: TaskListener) {
    this.task = task;
    this.listener = listener;
    this.needs = task.needs!;
    this.pending = 0;
  }
}

/**
 * The held tasks of one cluster, and who waits for whom. Its cost is per
 * waiting edge: one task ending with 10,000 dependents touches each once.
 *
 * @example
 * ```ts
 * import { Dependencies } from "./dependencies.ts";
 * const placed: number[] = [];
 * const deps = new Dependencies({
 *   holds: (id) => id === 1,
 *   place: (held) => placed.push(...held.map((h) => h.task.taskId)),
 *   engineGone: () => undefined,
 * });
 * const quiet = { assigned() {}, started() {}, stream() {}, publish() {}, done() {} };
 * deps.hold({
 *   taskId: 2, fn: { kind: "source", source: "(x) => x" }, args: [null],
 *   placement: { balanced: { retries: 0 } },
 *   needs: { args: [{ index: 0, tasks: [1], shape: "one" }] },
 * }, quiet);
 * deps.ended(1, { ok: true, value: 7, started: 0, completed: 1 }, 0);
 * console.log(placed); // [2]
 * ```
 */
export class Dependencies implements Route {
  #host: DependencyHost;
  /** Held tasks by id. */
  #held = new Map<number, Waiting>();
  /** Who waits for each task that has not ended. */
  #waiters = new Map<number, Set<Waiting>>();
  /** Ends not yet handed to their waiters: a failure cascades in a loop. */
  #queue: [number, EndedTask][] = [];
  #draining = false;
  #released: Waiting[] = [];
  #closed = false;

  /** Dependencies of `host`'s tasks. */
  constructor(host: DependencyHost) {
    this.#host = host;
  }

  /** Tasks held, waiting for their dependencies (they count as queued). */
  get size(): number {
    return this.#held.size;
  }

  /** Whether any task waits for task `taskId`: its end must be told. */
  awaits(taskId: number): boolean {
    return this.#waiters.has(taskId);
  }

  /**
   * Holds `task` (whose `needs` is set) until its dependencies end; its
   * `listener` is the one the core routed it with (this is its route).
   */
  hold(task: SubmittedTask, listener: TaskListener): void {
    const waiting = new Waiting(task, listener);
    if (this.#closed) return this.#fail(waiting, closedError(), false);
    // Before it is held: a need found wrong later would leave it held.
    const refused = needsError(task);
    if (refused) return this.#fail(waiting, refused, false);
    this.#held.set(task.taskId, waiting);
    try {
      this.#await(waiting);
    } catch (error) {
      // A host that throws (a history lookup) must not leave it held.
      this.#fail(
        waiting,
        error instanceof Error ? error : new Error(String(error)),
      );
    }
  }

  /** Counts what held `waiting` waits for, and releases it if nothing. */
  #await(waiting: Waiting): void {
    const { task } = waiting;
    const needs = waiting.needs;
    const read = new Set<number>(needs.follow);
    for (const arg of needs.args ?? []) {
      arg.tasks.forEach((id, at) => {
        if (!arg.ready || !(at in arg.ready)) read.add(id);
      });
    }
    if (read.size > 0) waiting.ends = new Map();
    const all = new Set<number>([...read, ...needs.after ?? []]);
    const known: [number, EndedTask][] = [];
    for (const id of all) {
      if (id >= task.taskId) {
        return this.#fail(
          waiting,
          new RangeError(
            `task ${task.taskId} cannot depend on task ${id}: a dependency ` +
              "is a task submitted before it",
          ),
        );
      }
      if (this.#host.holds(id)) {
        let set = this.#waiters.get(id);
        if (!set) this.#waiters.set(id, set = new Set());
        set.add(waiting);
        waiting.pending++;
        continue;
      }
      const ended = this.#host.ended?.(id) ?? new RangeError(
        `task ${task.taskId} depends on task ${id}, which this cluster ` +
          "does not hold: it ended before the dependent was submitted, " +
          "unseen by the client (a bug of troupe's), or never was",
      );
      if (ended instanceof Error) return this.#fail(waiting, ended);
      known.push([id, ended]);
    }
    const timeoutMs = "balanced" in task.placement
      ? task.placement.balanced.timeoutMs
      : undefined;
    if (timeoutMs !== undefined && waiting.pending > 0) {
      waiting.timer = setTimeout(() => this.#timedOut(waiting), timeoutMs);
      // Submission time is now: what is left of it goes on to the scheduler.
      waiting.deadline = performance.now() + timeoutMs;
    }
    for (const [id, ended] of known) {
      if (!this.#take(waiting, id, ended)) return;
    }
    if (waiting.pending === 0) this.#release(waiting);
    this.#flush();
  }

  /**
   * Task `taskId` ended on `engineId` (if it reached one): its dependents
   * learn it, and those whose needs are now met are placed, in one batch.
   */
  ended(taskId: number, outcome: TaskOutcome, engineId?: number): void {
    if (!this.#waiters.has(taskId)) return;
    this.#queue.push([taskId, { outcome, engineId }]);
    if (this.#draining) return;
    this.#draining = true;
    try {
      // Failing a dependent ends it, which may fail its own dependents:
      // a loop here, not a recursion as deep as the chain.
      for (let i = 0; i < this.#queue.length; i++) {
        const [id, end] = this.#queue[i];
        const waiters = this.#waiters.get(id);
        if (!waiters) continue;
        this.#waiters.delete(id);
        for (const waiting of waiters) {
          if (!this.#take(waiting, id, end)) continue;
          waiting.pending--;
          if (waiting.pending === 0) this.#release(waiting);
        }
      }
    } finally {
      this.#queue = [];
      this.#draining = false;
    }
    this.#flush();
  }

  /** Aborts the held tasks with these ids (the core's abort by route). */
  tell(message: { kind: "abort"; taskIds: ReadonlySet<number> }): void {
    for (const taskId of message.taskIds) {
      const waiting = this.#held.get(taskId);
      if (waiting) this.#fail(waiting, new TaskAbortedError({ taskId }));
    }
  }

  /** Fails every held task, as the scheduler fails queued ones at close. */
  close(): void {
    this.#closed = true;
    for (const waiting of [...this.#held.values()]) {
      this.#fail(waiting, closedError());
    }
  }

  /** Takes in one dependency's end; `false` if it failed the task. */
  #take(waiting: Waiting, id: number, end: EndedTask): boolean {
    if (!this.#held.has(waiting.task.taskId)) return false;
    const { needs, task } = waiting;
    const arg = needs.args?.find((a) => a.tasks.includes(id));
    if (arg && (!end.outcome.ok || end.valueLost !== undefined)) {
      this.#fail(
        waiting,
        new UnmetDependencyError({
          taskId: task.taskId,
          dependency: id,
          argument: arg.index,
          ...(end.outcome.ok
            ? {
              why: `succeeded, but its value was not kept (${end.valueLost})`,
            }
            : { cause: end.outcome.error }),
        }),
      );
      return false;
    }
    if (!end.outcome.ok && needs.onFailure !== "run") {
      this.#fail(
        waiting,
        new UnmetDependencyError({
          taskId: task.taskId,
          dependency: id,
          cause: end.outcome.error,
        }),
      );
      return false;
    }
    waiting.ends?.set(id, end);
    return true;
  }

  #release(waiting: Waiting): void {
    this.#held.delete(waiting.task.taskId);
    clearTimeout(waiting.timer);
    let placed: SubmittedTask | Error;
    try {
      placed = placedTask(
        waiting.task,
        waiting.ends,
        waiting.deadline,
        this.#host.engineGone,
      );
    } catch (error) {
      // This runs inside another task's end: a throw would reach whoever
      // ended it (the scheduler, an engine actor), not this task.
      placed = error instanceof Error ? error : new Error(String(error));
    }
    if (placed instanceof Error) {
      this.#fail(waiting, placed, false);
      return;
    }
    waiting.task = placed;
    this.#released.push(waiting);
  }

  #timedOut(waiting: Waiting): void {
    const { taskId } = waiting.task;
    this.#fail(
      waiting,
      new TimeoutError(
        `task ${taskId} did not start in time: the tasks it depends on had ` +
          "not all ended before its timeoutMs ran out",
      ),
    );
  }

  /** Ends a held task with `error`; its own dependents hear it. */
  #fail(waiting: Waiting, error: Error, unhold = true): void {
    if (unhold) {
      const { taskId } = waiting.task;
      if (this.#held.get(taskId) !== waiting) return;
      this.#held.delete(taskId);
      for (const id of this.#dependencyIds(waiting)) {
        const set = this.#waiters.get(id);
        if (set?.delete(waiting) && set.size === 0) this.#waiters.delete(id);
      }
    }
    clearTimeout(waiting.timer);
    waiting.listener.done({ ok: false, error });
  }

  #dependencyIds(waiting: Waiting): Iterable<number> {
    const { needs } = waiting;
    return [
      ...needs.after ?? [],
      ...needs.follow ?? [],
      ...(needs.args ?? []).flatMap((a) => a.tasks),
    ];
  }

  /** Places what was released, in one batch. */
  #flush(): void {
    if (this.#released.length === 0 || this.#draining) return;
    const released = this.#released;
    this.#released = [];
    this.#host.place(released);
  }
}

const closedError = () => new ClientClosedError({ what: "run a task" });
