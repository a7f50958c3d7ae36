/**
 * The `deno` flags of a sandboxed engine process: the user's
 * `EnginePermissions` as `--allow-*` flags, plus what troupe's engine
 * program needs, each either lasting (the task thread's modules) or
 * granted for the start only and taken back (`--sandbox`, the engine
 * revokes it once it has joined, before its task thread starts).
 *
 * Deno 2.9.6 (measured): revoking a path or host also removes every grant
 * that covers it (revoking `127.0.0.1:4100` removes `--allow-net=127.0.0.1`,
 * revoking `/a/b` removes `/a`), never one it covers. So troupe adds and
 * takes back only what the user's own grant does not cover already.
 *
 * @module
 */

import { isAbsolute, normalize } from "node:path";
import type {
  EnginePermissions,
  PermissionGrant,
} from "../protocol/engine_permissions.ts";
import { PERMISSION_NAMES } from "../protocol/engine_permissions.ts";

/**
 * What an engine program needs before it joins, under one launcher: the
 * secrets file it reads and deletes (`read` and `write` of its folder), the
 * variables its slot comes from (`env`). Granted for the start only.
 *
 * @example
 * ```ts
 * import type { EngineStartNeeds } from "./sandbox_flags.ts";
 * const slurm: EngineStartNeeds = {
 *   read: ["/home/me/.troupe/secrets"],
 *   write: ["/home/me/.troupe/secrets"],
 *   env: ["SLURM_ARRAY_TASK_ID"],
 * };
 * ```
 */
export interface EngineStartNeeds {
  /** Absolute paths read before joining. */
  read?: string[];
  /** Absolute paths written (or deleted) before joining. */
  write?: string[];
  /** Variables read before joining. */
  env?: string[];
}

/**
 * What troupe's engine program needs, besides a launcher's start needs.
 *
 * @example
 * ```ts
 * import type { EngineProgramNeeds } from "./sandbox_flags.ts";
 * const needs: EngineProgramNeeds = {
 *   connect: { hostname: "127.0.0.1", port: 4100 },
 *   modules: ["/opt/troupe/engine/"],
 * };
 * ```
 */
export interface EngineProgramNeeds {
  /** The address it dials: granted until it has joined. */
  connect: { hostname: string; port: number };
  /**
   * Folders the task thread loads its modules from (a checkout's; none
   * from a registry): lasting, since the thread is started again after an
   * interrupt.
   */
  modules: string[];
  /** The launcher's, granted until it has joined. */
  start?: EngineStartNeeds;
}

/**
 * The flags of a sandboxed engine process: `deno` holds those that go
 * between `run` and the module (`--no-prompt` and the `--allow-*` flags),
 * `engine` those that go after it (`--sandbox` and what to revoke).
 *
 * @example
 * ```ts
 * import type { SandboxFlags } from "./sandbox_flags.ts";
 * const flags: SandboxFlags = { deno: ["--no-prompt"], engine: ["--sandbox", "[]"] };
 * ```
 */
export interface SandboxFlags {
  /** Deno's own flags, in place of `-A`. */
  deno: string[];
  /** The engine program's `--sandbox REVOKE` (a JSON list of descriptors). */
  engine: string[];
}

/**
 * The flags for an engine process sandboxed by `permissions` (checked by
 * `checkEnginePermissions`) that needs `needs`.
 *
 * @example
 * ```ts
 * import { sandboxFlags } from "./sandbox_flags.ts";
 * const flags = sandboxFlags({ read: ["/data"] }, {
 *   connect: { hostname: "127.0.0.1", port: 4100 },
 *   modules: [],
 * });
 * console.log(flags.deno);
 * // ["--no-prompt", "--allow-read=/data", "--allow-net=127.0.0.1:4100", "--allow-sys=hostname"]
 * ```
 */
export function sandboxFlags(
  permissions: EnginePermissions,
  needs: EngineProgramNeeds,
): SandboxFlags {
  const lists = new Map<keyof EnginePermissions, PermissionGrant>();
  for (const name of PERMISSION_NAMES) {
    const grant = permissions[name];
    lists.set(name, Array.isArray(grant) ? [...grant] : grant === true);
  }
  const revoke: Deno.PermissionDescriptor[] = [];
  /** Grants `entry` of `name`; for the start only unless `lasting`. */
  const need = (
    name: keyof EnginePermissions,
    entry: string,
    lasting: boolean,
  ) => {
    const grant = lists.get(name)!;
    if (
      grant === true || (Array.isArray(grant) && covers(name, grant, entry))
    ) {
      return;
    }
    lists.set(name, [...(Array.isArray(grant) ? grant : []), entry]);
    if (!lasting) revoke.push(descriptor(name, entry));
  };
  for (const folder of needs.modules) need("read", folder, true);
  const { hostname, port } = needs.connect;
  need(
    "net",
    `${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`,
    false,
  );
  // The hostname the engine tells its client, for engines().
  need("sys", "hostname", false);
  for (const path of needs.start?.read ?? []) need("read", path, false);
  for (const path of needs.start?.write ?? []) need("write", path, false);
  for (const variable of needs.start?.env ?? []) need("env", variable, false);
  const deno = ["--no-prompt"];
  for (const [name, grant] of lists) {
    if (grant === true) deno.push(`--allow-${name}`);
    else if (Array.isArray(grant) && grant.length > 0) {
      deno.push(`--allow-${name}=${grant.join(",")}`);
    }
  }
  return { deno, engine: ["--sandbox", JSON.stringify(revoke)] };
}

/** Whether one of `entries` of permission `name` grants `entry` already. */
function covers(
  name: keyof EnginePermissions,
  entries: readonly string[],
  entry: string,
): boolean {
  return entries.some((given) => {
    switch (name) {
      case "read":
      case "write":
      case "ffi":
        return isAbsolute(given) && within(normalize(entry), normalize(given));
      case "net": {
        const host = entry.slice(0, entry.lastIndexOf(":"));
        return [host, entry].includes(given.toLowerCase());
      }
      case "env":
        return given === entry ||
          (given.endsWith("*") && entry.startsWith(given.slice(0, -1)));
      default:
        return given === entry;
    }
  });
}

/** Whether `path` is `folder` or inside it. */
function within(path: string, folder: string): boolean {
  const trim = (p: string) => p.length > 1 ? p.replace(/\/+$/, "") : p;
  const [p, f] = [trim(path), trim(folder)];
  return p === f || p.startsWith(f === "/" ? "/" : `${f}/`);
}

function descriptor(
  name: keyof EnginePermissions,
  entry: string,
): Deno.PermissionDescriptor {
  switch (name) {
    case "read":
    case "write":
    case "ffi":
      return { name, path: entry };
    case "net":
      return { name, host: entry };
    case "env":
      return { name, variable: entry };
    case "run":
      return { name, command: entry };
    case "sys":
      return { name, kind: entry as Deno.SysPermissionDescriptor["kind"] };
  }
}
