/**
 * Writing a secret to a file that only its owner can read, with no moment at
 * which anyone else can: not through a descriptor opened on an older file at
 * that path, not through a symlink planted there.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { messageOf } from "../protocol/errors.ts";
import { requirePermission } from "../protocol/require_permission.ts";

/**
 * Writes `text` to `path` as a file of mode 0600 (less, if the umask says
 * so), replacing whatever is at `path`. The text goes into a new file beside
 * the target, created exclusively with that mode, and that file is then
 * renamed over `path`. So a reader holding a descriptor of an older file at
 * `path` keeps reading the old contents, and a symlink at `path` is replaced
 * itself: the file it points to is never opened. On failure nothing is left
 * behind and `path` is as it was; the error says what to do. Needs read
 * and write permission for the folder of `path` (not only for `path`).
 *
 * @example
 * ```ts
 * import { writePrivateFile } from "./private_file.ts";
 * const dir = await Deno.makeTempDir();
 * await writePrivateFile(`${dir}/conn.json`, '{"key":"..."}\n');
 * console.log((await Deno.stat(`${dir}/conn.json`)).mode! & 0o777); // 384
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writePrivateFile(
  path: string,
  text: string,
): Promise<void> {
  const folder = dirname(path);
  // The rename needs both, for the folder: asked up front, so that a script
  // without them is told the flags instead of being asked about a file
  // whose name means nothing to its user.
  for (const name of ["read", "write"] as const) {
    requirePermission(
      { name, path: folder },
      `--allow-read=${folder} --allow-write=${folder}`,
      `writing ${path} puts a new file in ${folder} and renames it over ${path}`,
    );
  }
  // Beside the target, so that the rename stays within one file system
  // (and so is atomic); hidden and unguessable, so that no one can have
  // planted anything under its name (createNew refuses if someone did).
  const temp = join(folder, `.${crypto.randomUUID()}.tmp`);
  let file: Deno.FsFile;
  try {
    file = await Deno.open(temp, { write: true, createNew: true, mode: 0o600 });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        `cannot write ${path}: the folder ${folder} does not exist; ` +
          `create it first or choose a path in a folder that exists`,
        { cause: error },
      );
    }
    throw new Error(`cannot write ${path}: ${messageOf(error)}`, {
      cause: error,
    });
  }
  try {
    try {
      const bytes = new TextEncoder().encode(text);
      for (let at = 0; at < bytes.byteLength;) {
        at += await file.write(bytes.subarray(at));
      }
    } finally {
      file.close();
    }
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw new Error(`cannot write ${path}: ${messageOf(error)}`, {
      cause: error,
    });
  }
}
