/**
 * How a connected client stops its controller (`client.shutdown()`): asks,
 * then waits a bounded time for the controller to close the connection.
 *
 * @module
 */

import { within } from "../actors/async.ts";
import { messageOf } from "../protocol/errors.ts";

/** How long `close({ shutdown: true })` waits for the controller to stop. */
const SHUTDOWN_TIMEOUT_MS = 60_000;

/**
 * Asks controller `clusterId` to shut down (`ask`, the `shutdown` call) and
 * waits for `closed`, the connection's end: its engines stop first, and
 * their tasks' ends come before it closes. Never rejects: a controller that
 * refuses, or does not stop within 60 s, is logged, and the client detaches
 * anyway.
 *
 * @example
 * ```ts
 * import { askShutdown } from "./controller_shutdown.ts";
 * await askShutdown({
 *   clusterId: "sim",
 *   ask: () => Promise.resolve(undefined),
 *   closed: Promise.resolve(),
 *   log: console.log,
 * }); // logs nothing: it stopped
 * ```
 */
export async function askShutdown(controller: {
  clusterId: string;
  ask: () => Promise<unknown>;
  closed: Promise<void>;
  log: (line: string) => void;
}): Promise<void> {
  const { clusterId, log } = controller;
  try {
    await controller.ask();
    const { done } = await within(controller.closed, SHUTDOWN_TIMEOUT_MS);
    if (!done) {
      log(
        `troupe: controller ${clusterId} did not stop within ` +
          `${SHUTDOWN_TIMEOUT_MS} ms of the shutdown; detaching`,
      );
    }
  } catch (error) {
    log(
      `troupe: controller ${clusterId} did not take the shutdown: ${
        messageOf(error)
      }`,
    );
  }
}
