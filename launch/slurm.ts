/**
 * `slurm`: engines as a Slurm job array, one engine per array task, so
 * that each engine is its own job to Slurm: one can be cancelled, time out
 * or fail alone, and be replaced alone (a new one-task array under the
 * same engine id), which one job of `srun` tasks would not allow.
 *
 * @module
 */

import { dirname, join } from "node:path";
import type {
  EnginePermissions,
  EngineToLaunch,
  LaunchedEngine,
  Launcher,
  LaunchRequest,
} from "../cluster/cluster.ts";
import { checkLauncherOptions, shellQuote } from "./launcher_options.ts";
import {
  secretsFolder,
  secretsNeeds,
  writeEngineSecrets,
} from "./engine_secrets.ts";
import { runCommand } from "./run_command.ts";
import { requireCommands, requireSecretsFolder } from "./launch_permissions.ts";
import { SlurmJobs } from "./slurm_jobs.ts";

/**
 * Where and how Slurm runs the engines.
 *
 * @example
 * ```ts
 * import type { SlurmOptions } from "@troupe/parallel";
 * const options: SlurmOptions = {
 *   engines: 16,
 *   partition: "short",
 *   time: "02:00:00",
 *   sbatch: ["--mem-per-cpu=2G"],
 * };
 * ```
 */
export interface SlurmOptions {
  /** Engines to start with: the array's size. */
  engines: number;
  /** `sbatch --partition`. */
  partition?: string;
  /** `sbatch --account`. */
  account?: string;
  /** `sbatch --time`, the walltime of each engine's job (`"02:00:00"`). */
  time?: string;
  /** `sbatch --qos`. */
  qos?: string;
  /** More `sbatch` options, one per line of the job script (`"--mem=4G"`). */
  sbatch?: string[];
  /** The `deno` the jobs run; defaults to the client's (a shared path). */
  deno?: string;
  /**
   * How long before its walltime an engine is warned and drained, in
   * seconds (`sbatch --signal=B:USR1@N`): its running task has that long
   * to finish. Defaults to 120. Slurm may warn up to a minute early.
   */
  drainSeconds?: number;
  /**
   * A folder, on a file system the nodes share, for the engines' secrets
   * (mode 0700, files 0600, each deleted once read); `~/.troupe/secrets`
   * by default.
   */
  secretsDir?: string;
  /** `sbatch --output`; `~/.troupe/logs/%x-%A_%a.out` by default. */
  output?: string;
  /** How often `squeue` is asked about the jobs, in ms (5000). */
  pollMs?: number;
  /**
   * Run its engines sandboxed, with exactly these Deno permissions instead
   * of `-A`; wins over `ClientOptions.permissions`.
   */
  permissions?: EnginePermissions;
}

/**
 * Engines as a Slurm job array: `sbatch` starts them, `squeue` follows
 * them, `scancel` stops them. A job that ends (cancelled, timed out, its
 * node lost) fails its engine's tasks with an `EngineError`, and the
 * engine is submitted again under its id, within the restart policy. Near
 * its walltime an engine is warned (`--signal`) and drained: its running
 * task finishes, the tasks waiting for it go to other engines, and a new
 * job replaces it (not counted as a restart).
 *
 * @example
 * ```ts
 * import { slurm } from "@troupe/parallel";
 * const launcher = slurm({ engines: 8, partition: "debug", time: "00:30:00" });
 * console.log(launcher.name, launcher.engines); // slurm 8
 * ```
 */
export function slurm(options: SlurmOptions): Launcher {
  checkLauncherOptions("slurm", options, {
    engines: true,
    partition: true,
    account: true,
    time: true,
    qos: true,
    sbatch: true,
    deno: true,
    drainSeconds: true,
    secretsDir: true,
    output: true,
    pollMs: true,
    permissions: true,
  });
  const drainSeconds = options.drainSeconds ?? 120;
  if (!(Number.isInteger(drainSeconds) && drainSeconds >= 0)) {
    throw new RangeError(
      `slurm() drainSeconds must be whole seconds >= 0, got ${drainSeconds}`,
    );
  }
  for (const line of options.sbatch ?? []) {
    if (typeof line !== "string" || !line.startsWith("-") || /\n/.test(line)) {
      throw new TypeError(
        `slurm() sbatch lines are sbatch options, one each ("--mem=4G"), ` +
          `got ${Deno.inspect(line)}`,
      );
    }
  }
  // One name for this launcher's jobs: squeue asks by it.
  const name = `troupe-${crypto.randomUUID().slice(0, 8)}`;
  const jobs = new SlurmJobs(name, options.pollMs ?? 5000);
  const leftovers = new Set<() => Promise<void>>();
  return {
    name: "slurm",
    engines: options.engines,
    ...(options.permissions ? { permissions: options.permissions } : {}),
    startNeeds: () => secretsNeeds(options.secretsDir, ["SLURM_ARRAY_TASK_ID"]),
    check: () => {
      requireCommands("slurm", ["sbatch", "squeue", "scancel"]);
      requireSecretsFolder("slurm", options.secretsDir);
    },
    start: (request) =>
      submit(request, options, name, drainSeconds, jobs, leftovers),
    close: async () => {
      await Promise.all([...leftovers].map((remove) => remove()));
    },
  };
}

async function submit(
  request: LaunchRequest,
  options: SlurmOptions,
  name: string,
  drainSeconds: number,
  jobs: SlurmJobs,
  leftovers: Set<() => Promise<void>>,
): Promise<LaunchedEngine[]> {
  // Absolute: the engine reads it from its own folder, the sandbox grants it.
  const secretsDir = secretsFolder(options.secretsDir);
  const secrets = await writeEngineSecrets(request.engines, secretsDir);
  leftovers.add(secrets.remove);
  const output = options.output ??
    join(dirname(secretsDir), "logs", "%x-%A_%a.out");
  await Deno.mkdir(dirname(output), { recursive: true, mode: 0o700 });
  const script = jobScript(request, options, {
    name,
    drainSeconds,
    output,
    secretsPath: secrets.path,
  });
  // The script goes through stdin: it names the secrets' file, not the key.
  const { code, stdout, stderr } = await runCommand(
    "sbatch",
    ["--parsable"],
    { stdin: script, timeoutMs: 60_000 },
  ).catch(async (error) => {
    await secrets.remove();
    throw error;
  });
  const arrayId = stdout.trim().split(";")[0];
  if (code !== 0 || !/^\d+$/.test(arrayId)) {
    await secrets.remove();
    throw new Error(
      `sbatch failed (exit code ${code}): ${stderr.trim() || stdout.trim()}`,
    );
  }
  const handles = request.engines.map((_: EngineToLaunch, slot) => {
    const jobId = `${arrayId}_${slot}`;
    const job = jobs.track(jobId);
    let stopping: Promise<void> | undefined;
    const handle: LaunchedEngine = {
      ended: job.ended,
      get queued() {
        return job.queued();
      },
      info: { jobId },
      stop: () =>
        stopping ??= (async () => {
          await runCommand("scancel", [jobId], { timeoutMs: 30_000 });
          jobs.soon();
          await job.ended;
        })(),
    };
    return handle;
  });
  // Files of engines that never ran go once their jobs are over.
  Promise.all(handles.map((h) => h.ended)).then(async () => {
    await secrets.remove();
    leftovers.delete(secrets.remove);
  });
  return handles;
}

function jobScript(
  request: LaunchRequest,
  options: SlurmOptions,
  job: {
    name: string;
    drainSeconds: number;
    output: string;
    secretsPath: string;
  },
): string {
  const directives = [
    `--job-name=${job.name}`,
    `--array=0-${request.engines.length - 1}`,
    "--ntasks=1",
    `--output=${job.output}`,
    `--signal=B:USR1@${job.drainSeconds}`,
    ...(options.partition ? [`--partition=${options.partition}`] : []),
    ...(options.account ? [`--account=${options.account}`] : []),
    ...(options.time ? [`--time=${options.time}`] : []),
    ...(options.qos ? [`--qos=${options.qos}`] : []),
    ...(options.sbatch ?? []),
  ];
  const engine = [
    options.deno ?? Deno.execPath(),
    ...request.args,
    "--secrets",
    job.secretsPath,
    "--slot-env",
    "SLURM_ARRAY_TASK_ID",
    "--drain-on",
    "SIGUSR1",
  ];
  return [
    "#!/bin/sh",
    ...directives.map((d) => `#SBATCH ${d}`),
    // exec: the engine is the batch shell, which --signal=B: warns.
    `exec ${engine.map(shellQuote).join(" ")}`,
    "",
  ].join("\n");
}
