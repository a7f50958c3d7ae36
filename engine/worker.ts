/**
 * Entry point of a Worker engine: the thread that `Client.start({ workers })`
 * starts once per engine.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import type { FromEngine, ToEngine } from "../actors/messages.ts";
import { TaskRunner } from "../actors/task_runner.ts";
import { WorkerPort } from "../transport/worker_port.ts";

new TaskRunner(new WorkerPort<FromEngine, ToEngine>(), setImmediate);
