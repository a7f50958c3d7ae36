/**
 * A folder only its user can enter: where troupe keeps secrets on disk
 * (engines' secrets files, the state files of controllers).
 *
 * @module
 */

/**
 * Makes `dir` (and its parents) if need be, mode 0700, and makes sure it is
 * the user's and closed to everyone else: a folder of another user is
 * refused (whoever owns it could read or swap what goes in), one that
 * others could enter is closed to them first.
 *
 * @param dir the folder
 * @param remedy what the user should do instead if `dir` is another user's,
 *   e.g. "give the launcher another secretsDir"
 *
 * @example
 * ```ts
 * import { privateFolder } from "./private_folder.ts";
 * const dir = `${await Deno.makeTempDir()}/keys`;
 * await privateFolder(dir, "choose another folder");
 * console.log((await Deno.stat(dir)).mode! & 0o777); // 448 (0700)
 * await Deno.remove(dir);
 * ```
 */
export async function privateFolder(
  dir: string,
  remedy: string,
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await Deno.stat(dir);
  const uid = Deno.uid();
  if (info.uid !== null && uid !== null && info.uid !== uid) {
    throw new Error(
      `${dir} belongs to another user (uid ${info.uid}): secrets must go ` +
        `in a folder of yours; ${remedy}`,
    );
  }
  if (((info.mode ?? 0) & 0o077) !== 0) await Deno.chmod(dir, 0o700);
}
