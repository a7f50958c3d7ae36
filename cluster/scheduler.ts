/**
 * The scheduler actor: hands load-balanced tasks to engines as they free up.
 *
 * @module
 */

import { Actor } from "../actors/actor.ts";
import type { EngineActor } from "./engine_actor.ts";
import type { TaskOutcome } from "./engine_types.ts";
import { EngineWait } from "./engine_wait.ts";
import { WaitingLine } from "./waiting_line.ts";
import { HandedOut } from "./handed_out.ts";
import { AdaptiveDepth, type HandOutStamp } from "./adaptive_depth.ts";
import { LoadOrder } from "./load_order.ts";
import {
  ClientClosedError,
  EngineError,
  noEnginesMessage,
  TaskAbortedError,
  TimeoutError,
} from "../protocol/errors.ts";
import type {
  ScheduledTask,
  SchedulerHost,
  SchedulerMessage,
} from "./scheduler_types.ts";

export type {
  ScheduledTask,
  SchedulerHost,
  SchedulerMessage,
} from "./scheduler_types.ts";

/** How often queued tasks are looked at for timeouts and free engines. */
const SWEEP_MS = 50;

/** What a task fails with that the closed client can no longer run. */
const closedError = () => new ClientClosedError({ what: "run a task" });

/**
 * ipyparallel's `leastload` scheme: each task goes to the engine with the
 * fewest outstanding tasks, and no engine gets more than `highWaterMark`
 * at a time, so that work stays here, not queued behind a slow task; by
 * default that mark adapts (`AdaptiveDepth`): 1 for tasks as long as a
 * round trip, more for shorter ones. Tasks
 * queue without limit; a task whose engine dies runs again elsewhere while
 * it has `retries` left; engines that join take work at once.
 *
 * @example
 * ```ts
 * import { Scheduler } from "./scheduler.ts";
 * import type { SchedulerHost } from "./scheduler.ts";
 * function schedule(host: SchedulerHost) {
 *   const scheduler = new Scheduler(host, 1);
 *   scheduler.tell({ kind: "changed" });
 *   scheduler.tell({ kind: "close" });
 * }
 * ```
 */
export class Scheduler extends Actor<SchedulerMessage> {
  #host: SchedulerHost;
  #highWaterMark: number | "adaptive";
  /** The depth of tasks without a high-water mark, when it adapts. */
  #depth = new AdaptiveDepth<EngineActor>();
  /** The up engines by load: a choice costs O(log n), not a look at each. */
  #order = new LoadOrder<EngineActor>(this.#depth);
  /** Whether `#order` has read the host's engines yet. */
  #synced = false;
  /** Waiting tasks, oldest first. */
  #line = new WaitingLine<ScheduledTask>();
  /** When each queued task stops waiting (`performance.now()` ms). */
  #deadlines = new Map<ScheduledTask, number>();
  /** Tasks handed out, by id: where they run, and since when. */
  #running = new Map<
    number,
    { task: ScheduledTask; engine: EngineActor; stamp: HandOutStamp }
  >();
  #aborted = new Set<number>();
  #sweep: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  /** How long queued tasks wait while no engine of theirs is up. */
  #engineWait: EngineWait<ScheduledTask>;
  /** When `#failUnrunnable` last looked at the whole queue. */
  #lastLook = -Infinity;

  /**
   * Schedules on `host`'s engines, at most `highWaterMark` per engine:
   * by default as many as `AdaptiveDepth` finds worth it.
   */
  constructor(
    host: SchedulerHost,
    highWaterMark: number | "adaptive" = "adaptive",
  ) {
    super();
    this.#host = host;
    this.#highWaterMark = highWaterMark;
    this.#engineWait = new EngineWait(host.noEngineTimeoutMs);
  }

  /** Tasks waiting for an engine. */
  get queued(): number {
    return this.#line.length;
  }

  /**
   * Why no task can ever run, when that is so: the client has no engine
   * and none can join. Views ask before submitting, to throw at once.
   */
  unrunnable(): string | undefined {
    if (
      this.#order.size > 0 || this.#engineCount() > 0 ||
      this.#host.mayGainEngines()
    ) {
      return undefined;
    }
    // Nothing died: there never was an engine.
    return noEnginesMessage(
      "no engine can run this task: this client has no engines and does " +
        "not listen for any",
    );
  }

  protected receive(message: SchedulerMessage): void {
    switch (message.kind) {
      case "enqueue":
        if (this.#closed) {
          for (const task of message.tasks) {
            task.observer.done({ ok: false, error: closedError() });
          }
          return;
        }
        for (const task of message.tasks) this.#enqueue(task, false);
        break;
      case "abort":
        this.#abort(message.taskIds);
        break;
      case "finished":
        this.#finished(message.task, message.outcome);
        break;
      case "handedBack": {
        // From a draining engine, unstarted: it waits again, first in line,
        // with its retries untouched (it never ran).
        const { task } = message;
        this.#running.delete(task.taskId);
        if (this.#aborted.delete(task.taskId)) {
          task.observer.done({
            ok: false,
            error: new TaskAbortedError({ taskId: task.taskId }),
          });
        } else {
          this.#enqueue(task, true);
        }
        break;
      }
      case "changed":
        // One engine's load changed (a direct task ended there), or
        // anything may have: engines came, went, or a sweep looks again.
        if (message.engine) this.#order.touch(message.engine);
        else this.#resync();
        break;
      case "close":
        this.#closed = true;
        // Nobody aborted them: they cannot run because the client closed.
        this.#failWaiting(closedError);
        break;
    }
    this.#dispatch();
  }

  protected override onCrash(error: unknown): void {
    console.error("troupe: the scheduler crashed:", error);
  }

  #enqueue(task: ScheduledTask, first: boolean): void {
    if (task.timeoutMs !== undefined) {
      const deadline = performance.now() + task.timeoutMs;
      this.#deadlines.set(task, deadline);
      this.#nextDeadline = Math.min(this.#nextDeadline, deadline);
    }
    if (first) this.#line.unshift(task);
    else this.#line.push(task);
  }

  /**
   * Hands out waiting tasks, oldest first, while engines have room. A task
   * for any engine that finds none stops the pass (first come, first
   * served); one limited to some engines that are all full lets later ones
   * by. Each pass costs what it hands out, not the length of the queue.
   */
  #dispatch(): void {
    if (!this.#synced) this.#resync();
    if (this.#line.length > 0) {
      const own = this.#highWaterMark;
      this.#line.pass((task) => {
        const engine = this.#order.choose(
          task.highWaterMark ?? own,
          task.targets,
        );
        if (!engine) return task.targets ? "skip" : "stop";
        this.#handOut(task, engine);
        this.#order.took(engine);
        return "take";
      });
    }
    this.#order.endPass();
    if (this.#deadlines.size > 0) this.#expire();
    this.#failUnrunnable();
    this.#keepSweeping();
  }

  /** Reads every engine of the host again: when engines came or went. */
  #resync(): void {
    this.#synced = true;
    this.#order.resync(this.#host.engines());
  }

  /** How many engines the host has, up or not. */
  #engineCount(): number {
    return this.#host.engineCount?.() ?? this.#host.engines().length;
  }

  /**
   * A task none of whose engines is up waits for one, but not forever: it
   * fails at once when none of them can come back and none can join, and
   * after `noEngineTimeoutMs` otherwise (an engine restarting, or one that
   * may join a listening client). Looks at the whole queue only while some
   * engine is not up, at most once a sweep.
   */
  #failUnrunnable(): void {
    if (this.queued === 0) {
      this.#engineWait.clear();
      return;
    }
    const none = this.unrunnable();
    if (none) {
      this.#failWaiting(() => new Error(none));
      return;
    }
    // Every engine up: counted, not looked at, on each pass.
    const up = this.#order.size;
    if (up > 0 && up === this.#engineCount()) {
      this.#engineWait.clear();
      return;
    }
    const engines = this.#host.engines();
    const now = performance.now();
    if (now - this.#lastLook < SWEEP_MS) return;
    this.#lastLook = now;
    const judge = this.#engineWait.look(
      engines,
      this.#host.mayGainEngines(),
      now,
    );
    this.#line.filter((task) => {
      const error = judge(task);
      if (!error) return true;
      this.#deadlines.delete(task);
      task.observer.done({ ok: false, error });
      return false;
    });
  }

  /** Every waiting task fails with `error(task)`; the queue is empty. */
  #failWaiting(error: (task: ScheduledTask) => Error): void {
    const waiting = this.#line.clear();
    this.#deadlines.clear(); // Only waiting tasks have deadlines.
    this.#engineWait.clear();
    for (const task of waiting) {
      task.observer.done({ ok: false, error: error(task) });
    }
  }

  #handOut(task: ScheduledTask, engine: EngineActor): void {
    this.#deadlines.delete(task);
    this.#engineWait.forget(task);
    const stamp = this.#depth.handOut(engine, engine.load);
    this.#running.set(task.taskId, { task, engine, stamp });
    task.observer.assigned(engine.engineId);
    this.#host.submit(engine, task, new HandedOut(task, this));
  }

  /** An engine finished (or lost) a task: retry it or report, then refill. */
  #finished(task: ScheduledTask, outcome: TaskOutcome): void {
    const handed = this.#running.get(task.taskId);
    this.#running.delete(task.taskId);
    if (handed) {
      this.#depth.finished(handed.engine, handed.stamp, outcome);
      // Its load fell and it may be fresh: its place in the order moves.
      this.#order.touch(handed.engine);
    }
    const lost = !outcome.ok && outcome.error instanceof EngineError;
    if (
      lost && task.retries > 0 && !this.#closed &&
      !this.#aborted.has(task.taskId)
    ) {
      task.retries--;
      this.#enqueue(task, true);
    } else {
      this.#aborted.delete(task.taskId);
      task.observer.done(outcome);
    }
  }

  #abort(taskIds: ReadonlySet<number>): void {
    this.#line.filter((task) => {
      if (!taskIds.has(task.taskId)) return true;
      this.#deadlines.delete(task);
      this.#engineWait.forget(task);
      task.observer.done({
        ok: false,
        error: new TaskAbortedError({ taskId: task.taskId }),
      });
      return false;
    });
    const byEngine = new Map<EngineActor, Set<number>>();
    for (const id of taskIds) {
      const running = this.#running.get(id);
      if (!running) continue;
      this.#aborted.add(id);
      const ids = byEngine.get(running.engine) ?? new Set();
      ids.add(id);
      byEngine.set(running.engine, ids);
    }
    for (const [engine, ids] of byEngine) {
      engine.tell({ kind: "abort", taskIds: ids });
    }
  }

  /**
   * The earliest deadline of a queued task, or earlier (one that has left
   * the queue): the queue is looked through only once it has passed.
   */
  #nextDeadline = Infinity;

  /**
   * Fails queued tasks whose wait ran out. Runs after the hand-out, so that
   * a task with a deadline of 0 still gets a free engine.
   */
  #expire(): void {
    if (this.#deadlines.size === 0) return;
    const now = performance.now();
    // Looking through the queue on every pass made a queue of tasks with a
    // timeoutMs quadratic (40,000 of them ran at 700 tasks/s).
    if (now < this.#nextDeadline) return;
    let next = Infinity;
    this.#line.filter((task) => {
      const deadline = this.#deadlines.get(task);
      if (deadline === undefined) return true;
      if (deadline > now) {
        next = Math.min(next, deadline);
        return true;
      }
      this.#deadlines.delete(task);
      this.#engineWait.forget(task);
      task.observer.done({
        ok: false,
        error: new TimeoutError(
          `task ${task.taskId} did not start in time: no engine was free ` +
            "before its timeoutMs ran out",
        ),
      });
      return false;
    });
    this.#nextDeadline = next;
  }

  /**
   * Engines free up without telling the scheduler (a direct task ends) and
   * deadlines pass: while tasks wait, look again now and then.
   */
  #keepSweeping(): void {
    if (this.queued > 0 && !this.#closed) {
      this.#sweep ??= setInterval(
        () => this.tell({ kind: "changed" }),
        SWEEP_MS,
      );
    } else if (this.#sweep !== undefined) {
      clearInterval(this.#sweep);
      this.#sweep = undefined;
    }
  }
}
