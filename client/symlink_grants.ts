/**
 * A sandbox's granted paths that lead elsewhere. Deno checks a path as the
 * task writes it, not where it resolves: a grant of `/data/link` (a link
 * to `/srv/x`) lets a task read `/data/link/f` but not `/srv/x/f`, which
 * is not what its user meant. Refused at start, for the engines of this
 * host (whose files the client can see), rather than warned in a log few
 * read: a sandbox should mean what it says.
 *
 * @module
 */

import { normalize } from "node:path";
import type { EnginePermissions } from "../protocol/engine_permissions.ts";

/**
 * Throws a `TypeError` (naming `where`) for a `read`, `write` or `ffi`
 * grant of `permissions` whose real path (`Deno.realPathSync`) differs
 * from the path written: it is, or lies under, a symbolic link. A path
 * that does not exist (yet) is fine.
 *
 * @example
 * ```ts
 * import { refuseSymlinkGrants } from "./symlink_grants.ts";
 * const dir = Deno.realPathSync(Deno.makeTempDirSync());
 * Deno.symlinkSync(dir, `${dir}.link`);
 * refuseSymlinkGrants("permissions", { read: [dir] }); // fine
 * try {
 *   refuseSymlinkGrants("permissions", { read: [`${dir}.link`] });
 * } catch (error) {
 *   console.log((error as TypeError).message.includes("symbolic link")); // true
 * }
 * Deno.removeSync(`${dir}.link`);
 * Deno.removeSync(dir);
 * ```
 */
export function refuseSymlinkGrants(
  where: string,
  permissions: EnginePermissions,
): void {
  for (const name of ["read", "write", "ffi"] as const) {
    const grant = permissions[name];
    if (!Array.isArray(grant)) continue;
    grant.forEach((path, i) => {
      let real: string;
      try {
        real = Deno.realPathSync(path);
      } catch {
        return; // Not there (yet): nothing it could lead to.
      }
      const written = normalize(path).replace(/(.)\/+$/, "$1");
      if (real === written) return;
      throw new TypeError(
        `${where}.${name}[${i}] is ${JSON.stringify(path)}, which is (or ` +
          `lies under) a symbolic link to ${JSON.stringify(real)}: Deno ` +
          "checks the path as the task writes it, not where it leads, so " +
          `grant the real path instead: ${JSON.stringify(real)}`,
      );
    });
  }
}
