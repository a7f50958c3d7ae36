/**
 * One start per cluster id: `<TROUPE_HOME>/clusters/<id>.lock`, made with
 * `createNew` and holding its taker's pid. `troupe start` holds it until
 * its controller is ready (or its failed start is cleaned up), a
 * foreground `troupe controller` for its life. Two starts of one id at
 * once would run two controllers on one database (the state file naming
 * only the last), or the one that failed would clean up the files of the
 * one that runs. A lock whose pid is not alive (its taker was SIGKILLed)
 * is taken over, so a crash never blocks the next start.
 *
 * @module
 */

import { join } from "node:path";
import { clusterStateDir } from "../remote/cluster_state.ts";
import { isAlive } from "../remote/controller_liveness.ts";
import { UsageError } from "./args.ts";

/**
 * The environment variable that tells the controller `troupe start` runs
 * which pid holds its lock for it (the CLI's).
 */
export const START_LOCK_ENV = "TROUPE_START_LOCK_PID";

/**
 * The lock file of cluster `id`.
 *
 * @example
 * ```ts
 * import { startLockPath } from "./start_lock.ts";
 * console.log(startLockPath("sim").endsWith("/clusters/sim.lock")); // true
 * ```
 */
export function startLockPath(id: string): string {
  return join(clusterStateDir(), `${id}.lock`);
}

/**
 * Takes cluster `id`'s start lock (the clusters folder must exist); resolves
 * with the function that gives it back (it removes the lock if it is still
 * this process's, or `dead`'s: a controller that failed to start). A lock
 * held by `heldFor` (the CLI that started this controller) is handed over
 * to this process. A live holder is refused with a `UsageError` naming
 * it; a dead one's lock is taken over.
 *
 * @example
 * ```ts ignore
 * import { takeStartLock } from "./start_lock.ts";
 * const release = await takeStartLock("sim");
 * try {
 *   // start cluster sim
 * } finally {
 *   await release();
 * }
 * ```
 */
export async function takeStartLock(
  id: string,
  heldFor?: number,
): Promise<(dead?: number) => Promise<void>> {
  const path = startLockPath(id);
  const mine = `${Deno.pid}\n`;
  let released = false;
  const release = async (dead?: number) => {
    if (released) return;
    released = true;
    // Only ours: never a lock taken over after ours was thought dead.
    const holder = await holderOf(path);
    if (holder === Deno.pid || (dead !== undefined && holder === dead)) {
      await Deno.remove(path).catch(() => {});
    }
  };
  // Each turn either takes the lock, refuses, or removes a dead holder's.
  for (let turn = 0; turn < 5; turn++) {
    try {
      await Deno.writeTextFile(path, mine, { createNew: true, mode: 0o600 });
      return release;
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
    const holder = await holderOf(path);
    if (holder === undefined) continue; // Gone meanwhile, or being written.
    if (holder === heldFor) {
      // Renamed over it: the lock never is absent, or half written.
      const next = `${path}.${Deno.pid}.new`;
      await Deno.writeTextFile(next, mine, { mode: 0o600 });
      await Deno.rename(next, path);
      return release;
    }
    if (isAlive(holder)) {
      throw new UsageError(
        `cluster ${id} is being started or run by another troupe (pid ` +
          `${holder}, lock ${path}): wait for it, troupe list shows it once ` +
          `it runs; if that process is not troupe's, remove the lock file`,
      );
    }
    await takeOver(path, holder);
  }
  throw new UsageError(
    `cluster ${id}'s start lock ${path} kept changing hands: another ` +
      "troupe is starting it; try again",
  );
}

/**
 * The pid in the lock file, if it names one. A file just made may be empty
 * for a moment (made, then written): read twice before calling it junk,
 * which counts as a dead holder (pid 0).
 */
async function holderOf(path: string): Promise<number | undefined> {
  for (let read = 0; read < 2; read++) {
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch {
      return undefined;
    }
    const pid = Number(text.trim());
    if (text.endsWith("\n") && Number.isSafeInteger(pid) && pid > 0) {
      return pid;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return 0;
}

/**
 * Removes a dead holder's lock. It is moved aside first, since two starts
 * may both find it dead: the one that moved a lock someone else had just
 * taken puts it back (a link: never over a newer one).
 */
async function takeOver(path: string, dead: number): Promise<void> {
  const aside = `${path}.${Deno.pid}.stale`;
  try {
    await Deno.rename(path, aside);
  } catch {
    return; // Taken over by another start meanwhile.
  }
  const moved = await holderOf(aside);
  if (moved !== dead && moved !== 0) {
    await Deno.link(aside, path).catch(() => {});
  }
  await Deno.remove(aside).catch(() => {});
}
