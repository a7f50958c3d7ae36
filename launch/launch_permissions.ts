/**
 * What each built-in launcher needs of Deno's permissions, checked by its
 * `check()` before `Client.start` starts anything.
 *
 * @module
 */

import { requirePermission } from "../protocol/require_permission.ts";

/**
 * Throws a `Deno.errors.NotCapable` naming the flag unless `launcher` may
 * run each of `commands`.
 *
 * @example
 * ```ts
 * import { requireCommands } from "./launch_permissions.ts";
 * requireCommands("local", [Deno.execPath()]);
 * ```
 */
export function requireCommands(
  launcher: string,
  commands: readonly string[],
): void {
  for (const command of commands) {
    requirePermission(
      { name: "run", command },
      `--allow-run=${commands.join(",")}`,
      `the ${launcher} launcher runs ${command}`,
    );
  }
}

/**
 * What writing engines' secrets files in `dir` needs (reading `HOME` when
 * no folder is given, the user id to check the folder's owner, and the
 * folder itself).
 *
 * @example
 * ```ts
 * import { requireSecretsFolder } from "./launch_permissions.ts";
 * requireSecretsFolder("slurm", "/tmp");
 * ```
 */
export function requireSecretsFolder(
  launcher: string,
  dir: string | undefined,
): void {
  const why = `the ${launcher} launcher writes its engines' secrets files`;
  if (dir === undefined) {
    requirePermission(
      { name: "env", variable: "HOME" },
      "--allow-env=HOME",
      why,
    );
    dir = `${Deno.env.get("HOME")}/.troupe`;
  }
  requirePermission({ name: "sys", kind: "uid" }, "--allow-sys=uid", why);
  for (const name of ["read", "write"] as const) {
    requirePermission(
      { name, path: dir },
      `--allow-read=${dir} --allow-write=${dir}`,
      why,
    );
  }
}
