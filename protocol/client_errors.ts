/**
 * Errors of the client itself rather than of a task: it was closed, or (a
 * connected client) it lost its controller. Re-exported by errors.ts, with
 * troupe's other errors.
 *
 * @module
 */

/**
 * The client was closed: what was asked of it can no longer happen. Start a
 * new client for more work.
 *
 * @example
 * ```ts
 * import { Client, ClientClosedError } from "@troupe/parallel";
 * const client = await Client.start({ workers: 0 });
 * await client.close();
 * try {
 *   await client.waitForEngines(1);
 * } catch (error) {
 *   console.log(error instanceof ClientClosedError); // true
 * }
 * ```
 */
export class ClientClosedError extends Error {
  /**
   * `what` names what could not be done, e.g. "serve a dashboard";
   * `advice`, what to do instead, ends the message. `message` replaces
   * the whole, where "cannot ..." misreads (a task this client submitted
   * and detached from).
   */
  constructor(
    options: ErrorOptions & {
      what?: string;
      advice?: string;
      message?: string;
    } = {},
  ) {
    const what = options.what ? `cannot ${options.what}: ` : "";
    const advice = options.advice ? `; ${options.advice}` : "";
    super(options.message ?? `${what}the client is closed${advice}`, {
      cause: options.cause,
    });
    this.name = "ClientClosedError";
  }
}

/**
 * A connected client (`Client.connect`) lost its controller: the
 * controller stopped, or the network between them failed. The client's
 * pending results end with it; the tasks themselves run on in the
 * controller if it still runs: connect again and `resume` them.
 *
 * @example
 * ```ts
 * import { ControllerLostError } from "@troupe/parallel";
 * const e = new ControllerLostError({
 *   controller: "sim",
 *   why: "the connection closed",
 * });
 * console.log(e.controller, e.message);
 * ```
 */
export class ControllerLostError extends Error {
  /** The controller's cluster id (or address), as the client knew it. */
  readonly controller: string;
  /** Why the connection ended, in words. */
  readonly why: string;

  /**
   * Names the controller and why it was lost, and how to resume.
   * `message` replaces the whole, where "the tasks run on there" misreads
   * (a task asked of the client after the loss was never sent).
   */
  constructor(
    options: ErrorOptions & {
      controller: string;
      why: string;
      message?: string;
    },
  ) {
    const { controller, why } = options;
    super(
      options.message ??
        `lost the connection to controller ${controller} (${why}); the ` +
          "tasks run on there: reconnect with " +
          `Client.connect(${JSON.stringify(controller)}) and resume them ` +
          "with client.resume(ar.toJSON())",
      { cause: options.cause },
    );
    this.name = "ControllerLostError";
    this.controller = controller;
    this.why = why;
  }
}
