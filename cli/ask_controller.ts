/**
 * How the CLI talks to a running controller: as any client does,
 * `Client.connect` with the state file's client key, bounded, closed
 * (detached: nothing of the cluster stops) when done.
 *
 * @module
 */

import { within } from "../actors/async.ts";
import { Client } from "../client/client.ts";
import {
  type ClusterState,
  clusterStatePath,
} from "../remote/cluster_state.ts";

/**
 * Runs `ask` on a client attached to `state`'s controller; rejects if
 * attaching and `ask` take more than `timeoutMs` together, or fail.
 *
 * @example
 * ```ts ignore
 * import { askController } from "./ask_controller.ts";
 * import { readClusterState } from "../remote/cluster_state.ts";
 * const engines = await askController(await readClusterState("sim"), 2000,
 *   (client) => client.engines());
 * ```
 */
export async function askController<T>(
  state: ClusterState,
  timeoutMs: number,
  ask: (client: Client) => T | Promise<T>,
): Promise<T> {
  const asked = (async () => {
    // Its warnings would only repeat what the answer says.
    // By its state file's path: errors then name the cluster and the file.
    const client = await Client.connect(clusterStatePath(state.id), {
      timeoutMs,
      log: () => {},
    });
    try {
      return await ask(client);
    } finally {
      await client.close();
    }
  })();
  const answer = await within(asked, timeoutMs);
  if (!answer.done) {
    asked.catch(() => {});
    throw new Error(
      `controller ${state.id} (pid ${state.pid}) did not answer within ` +
        `${timeoutMs} ms on ${state.hostname}:${state.port}`,
    );
  }
  return answer.value;
}
