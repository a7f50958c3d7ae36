/**
 * `local`: engines as `deno` processes on this host, what
 * `ClientOptions.processes` starts, as a launcher that `client.scale` can
 * grow and shrink.
 *
 * @module
 */

import type { LaunchedEngine, Launcher } from "../cluster/cluster.ts";
import { HostProcess } from "../transport/engine_host.ts";
import { checkLauncherOptions } from "./launcher_options.ts";

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
  checkLauncherOptions("local", options, { engines: true, deno: true });
  const deno = options.deno ?? Deno.execPath();
  return {
    name: "local",
    engines: options.engines,
    start: (request) =>
      Promise.resolve(
        request.engines.map((engine): LaunchedEngine =>
          new HostProcess({
            command: deno,
            args: [...request.args, "--secrets", "-"],
            stdin: engine.secrets,
          })
        ),
      ),
  };
}
