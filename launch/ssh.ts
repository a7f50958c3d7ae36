/**
 * `ssh`: engines started over `ssh` on hosts one can log in to, each
 * reading its secrets from the session's standard input (never from its
 * command line, which the remote host's users can see).
 *
 * @module
 */

import type {
  EnginePermissions,
  LaunchedEngine,
  Launcher,
  LaunchRequest,
} from "../cluster/cluster.ts";
import { HostProcess } from "../transport/engine_host.ts";
import { checkLauncherOptions, shellQuote } from "./launcher_options.ts";
import { requireCommands } from "./launch_permissions.ts";

/**
 * Where to start engines over `ssh`.
 *
 * @example
 * ```ts
 * import type { SshOptions } from "@troupe/parallel";
 * const options: SshOptions = {
 *   hosts: { "me@node1": 4, "me@node2:2222": 4 },
 *   sshArgs: ["-i", "/home/me/.ssh/cluster_ed25519"],
 * };
 * ```
 */
export interface SshOptions {
  /** `"user@host:port"` (user and port optional) → engines on it. */
  hosts: Record<string, number>;
  /** The `deno` to run there; defaults to `deno` on the remote `PATH`. */
  deno?: string;
  /** Extra arguments for `ssh` (an identity file, options). */
  sshArgs?: string[];
  /** The `ssh` program; defaults to `ssh`. */
  ssh?: string;
  /**
   * Run its engines sandboxed, with exactly these Deno permissions instead
   * of `-A`; wins over `ClientOptions.permissions`.
   */
  permissions?: EnginePermissions;
}

/** One host of `SshOptions.hosts`, parsed. */
interface SshHost {
  name: string;
  destination: string;
  port?: string;
  engines: number;
}

/**
 * Engines over `ssh`: `hosts` says how many on each. `ssh` runs in batch
 * mode (a password prompt would wait forever: use keys or an agent). A
 * lost engine is started again on the host it had.
 *
 * @example
 * ```ts
 * import { ssh } from "@troupe/parallel";
 * const launcher = ssh({ hosts: { "me@node1": 2 } });
 * console.log(launcher.name, launcher.engines); // ssh 2
 * ```
 */
export function ssh(options: SshOptions): Launcher {
  checkLauncherOptions("ssh", options, {
    hosts: true,
    deno: true,
    sshArgs: true,
    ssh: true,
    permissions: true,
  });
  const hosts = parseHosts(options.hosts);
  const program = options.ssh ?? "ssh";
  const deno = options.deno ?? "deno";
  const sshArgs = options.sshArgs ?? [];
  /** The host each engine id has, so that a restart goes back to it. */
  const placed = new Map<number, SshHost>();
  const hostFor = (engineId: number): SshHost => {
    const had = placed.get(engineId);
    if (had) return had;
    // The host with the most room left, as its engines count says.
    const count = (host: SshHost) =>
      [...placed.values()].filter((h) => h === host).length;
    const host = hosts.reduce((best, h) =>
      h.engines - count(h) > best.engines - count(best) ? h : best
    );
    placed.set(engineId, host);
    return host;
  };
  return {
    name: "ssh",
    engines: hosts.reduce((n, h) => n + h.engines, 0),
    ...(options.permissions ? { permissions: options.permissions } : {}),
    check: () => requireCommands("ssh", [program]),
    start: (request: LaunchRequest) =>
      Promise.resolve(request.engines.map((engine): LaunchedEngine => {
        const host = hostFor(engine.engineId);
        const remote = [deno, ...request.args, "--secrets", "-"]
          .map(shellQuote).join(" ");
        const port = host.port ? ["-p", host.port] : [];
        const process = new HostProcess({
          command: program,
          args: [
            // The user's first: ssh keeps the first value it gets of each
            // option, so theirs (a ConnectTimeout) wins over these defaults.
            ...sshArgs,
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=10",
            ...port,
            host.destination,
            remote,
          ],
          stdin: engine.secrets,
          // ssh passes the end on to the remote engine's session.
          signal: "SIGTERM",
        });
        const login = ["ssh", ...port, host.destination].join(" ");
        return {
          // ssh exits 255 on its own errors (refused, no route, login
          // denied): a bare "code 255" would not say that the engine
          // never ran.
          ended: process.ended.then((why) =>
            why.endsWith("code 255")
              ? `ssh to ${host.name} failed (${why}; ssh says why on ` +
                `stderr): check that \`${login} true\` logs in without a ` +
                "prompt"
              : `its ssh session to ${host.name} ended: ${why}`
          ),
          stop: () => process.stop(),
          unref: () => process.unref(),
          info: { host: host.name },
        };
      })),
  };
}

function parseHosts(hosts: unknown): SshHost[] {
  if (typeof hosts !== "object" || hosts === null || Array.isArray(hosts)) {
    throw new TypeError(
      `ssh() needs hosts, an object of "user@host:port" → engines, got ${
        Deno.inspect(hosts)
      }`,
    );
  }
  const parsed = Object.entries(hosts).map(([name, engines]) => {
    if (!Number.isInteger(engines) || engines < 0) {
      throw new RangeError(
        `ssh() hosts["${name}"] must be a whole number of engines, got ${
          Deno.inspect(engines)
        }`,
      );
    }
    const match = /^(?:([^@\s]+)@)?(\[[^\]]+\]|[^:@\s]+)(?::(\d+))?$/.exec(
      name,
    );
    if (!match) {
      throw new TypeError(
        `ssh() cannot read the host "${name}": write it user@host:port ` +
          "(user and port may be left out; an IPv6 address in brackets)",
      );
    }
    const [, user, host, port] = match;
    const bare = host.replace(/^\[|\]$/g, "");
    return {
      name: bare,
      destination: user ? `${user}@${bare}` : bare,
      ...(port ? { port } : {}),
      engines,
    };
  });
  if (parsed.length === 0) {
    throw new RangeError("ssh() needs at least one host in hosts");
  }
  return parsed;
}
