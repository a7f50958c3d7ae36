/**
 * The tasks a connected client follows (its own, and those it asked to
 * `follow`), and how their `WireTaskEvent`s become `TaskListener` calls.
 *
 * @module
 */

import type { TaskListener, TaskOutcome } from "../cluster/cluster.ts";
import type {
  PublicationSink,
  Registry,
  SinkTable,
} from "../cluster/registry.ts";
import type { Publication } from "../protocol/publication.ts";
import type { WireError, WireOutcome, WireTaskEvent } from "./wire.ts";

/**
 * Every followed task's listener until its `done`. Publications go through
 * the client's `Registry`, which looks their task up here, so that
 * `registry.latest()`, `snapshot()` and `updates()` see them as they see an
 * embedded client's.
 *
 * @example
 * ```ts
 * import { Registry } from "../cluster/registry.ts";
 * import { RemoteTasks } from "./remote_tasks.ts";
 * const tasks = new RemoteTasks(new Registry(), (w) => new Error(w.message));
 * tasks.add(7, {
 *   assigned() {}, started() {}, stream() {}, publish() {},
 *   done: (outcome) => console.log(outcome.ok), // true
 * });
 * tasks.hear({
 *   kind: "done", taskId: 7,
 *   outcome: { ok: true, value: 1, started: 0, completed: 1 },
 * });
 * ```
 */
export class RemoteTasks implements SinkTable {
  #listeners = new Map<number, TaskListener>();
  #registry: Registry;
  #revive: (wire: WireError) => Error;

  /** Routes publications through `registry`, which looks them up here. */
  constructor(registry: Registry, revive: (wire: WireError) => Error) {
    this.#registry = registry;
    this.#revive = revive;
    registry.lookIn(this);
  }

  /** Tasks followed and not ended. */
  get watching(): number {
    return this.#listeners.size;
  }

  /** Whether `taskId` is followed. */
  has(taskId: number): boolean {
    return this.#listeners.has(taskId);
  }

  /**
   * Follows `taskId` with `listener`. A task followed already gets both
   * listeners; the second hears its events from now on.
   */
  add(taskId: number, listener: TaskListener): void {
    const before = this.#listeners.get(taskId);
    this.#listeners.set(taskId, before ? both(before, listener) : listener);
  }

  /** The sink of `taskId`'s publications (the registry asks). */
  sinkOf(taskId: number): PublicationSink | undefined {
    return this.#listeners.get(taskId);
  }

  /** One event of the controller's. */
  hear(event: WireTaskEvent): void {
    if (event.kind === "publish") {
      // The registry records it as its engine's latest and hands it on.
      this.#registry.tell({ kind: "publish", publication: event.publication });
      return;
    }
    const listener = this.#listeners.get(event.taskId);
    if (!listener) return;
    switch (event.kind) {
      case "assigned":
        listener.assigned(event.engineId);
        break;
      case "started":
        listener.started();
        break;
      case "stream":
        listener.stream(event.name, event.text);
        break;
      case "done":
        this.#listeners.delete(event.taskId);
        listener.done(this.#outcome(event.outcome));
        break;
    }
  }

  /** Ends `taskId` here with `error`, if it is followed. */
  fail(taskId: number, error: Error): void {
    const listener = this.#listeners.get(taskId);
    if (!listener) return;
    this.#listeners.delete(taskId);
    listener.done({ ok: false, error });
  }

  /** Ends every task followed with the error `errorFor` makes for it. */
  failAll(errorFor: (taskId: number) => Error): void {
    const all = [...this.#listeners];
    this.#listeners.clear();
    for (const [taskId, listener] of all) {
      listener.done({ ok: false, error: errorFor(taskId) });
    }
  }

  #outcome(wire: WireOutcome): TaskOutcome {
    if (wire.ok) return wire;
    return { ...wire, error: this.#revive(wire.error) };
  }
}

/** Two listeners of one task, as one. */
function both(a: TaskListener, b: TaskListener): TaskListener {
  return {
    assigned(engineId: number) {
      a.assigned(engineId);
      b.assigned(engineId);
    },
    started() {
      a.started();
      b.started();
    },
    stream(name: "stdout" | "stderr", text: string) {
      a.stream(name, text);
      b.stream(name, text);
    },
    publish(publication: Publication) {
      a.publish(publication);
      b.publish(publication);
    },
    done(outcome: TaskOutcome) {
      a.done(outcome);
      b.done(outcome);
    },
  };
}
