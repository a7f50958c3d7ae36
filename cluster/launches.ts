/**
 * The launchers of a cluster: which engines each started, how to start
 * more of them, and how to retire some (`client.scale`).
 *
 * @module
 */

import type { Admission } from "./admission.ts";
import type { Launcher } from "./launcher.ts";
import type { LaunchGroup } from "./launch_group.ts";
import type { Supervisor } from "./supervisor.ts";

/**
 * Every launcher of one cluster, and its engines.
 *
 * @example
 * ```ts
 * import { Launches } from "./launches.ts";
 * import type { Admission } from "./admission.ts";
 * import type { Supervisor } from "./supervisor.ts";
 * function launchesOf(supervisor: Supervisor, admission: Admission) {
 *   return new Launches(supervisor, admission);
 * }
 * ```
 */
export class Launches {
  #supervisor: Supervisor;
  #admission: Admission;
  #groups = new Map<
    Launcher,
    { group: LaunchGroup; ids: number[]; retired: Set<number> }
  >();

  /** Launches engines into `supervisor`, admitted by `admission`. */
  constructor(supervisor: Supervisor, admission: Admission) {
    this.#supervisor = supervisor;
    this.#admission = admission;
  }

  /** Starts `launcher.engines` engines through `launcher`; their ids. */
  add(launcher: Launcher): number[] {
    if (this.#groups.has(launcher)) {
      throw new Error(`the ${launcher.name} launcher was given twice`);
    }
    const group = this.#admission.launchGroup(launcher);
    this.#groups.set(launcher, { group, ids: [], retired: new Set() });
    return this.#grow(launcher, launcher.engines);
  }

  /**
   * Grows or shrinks the engines of `launcher` (the only one, when not
   * given) to `n`: new ones get new ids; the ones beyond `n` are retired,
   * idle ones first (each finishes its running task; what waits for it
   * goes to other engines). Returns the ids it started or retired.
   */
  scale(
    n: number,
    launcher?: Launcher,
  ): { started: number[]; retired: number[] } {
    if (!Number.isInteger(n) || n < 0) {
      throw new RangeError(`scale needs a whole number of engines, got ${n}`);
    }
    const chosen = launcher ?? this.#only();
    const entry = this.#groups.get(chosen);
    if (!entry) {
      throw new Error(
        `the ${chosen.name} launcher is not one of this client's (give it in ` +
          "Client.start's launch option)",
      );
    }
    const live = entry.ids.filter((id) =>
      !entry.retired.has(id) && this.#supervisor.get(id)?.state !== "stopped"
    );
    if (n >= live.length) {
      return { started: this.#grow(chosen, n - live.length), retired: [] };
    }
    // Idle ones first, then the newest: the old busy ones keep their work.
    const order = [...live].sort((a, b) =>
      this.#busy(a) - this.#busy(b) || b - a
    );
    const retired = order.slice(0, live.length - n);
    for (const engineId of retired) {
      entry.retired.add(engineId);
      this.#supervisor.retire(
        [engineId],
        `client.scale(${n}) asked for fewer ${chosen.name} engines`,
      );
    }
    return { started: [], retired };
  }

  /** Stops every launcher once their engines have been stopped. */
  async close(): Promise<void> {
    await Promise.all(
      [...this.#groups.values()].map(({ group }) => group.close()),
    );
  }

  #grow(launcher: Launcher, count: number): number[] {
    const entry = this.#groups.get(launcher)!;
    const started: number[] = [];
    for (let i = 0; i < count; i++) {
      const engineId = (this.#supervisor.all().at(-1)?.engineId ?? -1) + 1;
      this.#supervisor.startEngine(engineId, "process", entry.group.spawn);
      entry.ids.push(engineId);
      started.push(engineId);
    }
    return started;
  }

  #only(): Launcher {
    if (this.#groups.size === 1) return [...this.#groups.keys()][0];
    throw new Error(
      this.#groups.size === 0
        ? "this client has no launcher to scale: give Client.start a launch " +
          "option (local, ssh, slurm, mpi or your own)"
        : `this client has ${this.#groups.size} launchers (${
          [...this.#groups.keys()].map((l) => l.name).join(", ")
        }): say which, client.scale(n, launcher)`,
    );
  }

  #busy(engineId: number): number {
    return this.#supervisor.get(engineId)?.load ?? 0;
  }
}
