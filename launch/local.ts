/**
 * `local`: engines as `deno` processes on this host, what
 * `ClientOptions.processes` starts, as a launcher that `client.scale` can
 * grow and shrink.
 *
 * @module
 */

import type { EnginePermissions, Launcher } from "../cluster/cluster.ts";
import { localEngineProcesses } from "../transport/engine_host.ts";
import { checkLauncherOptions } from "./launcher_options.ts";
import { defaultStartsAtOnce } from "../transport/starts_at_once.ts";
import { requireCommands } from "./launch_permissions.ts";

/**
 * How many local engine processes to start, and with which `deno`.
 *
 * @example
 * ```ts
 * import type { LocalOptions } from "@troupe/parallel";
 * const options: LocalOptions = { engines: 4 };
 * ```
 */
export interface LocalOptions {
  /** Engines to start with. */
  engines: number;
  /** The `deno` to run; defaults to the one running the client. */
  deno?: string;
  /**
   * At most this many engines starting at once (the rest wait their turn,
   * their start deadline not running): each spends ~0.15 s of CPU booting,
   * and hundreds booting together starve the client of the cores it needs
   * to register them. Defaults to twice the cores, at least 8.
   */
  startsAtOnce?: number;
  /**
   * Run its engines sandboxed, with exactly these Deno permissions instead
   * of `-A`; wins over `ClientOptions.permissions`.
   */
  permissions?: EnginePermissions;
}

/**
 * Engines as `deno` processes on this host; their secrets go through
 * their standard input.
 *
 * @example
 * ```ts
 * import { Client, local } from "@troupe/parallel";
 * await using client = await Client.start({ workers: 0, launch: local({ engines: 2 }) });
 * console.log(client.engines().map((e) => e.launcher)); // ["local", "local"]
 * ```
 */
export function local(options: LocalOptions): Launcher {
  checkLauncherOptions("local", options, {
    engines: true,
    deno: true,
    startsAtOnce: true,
    permissions: true,
  });
  const deno = options.deno ?? Deno.execPath();
  const startsAtOnce = options.startsAtOnce ?? defaultStartsAtOnce();
  if (!Number.isInteger(startsAtOnce) || startsAtOnce < 1) {
    throw new RangeError(
      `local() needs startsAtOnce, a whole number >= 1, got ${
        Deno.inspect(startsAtOnce)
      }`,
    );
  }
  return {
    name: "local",
    engines: options.engines,
    startsAtOnce,
    ...(options.permissions ? { permissions: options.permissions } : {}),
    check: () => requireCommands("local", [deno]),
    start: (request) =>
      Promise.resolve(
        localEngineProcesses(
          deno,
          request.args,
          request.engines.map((engine) => engine.secrets),
          request.env,
        ),
      ),
  };
}
