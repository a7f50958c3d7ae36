/**
 * Starting a controller from code (`@troupe/parallel/controller`): what
 * `troupe start` runs in a process of its own, for a program that keeps
 * the cluster itself (a service, a test harness). Clients attach with
 * `Client.connect(controller.clientInfo)`.
 *
 * @example
 * ```ts
 * import { Client } from "@troupe/parallel";
 * import { startController } from "@troupe/parallel/controller";
 * const controller = await startController({ id: "doc", engines: { workers: 1 } });
 * const client = await Client.connect(controller.clientInfo);
 * console.log(await client.view(0).applyAsync(() => 6 * 7)); // 42
 * await client.close();
 * await controller.stop();
 * ```
 *
 * @module
 */

export {
  type Controller,
  type ControllerOptions,
  startController,
} from "./controller.ts";
export type { HistoryOptions } from "./history_options.ts";
