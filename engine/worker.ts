/**
 * Entry point of a Worker engine: the thread that `Client.start({ workers })`
 * starts once per engine.
 *
 * @module
 */

import { getHeapStatistics } from "node:v8";
import { setImmediate } from "node:timers";
import type { FromEngine, ToEngine } from "../actors/messages.ts";
import { TaskRunner } from "../actors/task_runner.ts";
import { WorkerPort } from "../transport/worker_port.ts";

// When the heap runs out, V8 raises the limit a little so that the thread
// can be ended. Inside a promise callback Deno 2.9 ends only the callback:
// the thread lives on with its task lost. A limit above the first one is the
// trace that this happened.
const heapLimit = getHeapStatistics().heap_size_limit;

new TaskRunner(new WorkerPort<FromEngine, ToEngine>(), {
  schedule: setImmediate,
  fatal: () =>
    getHeapStatistics().heap_size_limit > heapLimit
      ? "it ran out of memory"
      : undefined,
});
