/**
 * What a connected client's tasks end with when it closes or loses its
 * controller: its own words for a task it was waiting for (it detached, or
 * shut the cluster down), and words that say a task asked of it after was
 * never sent (so nothing runs on in the controller).
 *
 * @module
 */

import { ClientClosedError, ControllerLostError } from "../protocol/errors.ts";

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
 * client closed: it never reached the controller, which a task to run
 * says (the embedded client's `ClientClosedError`, with the task's id).
 *
 * @example
 * ```ts
 * import { afterCloseError } from "./closing_errors.ts";
 * console.log(afterCloseError(7, "run").message);
 * // cannot run task 7: the client is closed; the task was not sent
 * ```
 */
export function afterCloseError(
  taskId: number,
  verb: "run" | "follow",
): ClientClosedError {
  return new ClientClosedError({
    what: `${verb} task ${taskId}`,
    advice: verb === "run" ? "the task was not sent" : undefined,
  });
}

/**
 * The error of task `taskId` submitted (`run`) or followed after the
 * connection to controller `clusterId` was lost (`why`): never sent, so a
 * task to run does not run there (not "the tasks run on there", true only
 * of the tasks sent before).
 *
 * @example
 * ```ts
 * import { afterLossError } from "./closing_errors.ts";
 * console.log(afterLossError("sim", "reset", 7, "run").message);
 * // lost the connection to controller sim (reset) before task 7 was sent: ...
 * ```
 */
export function afterLossError(
  clusterId: string,
  why: string,
  taskId: number,
  verb: "run" | "follow",
): ControllerLostError {
  const lost = `lost the connection to controller ${clusterId} (${why})`;
  const again = `Client.connect(${JSON.stringify(clusterId)})`;
  return new ControllerLostError({
    controller: clusterId,
    why,
    message: verb === "run"
      ? `${lost} before task ${taskId} was sent: it was not sent, so it ` +
        `does not run there; reconnect with ${again} and submit it again`
      : `${lost} before this client asked to follow task ${taskId}; it ` +
        `runs on there if it was: reconnect with ${again} and ` +
        `client.resume(ar.toJSON()) (or client.getResult([${taskId}]))`,
  });
}

/**
 * Why nothing can run on a client that lost controller `clusterId`
 * (`why`): what its load-balanced views throw at the call.
 *
 * @example
 * ```ts
 * import { lostUnrunnable } from "./closing_errors.ts";
 * console.log(lostUnrunnable("sim", "reset"));
 * // lost the connection to controller sim (reset): this task was not sent; ...
 * ```
 */
export function lostUnrunnable(clusterId: string, why: string): string {
  return `lost the connection to controller ${clusterId} (${why}): this ` +
    `task was not sent; none can be until a client reconnects with ` +
    `Client.connect(${JSON.stringify(clusterId)})`;
}

/**
 * How a connected client ended, as its `RemoteCluster` applies it: the
 * error of each task it was waiting for, of each pending call, and of each
 * task asked of it after (never sent); why its engines are out of reach;
 * what its load-balanced views throw at the call, if anything (none: the
 * task fails as `later` says).
 *
 * @example
 * ```ts
 * import { type ClientEnd, detachedEnd } from "./closing_errors.ts";
 * const end: ClientEnd = detachedEnd("sim", false);
 * console.log(end.later(7, "run").message);
 * // cannot run task 7: the client is closed; the task was not sent
 * ```
 */
export interface ClientEnd {
  /** The error of a task this client was waiting for. */
  pending(taskId: number): Error;
  /** The error of each call still waiting for its answer. */
  call: Error;
  /** Why no engine can be reached, for each engine's `deathReason`. */
  why: string;
  /** The error of a task submitted (`run`) or followed after the end. */
  later(taskId: number, verb: "run" | "follow"): Error;
  /** What load-balanced views throw after the end, if they throw. */
  unrunnable?: string;
}

/**
 * The end of a client that detached (`close()`), or shut controller
 * `clusterId` down (`shutdown`).
 *
 * @example
 * ```ts
 * import { detachedEnd } from "./closing_errors.ts";
 * console.log(detachedEnd("sim", true).why); // the cluster was shut down
 * ```
 */
export function detachedEnd(clusterId: string, shutdown: boolean): ClientEnd {
  const why = shutdown ? "the cluster was shut down" : "the client detached";
  return {
    pending: (taskId) => pendingAtCloseError(clusterId, taskId, shutdown),
    call: new ClientClosedError({ what: "ask the controller" }),
    why: `${why}: no engine of controller ${clusterId} can be reached`,
    later: afterCloseError,
  };
}

/**
 * The end of a client that lost controller `clusterId` (`why`): its
 * pending tasks run on there; what is asked after was never sent.
 *
 * @example
 * ```ts
 * import { lostEnd } from "./closing_errors.ts";
 * console.log(lostEnd("sim", "reset").pending(7).name); // ControllerLostError
 * ```
 */
export function lostEnd(clusterId: string, why: string): ClientEnd {
  const lost = () => new ControllerLostError({ controller: clusterId, why });
  return {
    pending: lost,
    call: lost(),
    why: `lost the controller (${why}): no engine of controller ` +
      `${clusterId} can be reached`,
    later: (taskId, verb) => afterLossError(clusterId, why, taskId, verb),
    unrunnable: lostUnrunnable(clusterId, why),
  };
}
