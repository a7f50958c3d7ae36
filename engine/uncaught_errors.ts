/**
 * How an engine thread ends when something a task left behind throws: it
 * tells the client why, then exits, without Deno printing the error on the
 * client's stderr.
 *
 * @module
 */

import process from "node:process";
import { messageOf } from "../protocol/errors.ts";

/**
 * Turns an uncaught error or an unhandled rejection on this thread into a
 * reported death: `report` gets the reason in words, then the thread exits
 * with code 1. Left to itself, Deno prints
 * `error: Uncaught (in worker "troupe engine 1") ...` on the stderr of the
 * whole process, which reads like a crash of the client, although the client
 * reports the death already (an `EngineError` and a `died` event).
 * `preventDefault()` on the thread's own `error` and `unhandledrejection`
 * events is what silences Deno (under `node:worker_threads` in Deno 2.9.6,
 * as under a web Worker); the thread then still has to end, because the task
 * that left the error behind can no longer be trusted to finish.
 *
 * Call it once, on an engine's task thread only: on the main thread the
 * exit would end the process.
 *
 * @example
 * ```ts
 * import { endOnUncaughtError } from "./uncaught_errors.ts";
 * // In a thread entry's serve(), on the task thread (never the main one):
 * function serve() {
 *   endOnUncaughtError((reason) => console.log("dying:", reason));
 * }
 * ```
 */
export function endOnUncaughtError(report: (reason: string) => void): void {
  let ending = false;
  const end = (event: Event, how: string, thrown: unknown) => {
    event.preventDefault();
    if (ending) return; // A second error while ending says nothing new.
    ending = true;
    try {
      report(`${how} ended it: ${describe(thrown)}`);
    } finally {
      // A message posted before the exit reaches the parent before its
      // `exit` event: the client hears the reason, then the death.
      process.exit(1);
    }
  };
  globalThis.addEventListener("error", (event) => {
    end(event, "an uncaught error", event.error ?? event.message);
  });
  globalThis.addEventListener("unhandledrejection", (event) => {
    end(event, "an unhandled rejection", event.reason);
  });
}

function describe(thrown: unknown): string {
  return thrown instanceof Error
    ? `${thrown.name}: ${thrown.message}`
    : messageOf(thrown);
}
