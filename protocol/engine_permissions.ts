/**
 * `EnginePermissions`: the Deno permissions a sandboxed engine process runs
 * with, and the one check of what a user wrote. Here, in the vocabulary
 * every layer shares, because the client, the launchers, the CLI and the
 * core's admission all take it.
 *
 * @module
 */

import { checkOptions, type OptionNames } from "./check_options.ts";

/**
 * One permission of a sandboxed engine: `true` grants it all, a list grants
 * those entries only (paths, hosts, variable names, commands, sys kinds),
 * `false`, an empty list or leaving it out denies it.
 *
 * @example
 * ```ts
 * import type { PermissionGrant } from "@troupe/parallel";
 * const net: PermissionGrant = ["127.0.0.1:8080"];
 * ```
 */
export type PermissionGrant = boolean | string[];

/**
 * What a sandboxed engine may do: the Deno permission flags its process is
 * started with instead of `-A` (`read: ["/data"]` is `--allow-read=/data`).
 * What is left out is denied, remote imports too (Deno's default list of
 * registries would let a task send data out in a URL). Paths (`read`,
 * `write`, `ffi`) must be absolute: an engine may run in another folder
 * (ssh: the remote home). troupe adds what the engine itself needs (its
 * connection to the client, its own modules) and takes the connection's
 * grant back before the first task runs.
 *
 * @example
 * ```ts
 * import type { EnginePermissions } from "@troupe/parallel";
 * const sandbox: EnginePermissions = { read: ["/srv/data"], net: ["api.example.com:443"] };
 * ```
 */
export interface EnginePermissions {
  /** `--allow-read`: absolute paths (a folder grants what is in it). */
  read?: PermissionGrant;
  /** `--allow-write`: absolute paths. */
  write?: PermissionGrant;
  /** `--allow-net`: `host` or `host:port` (IPv6 as `[::1]:port`). */
  net?: PermissionGrant;
  /** `--allow-env`: variable names (`AWS_*` for a prefix). */
  env?: PermissionGrant;
  /** `--allow-run`: commands (names on the `PATH`, or paths). */
  run?: PermissionGrant;
  /** `--allow-ffi`: absolute paths of libraries. */
  ffi?: PermissionGrant;
  /** `--allow-sys`: kinds (`hostname`, `osRelease`, `cpus`, ...). */
  sys?: PermissionGrant;
  /**
   * `--allow-import`: hosts (`host` or `host:port`) a task may import
   * remote modules from; denied by default, unlike Deno's own default.
   */
  import?: PermissionGrant;
}

/** The names of `EnginePermissions`, in Deno's flag order. */
export const PERMISSION_NAMES: readonly (keyof EnginePermissions)[] = [
  "read",
  "write",
  "net",
  "env",
  "run",
  "ffi",
  "sys",
  "import",
];

const NAMES: OptionNames<EnginePermissions> = {
  read: true,
  write: true,
  net: true,
  env: true,
  run: true,
  ffi: true,
  sys: true,
  import: true,
};

/** The kinds `--allow-sys` takes (Deno 2.9.6 refuses any other at start). */
const SYS_KINDS = [
  "hostname",
  "osRelease",
  "osUptime",
  "loadavg",
  "networkInterfaces",
  "systemMemoryInfo",
  "uid",
  "gid",
  "cpus",
  "homedir",
  "getegid",
  "statfs",
  "getPriority",
  "setPriority",
  "userInfo",
];

/** `host` or `host:port`, a bracketed IPv6 address with or without a port. */
const NET_ENTRY = /^(?:\[[0-9A-Fa-f:.]+\]|[^\s\[\]:/@]+)(?::(\d{1,5}))?$/;

/**
 * `value` checked as `EnginePermissions`: throws a `TypeError` that names
 * `where` and what is wrong (an unknown name, a value that is not `true`,
 * `false` or a list of strings, an empty entry, a comma in one, which would
 * split into two entries of Deno's flag, a relative path, a sys kind or
 * host Deno refuses). Returns it unchanged.
 *
 * @example
 * ```ts
 * import { checkEnginePermissions } from "./engine_permissions.ts";
 * checkEnginePermissions("permissions", { read: ["/data"], env: false });
 * try {
 *   checkEnginePermissions("permissions", { read: ["/a,/b"] });
 * } catch (error) {
 *   console.log((error as TypeError).message.startsWith("permissions.read[0]")); // true
 * }
 * ```
 */
export function checkEnginePermissions(
  where: string,
  value: unknown,
): EnginePermissions {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(
      `${where} must be an object of Deno permissions (${
        PERMISSION_NAMES.join(", ")
      }), each true, false or a list, got ${Deno.inspect(value)}`,
    );
  }
  checkOptions(where, value, NAMES);
  for (const [name, grant] of Object.entries(value)) {
    if (grant === undefined || typeof grant === "boolean") continue;
    if (!Array.isArray(grant)) {
      throw new TypeError(
        `${where}.${name} must be true (all), false (none) or a list of ` +
          `strings, got ${Deno.inspect(grant)}`,
      );
    }
    grant.forEach((entry, i) =>
      checkEntry(`${where}.${name}[${i}]`, name, entry)
    );
  }
  return value as EnginePermissions;
}

function checkEntry(where: string, name: string, entry: unknown): void {
  const refuse = (why: string) => {
    throw new TypeError(`${where} ${why}, got ${Deno.inspect(entry)}`);
  };
  if (typeof entry !== "string") return refuse("must be a string");
  if (entry.trim() === "") return refuse("must not be empty");
  if (entry.includes(",")) {
    refuse(
      "must not contain a comma: Deno's flag would read it as two entries " +
        "(give each its own entry)",
    );
  }
  if (/[\n\r\0]/.test(entry)) refuse("must be one line");
  if (["read", "write", "ffi"].includes(name) && !entry.startsWith("/")) {
    refuse(
      "must be an absolute path: an engine may run in another folder than " +
        'this script (write new URL("./data/", import.meta.url).pathname)',
    );
  }
  if (name === "sys" && !SYS_KINDS.includes(entry)) {
    refuse(`is not a sys kind Deno knows (${SYS_KINDS.join(", ")})`);
  }
  if ((name === "net" || name === "import") && entry.trim() === "*") {
    refuse(`grants every host: write ${name}: true for all`);
  }
  if (name === "net" || name === "import") {
    const match = NET_ENTRY.exec(entry);
    const port = match?.[1] === undefined ? 1 : Number(match[1]);
    if (!match || port < 1 || port > 65535) {
      refuse("must be host or host:port (an IPv6 address as [::1]:port)");
    }
  }
  if (name === "env" && /[=\s]/.test(entry)) {
    refuse("must be a variable name (no = or spaces)");
  }
}
