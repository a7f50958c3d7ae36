/**
 * What the client set on one engine's globals and when the engine last lost
 * them, kept client side so that a task or a `pull` that misses a name
 * after a restart can say that the engine restarted since, and only then.
 *
 * @module
 */

import type { ErrorInfo } from "../protocol/errors.ts";
import type { FunctionRef } from "../protocol/messages.ts";
import { EXECUTE, PUSH } from "../protocol/namespace_ops.ts";

/** When something happened, and in which life of the engine. */
interface Mark {
  at: number;
  life: number;
}

/** What was done to the globals last: `push` (or scatter) or `execute`. */
interface SetMark extends Mark {
  how: "pushed to it" | "run on it with execute";
}

/**
 * One engine's record. Each loss (a restart, a replaced task thread, a
 * reconnect) starts a new life; a value set in an earlier life is gone.
 *
 * @example
 * ```ts
 * import { GlobalsLedger } from "./globals_ledger.ts";
 * import { PUSH } from "../protocol/namespace_ops.ts";
 * const ledger = new GlobalsLedger();
 * ledger.finished(PUSH, [{ x: 1 }]);
 * ledger.lost("it ran out of memory");
 * console.log(ledger.hint(0, { name: "ReferenceError", message: "x is not defined" }));
 * ```
 */
export class GlobalsLedger {
  #life = 0;
  #lost: { at: number; reason: string } | undefined;
  #pushed = new Map<string, Mark>();
  #lastSet: SetMark | undefined;

  /** The engine lost its globals now, because of `reason`. */
  lost(reason: string): void {
    this.#life++;
    this.#lost = { at: Date.now(), reason };
  }

  /** A task ran to completion: note it if it set globals. */
  finished(fn: FunctionRef, args: readonly unknown[]): void {
    // Every task ends here: most set no globals, and cost no mark.
    if (fn !== PUSH && fn !== EXECUTE) return;
    const mark = { at: Date.now(), life: this.#life };
    if (fn === PUSH) {
      for (const name of Object.keys(args[0] as object)) {
        this.#pushed.set(name, mark);
      }
      this.#lastSet = { ...mark, how: "pushed to it" };
    } else {
      this.#lastSet = { ...mark, how: "run on it with execute" };
    }
  }

  /**
   * For an error that misses a name on the engine: why, if the engine lost
   * its globals since the client set them. `undefined` when that is not
   * what happened (nothing was set, or nothing was lost since).
   */
  hint(engineId: number, error: ErrorInfo): string | undefined {
    const name = missingName(error);
    const lost = this.#lost;
    if (name === undefined || lost === undefined) return undefined;
    const since = `engine ${engineId} restarted at ${clock(lost.at)} ` +
      `because ${lost.reason}, and a restart loses an engine's globals`;
    const pushed = this.#pushed.get(name);
    if (pushed) {
      if (pushed.life === this.#life) return undefined;
      return `${name} was pushed to engine ${engineId} at ` +
        `${clock(pushed.at)}; since then ${since}. Push ${name} again.`;
    }
    const last = this.#lastSet;
    if (!last || last.life === this.#life) return undefined;
    return `Since values were last ${last.how} at ${clock(last.at)}, ` +
      `${since}. Set them again (push, or execute the code again).`;
  }
}

/** The name a `ReferenceError` (of a task, or of `pull`) says is missing. */
function missingName(error: ErrorInfo): string | undefined {
  if (error.name !== "ReferenceError") return undefined;
  return /^"?([^\s"]+)"? is not defined\b/.exec(error.message)?.[1];
}

/** `10:02:03`, local time: what a person compares with their clock. */
function clock(ms: number): string {
  return new Date(ms).toTimeString().slice(0, 8);
}
