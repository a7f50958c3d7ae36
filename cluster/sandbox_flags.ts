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
  /**
   * Hosts (`host:port`) its own modules are imported from (a registry's,
   * for an entry served from one): lasting, for the task thread's restarts.
   */
  imports?: string[];
  /** The launcher's, granted until it has joined. */
  start?: EngineStartNeeds;
  /**
   * troupe's own folders that a broad user grant must not reach: `read`
   * (the controllers' state files with their keys, the secrets folder),
   * `write` (troupe's code, its home, Deno's cache: a write there is code
   * run later without a sandbox). Each one the user's grant covers gets a
   * `--deny-read`/`--deny-write`, which Deno lets win over the grant.
   */
  protect?: { read?: string[]; write?: string[] };
}

/**
 * What `--allow-import` names when nothing may be imported: Deno 2.9.6
 * refuses an empty list, and without the flag it allows its default
 * registries. A host under the reserved `.invalid` top-level domain
 * (RFC 2606) never resolves, so this grants nothing.
 */
export const NO_IMPORTS = "nothing.invalid";

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
 * // ["--no-prompt", "--allow-read=/data", "--allow-net=127.0.0.1:4100", "--allow-sys=hostname", "--allow-import=nothing.invalid"]
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
  const users = new Map(lists);
  const revoke: Deno.PermissionDescriptor[] = [];
  /**
   * Grants `entry` of `name` (troupe's own need, from `from`); for the
   * start only unless `lasting`.
   */
  const need = (
    name: keyof EnginePermissions,
    entry: string,
    lasting: boolean,
    from: string,
  ) => {
    refuseComma(name, entry, from);
    const grant = lists.get(name)!;
    if (
      grant === true || (Array.isArray(grant) && covers(name, grant, entry))
    ) {
      return;
    }
    lists.set(name, [...(Array.isArray(grant) ? grant : []), entry]);
    if (!lasting) revoke.push(descriptor(name, entry));
  };
  for (const folder of needs.modules) {
    need("read", folder, true, "troupe's own modules (where it is installed)");
  }
  for (const host of needs.imports ?? []) {
    need("import", host, true, "the registry troupe's engine is served from");
  }
  const { hostname, port } = needs.connect;
  need(
    "net",
    `${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`,
    false,
    "the client's address",
  );
  // The hostname the engine tells its client, for engines().
  need("sys", "hostname", false, "troupe");
  const secrets = "the launcher's secretsDir (or $HOME/.troupe/secrets)";
  for (const path of needs.start?.read ?? []) {
    refuseSecretsInGrant(users.get("read")!, path);
    need("read", path, false, secrets);
  }
  for (const path of needs.start?.write ?? []) {
    need("write", path, false, secrets);
  }
  for (const variable of needs.start?.env ?? []) {
    need("env", variable, false, "the launcher's slot variables");
  }
  const deno = ["--no-prompt"];
  for (const [name, grant] of lists) {
    if (grant === true) deno.push(`--allow-${name}`);
    else if (Array.isArray(grant) && grant.length > 0) {
      deno.push(`--allow-${name}=${grant.join(",")}`);
    } else if (name === "import") deno.push(`--allow-import=${NO_IMPORTS}`);
  }
  for (const name of ["read", "write"] as const) {
    const grant = users.get(name)!;
    const denied = (needs.protect?.[name] ?? []).filter((path) =>
      grant === true || (Array.isArray(grant) && covers(name, grant, path))
    );
    for (const path of denied) refuseComma(name, path, "troupe's own folders");
    if (denied.length > 0) deno.push(`--deny-${name}=${denied.join(",")}`);
  }
  return { deno, engine: ["--sandbox", JSON.stringify(revoke)] };
}

/**
 * Refuses a path troupe would add to a flag that has a comma in it: Deno
 * 2.9.6 splits its lists at commas and has no escape, so the grant would
 * silently widen (`/a,b/x` is `/a` and `b/x`), and survive the revoke.
 */
function refuseComma(name: string, entry: string, from: string): void {
  if (!entry.includes(",")) return;
  throw new TypeError(
    `cannot sandbox the engines: ${from} is ${JSON.stringify(entry)}, and ` +
      `a comma in it would split Deno's --allow-${name} list into two ` +
      "entries (widening the grant). Move it to a path without a comma",
  );
}

/**
 * Refuses a read grant that covers the secrets folder the engines read
 * before they join: the others' keys wait there, and taking the folder
 * back after the join would take the user's whole grant with it.
 */
function refuseSecretsInGrant(grant: PermissionGrant, folder: string): void {
  if (
    grant !== true && !(Array.isArray(grant) && covers("read", grant, folder))
  ) {
    return;
  }
  throw new TypeError(
    `the engines' read permission covers the secrets folder ${folder}, ` +
      "where the keys of engines not yet started wait: give the launcher a " +
      "secretsDir outside what permissions.read grants (with read: true, " +
      "list the folders the tasks need instead)",
  );
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
      case "net":
      case "import": {
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
    case "import":
      return { name, host: entry };
    case "env":
      return { name, variable: entry };
    case "run":
      return { name, command: entry };
    case "sys":
      return { name, kind: entry as Deno.SysPermissionDescriptor["kind"] };
  }
}
