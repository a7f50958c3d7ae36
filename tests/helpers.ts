/**
 * Shared test scaffolding: a client that is always closed, and a check that
 * no engine thread outlives it (Deno's sanitizers do not see Workers).
 *
 * @module
 */

import assert from "node:assert/strict";
import { Client, type ClientOptions } from "../mod.ts";
import { liveWorkerCount } from "../transport/worker_link.ts";

/**
 * Runs `body` with a started client, then closes it and asserts that every
 * engine thread is gone, whatever `body` did.
 *
 * @example
 * ```ts
 * import { withClient } from "./helpers.ts";
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
