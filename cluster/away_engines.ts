/**
 * Remote engines given up while away: one not back within
 * `restart.withinMs` of its death is stopped (its old id would otherwise
 * wait forever when a new process joins in its place), but the same
 * process may still come back after a longer pause (a laptop's sleep, a
 * paused VM, a partition). It is known by the pid and host of its hello.
 *
 * @module
 */

import type { EngineWhere } from "../protocol/engine_link.ts";

/**
 * The processes of the remote engines given up while away, by engine id.
 *
 * @example
 * ```ts
 * import { AwayEngines } from "./away_engines.ts";
 * const away = new AwayEngines();
 * const reason = away.givenUp(3, { pid: 42, host: "lab1" }, 60_000, "its link ended");
 * console.log(away.isSameProcess(3, { pid: 42, hostname: "lab1" })); // true
 * console.log(away.isSameProcess(3, { pid: 43, hostname: "lab1" })); // false
 * console.log(reason.startsWith("it did not reconnect within 60000 ms")); // true
 * ```
 */
export class AwayEngines {
  #away = new Map<number, { pid: number; host: string }>();

  /**
   * Engine `engineId` (running at `where`) is given up after `withinMs`:
   * remembers its process if it is known; returns the reason to give.
   */
  givenUp(
    engineId: number,
    where: EngineWhere | undefined,
    withinMs: number,
    died: string,
  ): string {
    const { pid, host } = where ?? {};
    if (pid !== undefined && host !== undefined) {
      this.#away.set(engineId, { pid, host });
    }
    return `it did not reconnect within ${withinMs} ms (restart.withinMs) ` +
      `of its death; the same process (pid ${pid ?? "unknown"} on ` +
      `${host ?? "its host"}) that comes back later gets its id again, ` +
      `another one started in its place joins under a new id; it died ` +
      `because ${died}`;
  }

  /** Whether `hello` comes from the process engine `engineId` was. */
  isSameProcess(
    engineId: number,
    hello: { pid?: number; hostname?: string },
  ): boolean {
    const away = this.#away.get(engineId);
    return away !== undefined && away.pid === hello.pid &&
      away.host === hello.hostname;
  }

  /** Forgets engine `engineId`'s process; whether it was known. */
  delete(engineId: number): boolean {
    return this.#away.delete(engineId);
  }
}
