/**
 * The controller's unfinished tasks: each submitted task's listener records
 * what happens to it in the history, keeps what a client that follows it
 * later must be told (its engine, whether it started, its streams so far,
 * its published data merged), and forwards every event to the sessions
 * that follow it: the one that submitted it, and any that asked (`follow`).
 * A session that goes away just stops following; the task runs on. At
 * `done` the task leaves, and the history alone answers for it.
 *
 * @module
 */

import type {
  EndedTask,
  SubmittedTask,
  TaskListener,
  TaskOutcome,
} from "../cluster/cluster.ts";
import { messageOf } from "../protocol/errors.ts";
import {
  mergePublications,
  type Publication,
} from "../protocol/publication.ts";
import type { WireOutcome, WireTaskEvent } from "../remote/wire.ts";
import { fromWireError, toWireError } from "../remote/wire_errors.ts";
import type { History } from "./history.ts";
import { utf8Length, utf8Prefix } from "./history_live.ts";
import { notInHistory } from "./missing_task.ts";
import { endedTask, finishedOutcome } from "./finished_outcome.ts";

/**
 * Who hears a task's events: a client's session.
 *
 * @example
 * ```ts
 * import type { Follower } from "./live_tasks.ts";
 * const printer: Follower = { event: (e) => console.log(e.kind, e.taskId) };
 * ```
 */
export interface Follower {
  /** One event of a task it follows; sessions batch them per turn. */
  event(event: WireTaskEvent): void;
}

/** What the history must do for the live tasks. */
export type TaskHistory = Pick<
  History,
  | "submitted"
  | "assigned"
  | "started"
  | "stream"
  | "published"
  | "done"
  | "has"
  | "used"
  | "get"
  | "clientsBefore"
  | "flushMs"
>;

/** One unfinished task: who follows it and what a new follower is told. */
interface LiveTask {
  followers: Set<Follower>;
  engineId: number | undefined;
  started: boolean;
  stdout: string;
  stderr: string;
  /** stdout + stderr kept so far, against `maxStreamBytes`. */
  streamBytes: number;
  cut: boolean;
  /** Every publication so far, merged key by key. */
  merged: Publication | undefined;
}

/**
 * The unfinished tasks of a controller, and the follows of all of them.
 *
 * @example
 * ```ts
 * import { LiveTasks } from "./live_tasks.ts";
 * import { History } from "./history.ts";
 * const history = History.open({ path: ":memory:" });
 * const live = new LiveTasks({ clusterId: "demo", history });
 * const task = {
 *   taskId: 2 ** 32 + 1,
 *   fn: { kind: "source" as const, source: "() => 1" },
 *   args: [],
 *   placement: { engineId: 0 },
 * };
 * const listener = live.listenerFor(task, 1, { event: (e) => console.log(e) });
 * listener.done({ ok: true, value: 1, started: 1, completed: 2 });
 * console.log(live.size); // 0
 * history.close();
 * ```
 */
export class LiveTasks {
  #tasks = new Map<number, LiveTask>();
  #history: TaskHistory;
  #clusterId: string;
  #maxStreamBytes: number;
  #log: (line: string) => void;
  #previousPid: number | undefined;

  /**
   * `maxStreamBytes` bounds the streams kept for a replay (1 MiB, as the
   * history's default); `log` hears a history that failed to record;
   * `previousPid` is the controller's before this one, if known.
   */
  constructor(options: {
    clusterId: string;
    history: TaskHistory;
    maxStreamBytes?: number;
    log?: (line: string) => void;
    previousPid?: number;
  }) {
    this.#previousPid = options.previousPid;
    this.#clusterId = options.clusterId;
    this.#history = options.history;
    this.#maxStreamBytes = options.maxStreamBytes ?? 2 ** 20;
    this.#log = options.log ?? ((line) => console.warn(line));
  }

  /** How many tasks are unfinished. */
  get size(): number {
    return this.#tasks.size;
  }

  /**
   * Whether a task of this id was ever submitted: in flight, or at or
   * below the highest id its block has had in the history (purged or
   * not), so that no id is accepted twice.
   */
  known(taskId: number): boolean {
    return this.#tasks.has(taskId) || this.#history.used(taskId);
  }

  /**
   * Records `task` as submitted by client `clientNo` and returns the
   * listener to submit it to the cluster with; `submitter` follows it.
   */
  listenerFor(
    task: SubmittedTask,
    clientNo: number,
    submitter: Follower,
  ): TaskListener {
    const { taskId } = task;
    const history = this.#history;
    const live: LiveTask = {
      followers: new Set([submitter]),
      engineId: "engineId" in task.placement
        ? task.placement.engineId
        : undefined,
      started: false,
      stdout: "",
      stderr: "",
      streamBytes: 0,
      cut: false,
      merged: undefined,
    };
    this.#tasks.set(taskId, live);
    const tell = (event: WireTaskEvent) => {
      for (const follower of live.followers) follower.event(event);
    };
    // The history's failure (a full disk) must not stop the task's
    // events, nor the engine's: it is logged, and the clients still hear.
    // A task it could not take in is not recorded further: one line, not
    // one per event.
    let recording = true;
    const record = (write: () => void) => {
      if (!recording) return;
      try {
        write();
      } catch (error) {
        this.#log(
          `troupe: the history could not record task ${taskId}: ` +
            messageOf(error),
        );
        return error;
      }
    };
    recording =
      record(() => history.submitted(task, clientNo, Date.now())) === undefined;
    const { engineId } = live;
    if (engineId !== undefined) {
      record(() => history.assigned(taskId, engineId));
    }
    return {
      assigned: (engineId) => {
        live.engineId = engineId;
        record(() => history.assigned(taskId, engineId));
        tell({ kind: "assigned", taskId, engineId });
      },
      started: () => {
        live.started = true;
        record(() => history.started(taskId, Date.now()));
        tell({ kind: "started", taskId });
      },
      stream: (name, text) => {
        this.#keepStream(live, name, text);
        record(() => history.stream(taskId, name, text));
        tell({ kind: "stream", taskId, name, text });
      },
      publish: (publication) => {
        live.merged = live.merged
          ? mergePublications(live.merged, publication)
          : publication;
        record(() => history.published(taskId, publication));
        tell({ kind: "publish", taskId, publication });
      },
      done: (outcome) => {
        this.#tasks.delete(taskId);
        const wire = toWireOutcome(outcome);
        record(() => history.done(taskId, wire));
        tell({ kind: "done", taskId, outcome: wire });
      },
    };
  }

  /**
   * `follower` hears these tasks from now on, after what is known of them
   * so far: a live task's engine, start, streams and merged data; a
   * finished one's whole life from the history, `done` included; a task
   * the history does not have ends at once with a `RangeError`.
   */
  follow(taskIds: readonly number[], follower: Follower): void {
    for (const taskId of taskIds) {
      const live = this.#tasks.get(taskId);
      if (live) {
        this.#replayLive(taskId, live, follower);
        live.followers.add(follower);
      } else {
        for (const event of this.#replayFinished(taskId)) {
          follower.event(event);
        }
      }
    }
  }

  /**
   * How a finished task ended, for a dependent the core got after the core
   * forgot it (a client submits before it hears the end): its outcome and
   * engine from the history, or why they are not there.
   */
  ended(taskId: number): EndedTask | Error {
    const summary = this.#history.get(taskId, true);
    if (!summary || summary.state === "queued" || summary.state === "running") {
      const done = this.#replayFinished(taskId).at(-1);
      const wire = done?.kind === "done" && !done.outcome.ok
        ? done.outcome.error
        : undefined;
      return wire ? fromWireError(wire) : new RangeError(`no task ${taskId}`);
    }
    return endedTask(summary);
  }

  /** `follower` is gone: it follows nothing any more. */
  forget(follower: Follower): void {
    for (const live of this.#tasks.values()) live.followers.delete(follower);
  }

  #keepStream(live: LiveTask, name: "stdout" | "stderr", text: string): void {
    if (live.cut) return;
    const room = this.#maxStreamBytes - live.streamBytes;
    const bytes = utf8Length(text);
    if (bytes <= room) {
      live[name] += text;
      live.streamBytes += bytes;
      return;
    }
    live.cut = true;
    live[name] += utf8Prefix(text, Math.max(0, room)) +
      `\n[troupe: the rest of this task's output is not kept: over ` +
      `maxStreamBytes (${this.#maxStreamBytes})]\n`;
  }

  #replayLive(taskId: number, live: LiveTask, follower: Follower): void {
    if (live.engineId !== undefined) {
      follower.event({ kind: "assigned", taskId, engineId: live.engineId });
    }
    if (live.started) follower.event({ kind: "started", taskId });
    for (const name of ["stdout", "stderr"] as const) {
      if (live[name]) {
        follower.event({ kind: "stream", taskId, name, text: live[name] });
      }
    }
    if (live.merged) {
      follower.event({ kind: "publish", taskId, publication: live.merged });
    }
  }

  #replayFinished(taskId: number): WireTaskEvent[] {
    const summary = this.#history.get(taskId, true);
    if (!summary || summary.state === "queued" || summary.state === "running") {
      const error = summary
        ? new RangeError(
          `task ${taskId} is in cluster ${this.#clusterId}'s history as ` +
            `${summary.state}, but this controller does not run it: it ran ` +
            "under a controller that stopped before it ended",
        )
        : new RangeError(
          notInHistory(
            taskId,
            this.#clusterId,
            this.#history,
            this.#previousPid,
          ),
        );
      return [{
        kind: "done",
        taskId,
        outcome: { ok: false, error: toWireError(error) },
      }];
    }
    const events: WireTaskEvent[] = [];
    if (summary.engineId !== undefined) {
      events.push({ kind: "assigned", taskId, engineId: summary.engineId });
    }
    if (summary.started !== undefined) events.push({ kind: "started", taskId });
    for (const name of ["stdout", "stderr"] as const) {
      const text = summary[name];
      if (text) events.push({ kind: "stream", taskId, name, text });
    }
    if (summary.data && Object.keys(summary.data).length > 0) {
      events.push({
        kind: "publish",
        taskId,
        publication: {
          engineId: summary.engineId ?? -1,
          taskId,
          seq: summary.publications,
          time: summary.completed ?? summary.submitted,
          data: summary.data,
        },
      });
    }
    events.push({ kind: "done", taskId, outcome: finishedOutcome(summary) });
    return events;
  }
}

/**
 * A task's outcome as it crosses: its error as a `WireError`.
 *
 * @example
 * ```ts
 * import { toWireOutcome } from "./live_tasks.ts";
 * const wire = toWireOutcome({ ok: false, error: new RangeError("no") });
 * console.log(wire.ok || wire.error.name); // RangeError
 * ```
 */
export function toWireOutcome(outcome: TaskOutcome): WireOutcome {
  if (outcome.ok) return outcome;
  const { error, started, completed } = outcome;
  return {
    ok: false,
    error: toWireError(error),
    ...(started === undefined ? {} : { started }),
    ...(completed === undefined ? {} : { completed }),
  };
}
