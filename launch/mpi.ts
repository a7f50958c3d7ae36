/**
 * `mpi`: engines as the ranks of one `mpiexec -n N`, each knowing its rank
 * (`OMPI_COMM_WORLD_RANK`, `PMI_RANK` or `PMIX_RANK`, whichever the MPI
 * sets). A lost engine comes back in an `mpiexec` of its own, as its rank
 * 0: MPI cannot add a rank to a running job.
 *
 * @module
 */

import type {
  EnginePermissions,
  EngineToLaunch,
  LaunchedEngine,
  Launcher,
  LaunchRequest,
} from "../cluster/cluster.ts";
import { HostProcess } from "../transport/engine_host.ts";
import { checkLauncherOptions } from "./launcher_options.ts";
import { requireCommands, requireSecretsFolder } from "./launch_permissions.ts";
import {
  secretsFolder,
  secretsNeeds,
  writeEngineSecrets,
} from "./engine_secrets.ts";

/** Where a rank finds its rank, whichever MPI started it. */
const RANK_VARIABLES = ["OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"];

/**
 * How to run the engines' `mpiexec`.
 *
 * @example
 * ```ts
 * import type { MpiOptions } from "@troupe/parallel";
 * const options: MpiOptions = { engines: 8, args: ["--hostfile", "hosts"] };
 * ```
 */
export interface MpiOptions {
  /** Ranks, one engine each. */
  engines: number;
  /** The `mpiexec` program; defaults to `mpiexec`. */
  mpiexec?: string;
  /** Arguments for `mpiexec` before the program (`--hostfile`, ...). */
  args?: string[];
  /** Environment for `mpiexec` (never secrets): e.g. OpenMPI's settings. */
  env?: Record<string, string>;
  /** The `deno` the ranks run; defaults to the client's (a shared path). */
  deno?: string;
  /**
   * A folder the ranks' hosts share, for their secrets (mode 0700, files
   * 0600, each deleted once read); `~/.troupe/secrets` by default.
   */
  secretsDir?: string;
  /**
   * Run its engines sandboxed, with exactly these Deno permissions instead
   * of `-A`; wins over `ClientOptions.permissions`.
   */
  permissions?: EnginePermissions;
}

/**
 * Engines as MPI ranks, started with one `mpiexec -n N`; `engines()` shows
 * each one's rank.
 *
 * @example
 * ```ts
 * import { mpi } from "@troupe/parallel";
 * const launcher = mpi({ engines: 4, args: ["--oversubscribe"] });
 * console.log(launcher.name, launcher.engines); // mpi 4
 * ```
 */
export function mpi(options: MpiOptions): Launcher {
  checkLauncherOptions("mpi", options, {
    engines: true,
    mpiexec: true,
    args: true,
    env: true,
    deno: true,
    secretsDir: true,
    permissions: true,
  });
  const leftovers = new Set<() => Promise<void>>();
  return {
    name: "mpi",
    engines: options.engines,
    ...(options.permissions ? { permissions: options.permissions } : {}),
    startNeeds: () => secretsNeeds(options.secretsDir, RANK_VARIABLES),
    check: () => {
      requireCommands("mpi", [options.mpiexec ?? "mpiexec"]);
      requireSecretsFolder("mpi", options.secretsDir);
    },
    start: (request) => run(request, options, leftovers),
    close: async () => {
      await Promise.all([...leftovers].map((remove) => remove()));
    },
  };
}

async function run(
  request: LaunchRequest,
  options: MpiOptions,
  leftovers: Set<() => Promise<void>>,
): Promise<LaunchedEngine[]> {
  const secrets = await writeEngineSecrets(
    request.engines,
    // Absolute: the engine reads it from its own folder, the sandbox grants it.
    secretsFolder(options.secretsDir),
  );
  leftovers.add(secrets.remove);
  let job: HostProcess;
  try {
    job = new HostProcess({
      command: options.mpiexec ?? "mpiexec",
      args: [
        "-n",
        String(request.engines.length),
        ...(options.args ?? []),
        options.deno ?? Deno.execPath(),
        ...request.args,
        "--secrets",
        secrets.path,
        "--slot-env",
        RANK_VARIABLES.join(","),
      ],
      // OpenMPI's mpiexec (4.x, ORTE) ends every rank of its job once one
      // dies: the engines are independent, and one engine's death must not
      // take the others. Other MPIs ignore the variable; `env` may set it.
      env: { OMPI_MCA_orte_abort_on_non_zero_status: "0", ...options.env },
      // mpiexec passes SIGTERM on to its ranks; a SIGKILL would orphan them.
      signal: "SIGTERM",
    });
  } catch (error) {
    await secrets.remove();
    throw error;
  }
  job.ended.then(async () => {
    await secrets.remove();
    leftovers.delete(secrets.remove);
  });
  // The ranks exit by themselves once their connections drop; mpiexec is
  // stopped once every engine of it has been asked to stop.
  let running = request.engines.length;
  return request.engines.map((_: EngineToLaunch, rank): LaunchedEngine => {
    let stopped = false;
    return {
      ended: job.ended.then((how) => `its mpiexec ended: ${how}`),
      info: { rank },
      unref: () => job.unref(),
      stop: async () => {
        if (!stopped) {
          stopped = true;
          running--;
        }
        if (running === 0) await job.stop();
      },
    };
  });
}
