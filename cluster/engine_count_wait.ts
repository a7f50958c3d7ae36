/**
 * `waitForEngines`: waits until enough engines are up, and says at once
 * when they can never be, with why the last one given up died.
 *
 * @module
 */

import { ClientClosedError, TimeoutError } from "../protocol/errors.ts";
import type { Supervisor } from "./supervisor.ts";

/**
 * The pending `waitForEngines` calls of one cluster, checked again on
 * every engine event (`check`).
 *
 * @example
 * ```ts
 * import { EngineCountWaits } from "./engine_count_wait.ts";
 * import { Registry } from "./registry.ts";
 * import { Supervisor } from "./supervisor.ts";
 * const supervisor = new Supervisor({ registry: new Registry() });
 * const waits = new EngineCountWaits(() => supervisor, () => false, () => false);
 * await waits.wait(0, 1000); // none needed
 * await waits.wait(1, 1000).catch((e) => console.log(e.message));
 * // 1 engines can never be up: this client has 0 engines that are up or starting
 * await supervisor.close("done");
 * ```
 */
export class EngineCountWaits {
  #supervisor: () => Supervisor;
  #joinable: () => boolean;
  #closed: () => boolean;
  #waiters = new Set<() => void>();

  /**
   * Waits on the engines of `supervisor`; while `joinable`, more may
   * join; once `closed`, every wait fails.
   */
  constructor(
    supervisor: () => Supervisor,
    joinable: () => boolean,
    closed: () => boolean,
  ) {
    this.#supervisor = supervisor;
    this.#joinable = joinable;
    this.#closed = closed;
  }

  /**
   * Resolves once `n` engines are up. Rejects with a `TimeoutError` after
   * `timeoutMs`, and at once when `n` engines can never be up or the
   * cluster closes. With `of`, only those engines count: a start waits
   * for the engines it started, which fail it once given up even while
   * others may join.
   */
  wait(
    n: number,
    timeoutMs: number | undefined,
    of?: readonly number[],
  ): Promise<void> {
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const check = () => {
      let error: Error | undefined;
      if (this.#closed()) {
        error = new ClientClosedError({ what: "wait for engines" });
      } else if (this.#possible(of) < n) {
        error = new Error(
          `${n} engines can never be up: this client has ` +
            `${this.#possible(of)} engines that are up or starting` +
            this.#whyStopped(of),
        );
      } else if (this.#up(of) < n) return;
      this.#waiters.delete(check);
      clearTimeout(timer);
      if (error) reject(error);
      else resolve();
    };
    this.#waiters.add(check);
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(
          new TimeoutError(
            `${this.#up(of)} of ${n} engines are up after ${timeoutMs} ms` +
              this.#whyStopped(of),
          ),
        );
      }, timeoutMs);
    }
    check();
    return promise;
  }

  /** Engines changed (or the cluster closed): every wait looks again. */
  check(): void {
    for (const check of [...this.#waiters]) check();
  }

  /** The engines that count: all, or those of `of`. */
  #engines(of: readonly number[] | undefined) {
    const all = this.#supervisor().all();
    return of ? all.filter((e) => of.includes(e.engineId)) : all;
  }

  #up(of: readonly number[] | undefined): number {
    return this.#engines(of).filter((e) => e.up).length;
  }

  /**
   * How many engines could still be up; any number, while some may join
   * (unless only the engines of `of` count).
   */
  #possible(of: readonly number[] | undefined): number {
    if (!of && this.#joinable()) return Infinity;
    return this.#engines(of).filter((e) => e.state !== "stopped").length;
  }

  /** Why the first engine that was given up last died, if one was. */
  #whyStopped(of: readonly number[] | undefined): string {
    const lost = this.#engines(of).find((e) =>
      e.state === "stopped" && e.deathReason !== undefined
    );
    return lost
      ? ` (engine ${lost.engineId} was given up; it last died because ` +
        `${lost.deathReason})`
      : "";
  }
}
