/**
 * troupe's folder on this host, where its controllers' state files (with
 * their keys), logs and secrets live: said here, at the bottom, because the
 * state files (remote/) and the sandbox that keeps tasks out of them
 * (cluster/) both need it.
 *
 * @module
 */

import { join, resolve } from "node:path";

/**
 * troupe's folder: `$TROUPE_HOME` (made absolute), or `~/.troupe`.
 *
 * @example
 * ```ts
 * import { troupeHome } from "./troupe_home.ts";
 * console.log(troupeHome().length > 0); // true
 * ```
 */
export function troupeHome(): string {
  const home = Deno.env.get("TROUPE_HOME");
  // Absolute: the paths in a state file must mean the same from any folder.
  if (home) return resolve(home);
  const user = Deno.env.get("HOME");
  if (!user) {
    throw new Error(
      "neither TROUPE_HOME nor HOME is set: set TROUPE_HOME to a folder of " +
        "yours where troupe may keep its clusters' state files",
    );
  }
  return join(user, ".troupe");
}
