/**
 * Secrets for engines a launcher cannot write to the standard input of (a
 * Slurm job, MPI ranks): one file per engine, in a folder only their user
 * can enter, named so that nobody can guess or plant it, deleted by the
 * engine once read (and by the launcher if the engine never came).
 *
 * @module
 */

import { join, resolve } from "node:path";
import type { EngineStartNeeds, EngineToLaunch } from "../cluster/cluster.ts";
import { privateFolder } from "../transport/private_folder.ts";

/**
 * Where engines of a launch find their secrets.
 *
 * @example
 * ```ts
 * import type { EngineSecrets } from "@troupe/parallel";
 * const args = (s: EngineSecrets) => ["--secrets", s.path, "--slot-env", "PMI_RANK"];
 * ```
 */
export interface EngineSecrets {
  /** The engines' `--secrets` argument: a path with `{slot}` in it. */
  path: string;
  /** Deletes the files that are still there (their engines never read them). */
  remove(): Promise<void>;
}

/**
 * The folder for secrets files when a launcher is given none:
 * `~/.troupe/secrets`, on the home file system that a cluster's nodes
 * usually share.
 *
 * @example
 * ```ts
 * import { defaultSecretsDir } from "./engine_secrets.ts";
 * console.log(defaultSecretsDir().endsWith("/.troupe/secrets")); // true
 * ```
 */
export function defaultSecretsDir(): string {
  const home = Deno.env.get("HOME");
  if (!home) {
    throw new Error(
      "HOME is not set: give the launcher a secretsDir that its engines' " +
        "nodes can read (a folder of yours on a shared file system)",
    );
  }
  return join(home, ".troupe", "secrets");
}

/**
 * Writes `engines[i].secrets` to `dir/<random>.<i>.json`, mode 0600, in
 * `dir` made (or kept) mode 0700. The engine in slot `i` (its array index
 * or rank) reads its own with `--secrets <path> --slot-env VAR`.
 *
 * @example
 * ```ts
 * import { writeEngineSecrets } from "@troupe/parallel";
 * const dir = await Deno.makeTempDir();
 * const secrets = await writeEngineSecrets([{ engineId: 0, secrets: "{}" }], dir);
 * console.log(secrets.path.endsWith(".{slot}.json")); // true
 * await secrets.remove();
 * await Deno.remove(dir);
 * ```
 */
export async function writeEngineSecrets(
  engines: readonly EngineToLaunch[],
  dir: string = defaultSecretsDir(),
): Promise<EngineSecrets> {
  await privateFolder(dir, "give the launcher another secretsDir");
  const base = join(dir, crypto.randomUUID());
  const paths = engines.map((_, slot) => `${base}.${slot}.json`);
  try {
    for (const [slot, engine] of engines.entries()) {
      // createNew: a file planted under this name is refused, not used.
      const file = await Deno.open(paths[slot], {
        write: true,
        createNew: true,
        mode: 0o600,
      });
      try {
        await file.write(new TextEncoder().encode(engine.secrets));
      } finally {
        file.close();
      }
    }
  } catch (error) {
    await removeAll(paths);
    throw error;
  }
  return { path: `${base}.{slot}.json`, remove: () => removeAll(paths) };
}

/**
 * What a sandboxed engine that reads its secrets from a file in `dir`
 * (the launcher's `secretsDir`, `~/.troupe/secrets` by default) and its
 * slot from `slotEnv` needs before it joins: `read` and `write` of the
 * folder (it deletes its file once read), those variables. Granted until
 * it has joined, then revoked.
 *
 * @example
 * ```ts
 * import { secretsNeeds } from "./engine_secrets.ts";
 * console.log(secretsNeeds("/shared/secrets", ["SLURM_ARRAY_TASK_ID"]));
 * // { read: ["/shared/secrets"], write: ["/shared/secrets"], env: ["SLURM_ARRAY_TASK_ID"] }
 * ```
 */
export function secretsNeeds(
  dir: string | undefined,
  slotEnv: readonly string[],
): EngineStartNeeds {
  const folder = secretsFolder(dir);
  return { read: [folder], write: [folder], env: [...slotEnv] };
}

/**
 * The folder a launcher writes its engines' secrets to: `dir`, else the
 * default, made absolute whatever folder it runs in. The sandbox grants
 * (`secretsNeeds`) the folder the launchers write to, so both ask here.
 *
 * @example
 * ```ts
 * import { secretsFolder } from "./engine_secrets.ts";
 * console.log(secretsFolder("/shared/secrets")); // "/shared/secrets"
 * ```
 */
export function secretsFolder(dir: string | undefined): string {
  return resolve(dir ?? defaultSecretsDir());
}

async function removeAll(paths: readonly string[]): Promise<void> {
  await Promise.all(paths.map((path) =>
    Deno.remove(path).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    })
  ));
}
