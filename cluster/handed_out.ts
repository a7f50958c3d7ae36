/**
 * What an engine tells the scheduler of a task it handed out.
 *
 * @module
 */

import type { TaskObserver, TaskOutcome } from "./engine_types.ts";
import type { ScheduledTask, SchedulerMessage } from "./scheduler_types.ts";

/**
 * The observer a handed-out task goes to its engine with: `started` and
 * `stream` reach the task's own observer, `done` and `handBack` come back
 * to the scheduler as messages. One object per hand-out, where four
 * closures cost five (tiny tasks are handed out tens of thousands a
 * second).
 *
 * @example
 * ```ts
 * import { HandedOut } from "./handed_out.ts";
 * import type { ScheduledTask, SchedulerMessage } from "./scheduler_types.ts";
 * const told: string[] = [];
 * const scheduler = { tell: (m: SchedulerMessage) => void told.push(m.kind) };
 * const task: ScheduledTask = {
 *   taskId: 1,
 *   fn: { kind: "source", source: "() => 1" },
 *   args: [],
 *   retries: 0,
 *   observer: {
 *     assigned() {}, started() {}, stream() {}, publish() {}, done() {},
 *   },
 * };
 * new HandedOut(task, scheduler).done({ ok: true, value: 1, started: 0, completed: 0 });
 * console.log(told); // ["finished"]
 * ```
 */
export class HandedOut implements TaskObserver {
  #task: ScheduledTask;
  #scheduler: { tell(message: SchedulerMessage): void };

  /** Reports on `task` to `scheduler`. */
  constructor(
    task: ScheduledTask,
    scheduler: { tell(message: SchedulerMessage): void },
  ) {
    this.#task = task;
    this.#scheduler = scheduler;
  }

  /** The task runs now. */
  started(): void {
    this.#task.observer.started();
  }

  /** The task printed `text`. */
  stream(name: "stdout" | "stderr", text: string): void {
    this.#task.observer.stream(name, text);
  }

  /** The task ended (or was lost): the scheduler retries it or reports. */
  done(outcome: TaskOutcome): void {
    this.#scheduler.tell({ kind: "finished", task: this.#task, outcome });
  }

  /** The engine gives the task back unstarted: it waits again. */
  handBack(): void {
    this.#scheduler.tell({ kind: "handedBack", task: this.#task });
  }
}
