/**
 * Checking a Deno permission before it is used: a script that lacks one
 * gets an error naming the flag to add, never a prompt (or, off a terminal,
 * a failure) about a file inside troupe. The client's checks
 * (client/permissions.ts) and the launchers' use it.
 *
 * @module
 */

/**
 * Throws a `Deno.errors.NotCapable` naming `flag` unless `descriptor` is
 * granted already. Never prompts: a prompt would ask about troupe's own
 * files and sockets, which mean nothing to the user of a script.
 *
 * @param descriptor the permission, as `Deno.permissions.query` takes it
 * @param flag the narrowest flag that grants it, e.g. `--allow-net=127.0.0.1`
 * @param why what needs it, e.g. "process engines run deno"
 *
 * @example
 * ```ts
 * import { requirePermission } from "./require_permission.ts";
 * requirePermission(
 *   { name: "net", host: "127.0.0.1" },
 *   "--allow-net=127.0.0.1",
 *   "the dashboard listens on 127.0.0.1",
 * );
 * ```
 */
export function requirePermission(
  descriptor: Deno.PermissionDescriptor,
  flag: string,
  why: string,
): void {
  if (Deno.permissions.querySync(descriptor).state === "granted") return;
  throw new Deno.errors.NotCapable(
    `${why}: run the script with ${flag} (or -A). See "Permissions" in ` +
      "troupe's README for what each part needs.",
  );
}
