/**
 * Where TCP engines reach a client, and the connection file that tells
 * engines started by hand (`deno run -A jsr:@troupe/parallel/engine --file
 * conn.json`): what `client.connectionInfo` and
 * `client.writeConnectionFile` give, for an embedded client and a
 * connected one alike.
 *
 * @module
 */

import type { Cluster, ConnectionInfo } from "../cluster/cluster.ts";
import { writePrivateFile } from "../transport/private_file.ts";
import { checkOptions, CONNECTION_FILE_OPTIONS } from "./options.ts";

/**
 * The cluster's engine listener, key included; throws, saying how to get
 * one, when it has none.
 *
 * @example
 * ```ts
 * import { connectionInfoOf } from "./connection_file.ts";
 * const info = { hostname: "127.0.0.1", port: 5555, key: "k" };
 * console.log(connectionInfoOf({ connectionInfo: info }).port); // 5555
 * try {
 *   connectionInfoOf({ connectionInfo: undefined });
 * } catch (error) {
 *   console.log((error as Error).message); // this client does not accept TCP engines: ...
 * }
 * ```
 */
export function connectionInfoOf(
  cluster: Pick<Cluster, "connectionInfo">,
): ConnectionInfo {
  const info = cluster.connectionInfo;
  if (!info) {
    throw new Error(
      "this client does not accept TCP engines: start it with listen: true " +
        "(or processes > 0)",
    );
  }
  return info;
}

/**
 * Writes the cluster's `connectionInfoOf`, with `options` over it, as JSON
 * to `path`, mode 0600 and replaced whole (transport/private_file.ts): the
 * key never lies in a file others could read. A misspelt option is said
 * before a missing listener.
 *
 * @example
 * ```ts
 * import { writeConnectionFile } from "./connection_file.ts";
 * const dir = await Deno.makeTempDir();
 * const cluster = {
 *   connectionInfo: { hostname: "0.0.0.0", port: 5555, key: "k" },
 * };
 * await writeConnectionFile(cluster, `${dir}/conn.json`, {
 *   hostname: "login1",
 * });
 * console.log(JSON.parse(await Deno.readTextFile(`${dir}/conn.json`)).hostname); // login1
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeConnectionFile(
  cluster: Pick<Cluster, "connectionInfo">,
  path: string,
  options: { hostname?: string },
): Promise<void> {
  checkOptions("writeConnectionFile options", options, CONNECTION_FILE_OPTIONS);
  const info = { ...connectionInfoOf(cluster), ...options };
  await writePrivateFile(path, JSON.stringify(info, null, 2) + "\n");
}
