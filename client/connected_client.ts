/**
 * What `Client.connect` does before there is a client: finds the
 * controller (a cluster id, a state file, or an address), attaches to it,
 * and hands back the `RemoteCluster` the client will run on.
 *
 * @module
 */

import { clusterStatePath, readClusterState } from "../remote/cluster_state.ts";
import {
  type ControllerAddress,
  type ControllerNames,
  dialController,
} from "../remote/connect.ts";
import { RemoteCluster } from "../remote/remote_cluster.ts";
import { checkOptions, CONNECT_OPTIONS } from "./options.ts";
import type { TracingOptions } from "./tracing_options.ts";
import {
  requireConnectPermission,
  requireStateFilePermissions,
} from "./permissions.ts";

/**
 * Where `Client.connect` finds the controller: a cluster id (`"sim"`,
 * whose state file `troupe start` wrote under `$TROUPE_HOME/clusters`), the
 * path of a state file, or the address and client key themselves
 * (`Controller.clientInfo`).
 *
 * @example
 * ```ts
 * import type { ConnectTarget } from "@troupe/parallel";
 * const byId: ConnectTarget = "sim";
 * const byAddress: ConnectTarget = { hostname: "127.0.0.1", port: 4100, key: "…" };
 * ```
 */
export type ConnectTarget = string | ControllerAddress;

/**
 * How `Client.connect` attaches.
 *
 * @example
 * ```ts
 * import type { ConnectOptions } from "@troupe/parallel";
 * const patient: ConnectOptions = { timeoutMs: 30_000, log: console.error };
 * ```
 */
export interface ConnectOptions {
  /**
   * How long attaching may take (connect, handshake, the controller's
   * answer). Default 30 000 ms.
   */
  timeoutMs?: number;
  /** Where the client's warnings go; `console.warn` by default. */
  log?: (line: string) => void;
  /**
   * Tasks as OpenTelemetry spans, sent to a collector (`true`: the one the
   * OpenTelemetry variables name); off by default.
   */
  tracing?: TracingOptions | true;
}

/** `ConnectOptions.timeoutMs` when not given. */
export const CONNECT_TIMEOUT_MS = 30_000;

/**
 * Finds and attaches to the controller `target` names; rejects with a
 * clear error when `target` or `options` are wrong, when no controller
 * answers there, or when the handshake fails (a wrong key).
 *
 * @example
 * ```ts
 * import { attachCluster } from "./connected_client.ts";
 * import { startController } from "../controller/controller.ts";
 * const controller = await startController({ id: "sim", engines: { workers: 0 } });
 * const cluster = await attachCluster(controller.clientInfo, {});
 * console.log(cluster.clusterId); // sim
 * await cluster.close();
 * await controller.stop();
 * ```
 */
export async function attachCluster(
  target: ConnectTarget,
  options: ConnectOptions,
): Promise<RemoteCluster> {
  checkOptions("Client.connect options", options, CONNECT_OPTIONS);
  const timeoutMs = options.timeoutMs ?? CONNECT_TIMEOUT_MS;
  if (!(timeoutMs > 0)) {
    throw new RangeError(
      `Client.connect's timeoutMs must be a positive number of ms, not ${
        JSON.stringify(timeoutMs)
      }`,
    );
  }
  const { address, names } = await resolveTarget(target);
  requireConnectPermission(address.hostname, address.port);
  const { conn, attached } = await dialController(address, names, timeoutMs);
  return new RemoteCluster(conn, attached, { log: options.log });
}

async function resolveTarget(
  target: ConnectTarget,
): Promise<{ address: ControllerAddress; names: ControllerNames }> {
  if (typeof target === "string") {
    // Checked before it is read: a missing flag is an error naming it,
    // never a prompt about a file of troupe's.
    requireStateFilePermissions(target);
    const state = await readClusterState(target);
    const byPath = target.includes("/") || target.endsWith(".json");
    return {
      address: { hostname: state.hostname, port: state.port, key: state.key },
      names: {
        id: state.id,
        stateFile: byPath ? target : clusterStatePath(state.id),
      },
    };
  }
  const { hostname, port, key } = (target ?? {}) as Partial<ControllerAddress>;
  if (
    typeof hostname !== "string" || !Number.isInteger(port) ||
    typeof key !== "string" || key === ""
  ) {
    throw new TypeError(
      "Client.connect takes a cluster id (as `troupe list` shows), the " +
        "path of its state file, or { hostname, port, key } (the " +
        "controller's clientInfo, with the client key)",
    );
  }
  checkOptions("Client.connect's target", target, {
    hostname: true,
    port: true,
    key: true,
  });
  return { address: { hostname, port: port!, key }, names: {} };
}
