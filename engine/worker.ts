/**
 * What runs on an engine's task thread: the thread that
 * `Client.start({ workers })` starts once per engine, and that an engine
 * process starts for its tasks.
 *
 * @module
 */

import { getHeapStatistics } from "node:v8";
import { setImmediate } from "node:timers";
import type { FromEngine, ToEngine } from "../protocol/messages.ts";
import { TaskRunner } from "./task_runner.ts";
import { WorkerPort } from "../transport/worker_port.ts";

/**
 * Runs this thread as an engine: what a `WorkerLink` started from this
 * module calls. Importing the module does nothing, so that the client can
 * import it too and the module is in the client's module graph (cached,
 * locked and fetched with it, wherever troupe is served from).
 *
 * @example
 * ```ts
 * import { WorkerLink } from "../transport/worker_link.ts";
 * const link = new WorkerLink(new URL("./worker.ts", import.meta.url));
 * await link.terminate();
 * ```
 */
export function serve(): void {
  // When the heap runs out, V8 raises the limit a little so that the thread
  // can be ended. Inside a promise callback Deno 2.9 ends only the callback:
  // the thread lives on with its task lost. A limit above the first one is
  // the trace that this happened.
  const heapLimit = getHeapStatistics().heap_size_limit;
  new TaskRunner(new WorkerPort<FromEngine, ToEngine>(), {
    // The cheapest hop that lets a task out of memory end its thread:
    // measured (Deno 2.9.6, 64 MB heap), a task run in the message handler,
    // in a queueMicrotask or in a MessageChannel's handler hangs the Worker;
    // setImmediate and setTimeout end it, and setImmediate costs ~0.5 µs a
    // round trip where setTimeout(0) waits a millisecond or more.
    schedule: setImmediate,
    fatal: () =>
      getHeapStatistics().heap_size_limit > heapLimit
        ? "it ran out of memory"
        : undefined,
  });
}
