/**
 * A task whose listener records everything it hears, for the unit tests of
 * the cluster core: they hand it to an engine actor or the scheduler, make a
 * `FakeLink` answer, and check what the task was told, and how often.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Task, TaskOutcome } from "../cluster/engine_types.ts";
import type { TaskListener } from "../cluster/cluster.ts";
import type { DoneMessage } from "../protocol/messages.ts";
import type { Publication } from "../protocol/publication.ts";

/**
 * One task and what it heard: the engines it was handed to, how often it
 * started, its output, its publications, and every `done` (there must be
 * exactly one).
 *
 * @example
 * ```ts
 * import { TaskProbe } from "./task_probe.ts";
 * const probe = new TaskProbe(1);
 * probe.done({ ok: true, value: 42, started: 0, completed: 0 });
 * console.log(probe.value()); // 42
 * ```
 */
export class TaskProbe implements TaskListener {
  readonly taskId: number;
  /** Each engine the task was handed to (`assigned`), in order. */
  readonly engines: number[] = [];
  /** How often the task was told it started. */
  starts = 0;
  readonly output: { name: "stdout" | "stderr"; text: string }[] = [];
  readonly publications: Publication[] = [];
  /** Every outcome the task was told; more than one is a bug. */
  readonly outcomes: TaskOutcome[] = [];

  constructor(taskId: number) {
    this.taskId = taskId;
  }

  assigned(engineId: number): void {
    this.engines.push(engineId);
  }

  started(): void {
    this.starts++;
  }

  stream(name: "stdout" | "stderr", text: string): void {
    this.output.push({ name, text });
  }

  publish(publication: Publication): void {
    this.publications.push(publication);
  }

  done(outcome: TaskOutcome): void {
    this.outcomes.push(outcome);
  }

  /** Whether the task has been told how it ended. */
  get settled(): boolean {
    return this.outcomes.length > 0;
  }

  /** The task as an engine actor takes it, with this probe listening. */
  task(): Task {
    return {
      taskId: this.taskId,
      fn: { kind: "source", source: `() => ${this.taskId}` },
      args: [],
      observer: this,
    };
  }

  /** The value it succeeded with; fails the test unless it ended so, once. */
  value(): unknown {
    const outcome = this.#only();
    assert.ok(
      outcome.ok,
      `task ${this.taskId} failed: ${!outcome.ok && outcome.error}`,
    );
    return outcome.value;
  }

  /** The error it failed with; fails the test unless it ended so, once. */
  error(): Error {
    const outcome = this.#only();
    assert.ok(!outcome.ok, `task ${this.taskId} succeeded`);
    return outcome.error;
  }

  #only(): TaskOutcome {
    assert.equal(
      this.outcomes.length,
      1,
      `task ${this.taskId} was told ${this.outcomes.length} outcomes`,
    );
    return this.outcomes[0];
  }
}

/**
 * What an engine says when task `taskId` returned `value`.
 *
 * @example
 * ```ts
 * import { doneMessage } from "./task_probe.ts";
 * console.log(doneMessage(3, "x").ok); // true
 * ```
 */
export function doneMessage(
  taskId: number,
  value: unknown = taskId,
): DoneMessage {
  const now = Date.now();
  return { t: "done", taskId, ok: true, value, started: now, completed: now };
}
