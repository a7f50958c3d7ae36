/**
 * An engine actor on a `FakeLink`, for the unit tests of the engine actor
 * and its pieces: the test plays the engine (`link.say`, `link.exit`), the
 * actor handles each message at once (its mailbox is idle), and the test
 * checks what the actor sent, what each task heard and the engine events.
 *
 * @module
 */

import { EngineActor } from "../cluster/engine_actor.ts";
import type { EngineEvent } from "../cluster/engine_types.ts";
import { Registry } from "../cluster/registry.ts";
import { RUNNING_SLOT } from "../protocol/messages.ts";
import { FakeLink, type FakeLinkOptions } from "./fake_link.ts";
import { doneMessage, TaskProbe } from "./task_probe.ts";

/** An engine actor, its current link, and what it did. */
export interface EngineRig {
  engine: EngineActor;
  /** The link the engine runs on now (`restart` replaces it). */
  link: FakeLink;
  registry: Registry;
  /** Every engine event, in order. */
  events: EngineEvent[];
  /** Submits tasks `ids` and returns their probes, in order. */
  submit(...ids: number[]): TaskProbe[];
  /** The ids of the `run` messages sent on the current link, in order. */
  runs(): number[];
  /** The engine says it is ready. */
  ready(): void;
  /** The engine says task `taskId` returned. */
  done(taskId: number): void;
  /** The supervisor restarts the engine on a fresh link like the first. */
  restart(): FakeLink;
  /**
   * Sets the id of the task the engine's thread runs, in the shared memory
   * that `init` carried, as a Worker's task runner does (0: none).
   */
  running(taskId: number): void;
}

/**
 * Starts an engine actor (engine 0) on a `FakeLink` made with `options`.
 *
 * @example
 * ```ts
 * import { engineRig } from "./engine_rig.ts";
 * const rig = engineRig();
 * const [probe] = rig.submit(1);
 * rig.ready();
 * rig.done(1);
 * console.log(probe.value()); // 1
 * ```
 */
export function engineRig(
  options: FakeLinkOptions & {
    startTimeoutMs?: number;
    noEngineTimeoutMs?: number;
  } = {},
): EngineRig {
  const { startTimeoutMs, noEngineTimeoutMs, ...linkOptions } = options;
  const registry = new Registry();
  const events: EngineEvent[] = [];
  const rig: EngineRig = {
    engine: undefined as unknown as EngineActor,
    link: new FakeLink(linkOptions),
    registry,
    events,
    submit(...ids) {
      return ids.map((id) => {
        const probe = new TaskProbe(id);
        rig.engine.tell({ kind: "submit", task: probe.task() });
        return probe;
      });
    },
    runs: () => rig.link.sentOf("run").map((run) => run.taskId),
    ready: () => rig.link.say({ t: "ready" }),
    done: (taskId) => rig.link.say(doneMessage(taskId)),
    restart() {
      rig.link = new FakeLink(linkOptions);
      rig.engine.tell({ kind: "restart", link: rig.link });
      return rig.link;
    },
    running(taskId) {
      const [init] = rig.link.sentOf("init");
      new Int32Array(init.acks!)[RUNNING_SLOT] = taskId;
    },
  };
  rig.engine = new EngineActor(
    0,
    rig.link,
    registry,
    (event) => events.push(event),
    { startTimeoutMs, noEngineTimeoutMs },
  );
  return rig;
}
