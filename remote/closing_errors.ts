/**
 * What a connected client's tasks end with when it closes: its own words
 * for a task it was waiting for (it detached, or shut the cluster down),
 * and the plain "the client is closed" for one asked of it after.
 *
 * @module
 */

import { ClientClosedError } from "../protocol/errors.ts";

/**
 * The error of task `taskId`, still pending when this client detached
 * (`close()`) or shut controller `clusterId` down (`shutdown`): not
 * "cannot follow", which misreads for a task the client submitted itself.
 *
 * @example
 * ```ts
 * import { pendingAtCloseError } from "./closing_errors.ts";
 * console.log(pendingAtCloseError("sim", 4294967297, false).message);
 * // this client detached (close()) before task 4294967297 ended; ...
 * ```
 */
export function pendingAtCloseError(
  clusterId: string,
  taskId: number,
  shutdown: boolean,
): ClientClosedError {
  const again = JSON.stringify(clusterId);
  return new ClientClosedError({
    message: shutdown
      ? `task ${taskId} had not ended when this client shut controller ` +
        `${clusterId} down (shutdown())`
      : `this client detached (close()) before task ${taskId} ended; the ` +
        `task runs on in controller ${clusterId}: Client.connect(${again}) ` +
        `and client.resume(ar.toJSON()) (or client.getResult([${taskId}])) ` +
        `to get it`,
  });
}

/**
 * The error of task `taskId` submitted (`run`) or followed after the
 * client closed: it never reached the controller.
 *
 * @example
 * ```ts
 * import { afterCloseError } from "./closing_errors.ts";
 * console.log(afterCloseError(7, "run").message);
 * // cannot run task 7: the client is closed
 * ```
 */
export function afterCloseError(
  taskId: number,
  verb: "run" | "follow",
): ClientClosedError {
  return new ClientClosedError({ what: `${verb} task ${taskId}` });
}
