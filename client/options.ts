/**
 * The option names of `Client`'s methods, checked by `checkOptions`.
 *
 * @module
 */

import type { RestartPolicy } from "../cluster/cluster.ts";
import { checkOptions, type OptionNames } from "../protocol/check_options.ts";
import type { Client, ClientOptions } from "./client.ts";
import type { ConnectOptions } from "./connected_client.ts";

export { checkOptions, type OptionNames };

// The names of the options objects of client.ts's methods. They live here,
// not in client.ts, so that the client stays about engines; the type of each
// list keeps it equal to its options type.

/**
 * The names of `ClientOptions`.
 *
 * @example
 * ```ts
 * import { CLIENT_OPTIONS, checkOptions } from "./options.ts";
 * checkOptions("Client.start options", { workers: 2 }, CLIENT_OPTIONS);
 * ```
 */
export const CLIENT_OPTIONS: OptionNames<ClientOptions> = {
  workers: true,
  processes: true,
  listen: true,
  launch: true,
  advertise: true,
  key: true,
  encrypt: true,
  maxFrameBytes: true,
  log: true,
  restart: true,
  heartbeatMs: true,
  maxHeapMb: true,
  onEngineEvent: true,
  startTimeoutMs: true,
  noEngineTimeoutMs: true,
  idleTimeoutMs: true,
  permissions: true,
  tracing: true,
};

/** What `ClientOptions.listen` takes when it is an object. */
type ListenOptions = Exclude<ClientOptions["listen"], boolean | undefined>;

/**
 * The names of `ClientOptions.listen` as an object.
 *
 * @example
 * ```ts
 * import { checkOptions, LISTEN_OPTIONS } from "./options.ts";
 * checkOptions("listen", { hostname: "0.0.0.0" }, LISTEN_OPTIONS);
 * ```
 */
export const LISTEN_OPTIONS: OptionNames<ListenOptions> = {
  hostname: true,
  port: true,
};

/**
 * The names of `RestartPolicy`.
 *
 * @example
 * ```ts
 * import { checkOptions, RESTART_POLICY_OPTIONS } from "./options.ts";
 * checkOptions("restart", { maxRestarts: 1, withinMs: 1000 }, RESTART_POLICY_OPTIONS);
 * ```
 */
export const RESTART_POLICY_OPTIONS: OptionNames<RestartPolicy> = {
  maxRestarts: true,
  withinMs: true,
  backoffMs: true,
  maxBackoffMs: true,
};

type WaitOptions = NonNullable<Parameters<Client["waitForEngines"]>[1]>;

/**
 * The names of `client.waitForEngines`'s options.
 *
 * @example
 * ```ts
 * import { checkOptions, WAIT_OPTIONS } from "./options.ts";
 * checkOptions("waitForEngines options", { timeoutMs: 1000 }, WAIT_OPTIONS);
 * ```
 */
export const WAIT_OPTIONS: OptionNames<WaitOptions> = {
  timeoutMs: true,
};

type ConnectionFileOptions = NonNullable<
  Parameters<Client["writeConnectionFile"]>[1]
>;

/**
 * The names of `client.writeConnectionFile`'s options.
 *
 * @example
 * ```ts
 * import { checkOptions, CONNECTION_FILE_OPTIONS } from "./options.ts";
 * checkOptions("writeConnectionFile options", { hostname: "10.0.0.5" }, CONNECTION_FILE_OPTIONS);
 * ```
 */
export const CONNECTION_FILE_OPTIONS: OptionNames<ConnectionFileOptions> = {
  hostname: true,
};

/**
 * The names of `Client.connect`'s options.
 *
 * @example
 * ```ts
 * import { checkOptions, CONNECT_OPTIONS } from "./options.ts";
 * checkOptions("Client.connect options", { timeoutMs: 5000 }, CONNECT_OPTIONS);
 * ```
 */
export const CONNECT_OPTIONS: OptionNames<ConnectOptions> = {
  timeoutMs: true,
  log: true,
  tracing: true,
};
