/**
 * The client a test runs on, always closed afterwards with no engine
 * thread left (Deno's sanitizers do not see Workers): embedded
 * (`Client.start`) or connected to a controller in this process
 * (`Client.connect`). Re-exported by helpers.ts.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Client, type ClientOptions } from "../mod.ts";
import {
  type Controller,
  type ControllerOptions,
  startController,
} from "../controller/controller.ts";
import { liveWorkerCount } from "../transport/worker_link.ts";
import { guard } from "./waits.ts";

/**
 * Runs `body` with a started client, then closes it and asserts that every
 * engine thread is gone, whatever `body` did.
 *
 * @example
 * ```ts
 * import { withClient } from "./client_sides.ts";
 * await withClient({ workers: 2 }, async (client) => {
 *   console.log(client.ids);
 * });
 * ```
 */
export async function withClient(
  options: ClientOptions,
  body: (client: Client) => Promise<void>,
): Promise<void> {
  const client = await Client.start(options);
  try {
    await body(client);
  } finally {
    await client.close();
    assert.equal(liveWorkerCount(), 0, "an engine thread outlived close()");
  }
}

/**
 * Runs `body` with a controller started in this process (quiet unless
 * `options.log` says otherwise), then stops it and asserts that it ended
 * and that every engine thread is gone, whatever `body` did.
 *
 * @example
 * ```ts
 * import { withController } from "./client_sides.ts";
 * await withController({ id: "demo", engines: { workers: 1 } }, async (c) => {
 *   console.log(c.sessions); // 0
 * });
 * ```
 */
export async function withController(
  options: ControllerOptions,
  body: (controller: Controller) => Promise<void>,
): Promise<void> {
  const controller = await guard(
    startController({ log: () => {}, ...options }),
    "the controller to start",
    60_000,
  );
  try {
    await body(controller);
  } finally {
    await guard(controller.stop(), "the controller to stop", 30_000);
    await guard(controller.closed, "the controller's end", 30_000);
    assert.equal(liveWorkerCount(), 0, "an engine thread outlived stop()");
  }
}

/**
 * Where a suite's client keeps its cluster core: in the test process
 * (`Client.start`, "embedded"), or in a controller it attaches to
 * (`Client.connect`, "connected"), so that one suite checks that a user
 * sees the same API either way.
 */
export type ClientSide = "embedded" | "connected";

/**
 * Both sides, for suites that must pass on each.
 *
 * @example
 * ```ts
 * import { CLIENT_SIDES } from "./client_sides.ts";
 * for (const side of CLIENT_SIDES) console.log(side);
 * ```
 */
export const CLIENT_SIDES: readonly ClientSide[] = ["embedded", "connected"];

/**
 * `withClient` on either side: embedded, it is `withClient`; connected, it
 * starts a controller in this process with `options` as its engines
 * (`startController`), connects a client to it (with `options.tracing`,
 * a client's own), runs `body`, then detaches
 * the client, stops the controller and asserts that every engine thread is
 * gone, whatever `body` did.
 *
 * @example
 * ```ts
 * import { withClientOn } from "./client_sides.ts";
 * await withClientOn("connected", { workers: 1 }, async (client) => {
 *   console.log(client.clusterId !== undefined); // true
 * });
 * ```
 */
export async function withClientOn(
  side: ClientSide,
  options: ClientOptions,
  body: (client: Client) => Promise<void>,
): Promise<void> {
  if (side === "embedded") return await withClient(options, body);
  // Kept, and shown only when the body fails: every attach is logged, and
  // an embedded client's suite prints nothing either.
  const said: string[] = [];
  const id = `suite-${crypto.randomUUID()}`;
  const log = (line: string) => void said.push(line);
  // Tracing is the client's own: the controller's engines do not take it.
  const { tracing, ...engines } = options;
  await withController({ id, engines, log }, async (controller) => {
    const client = await guard(
      Client.connect(controller.clientInfo, tracing && { tracing }),
      "Client.connect",
    );
    try {
      // Never an embedded client by mistake: the suite would pass unseen.
      assert.equal(client.clusterId, controller.id);
      await body(client);
    } catch (error) {
      console.error(`the controller said:\n${said.join("\n")}`);
      throw error;
    } finally {
      await guard(client.close(), "the client to detach");
    }
  });
}
