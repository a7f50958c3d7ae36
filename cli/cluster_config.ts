/**
 * From a cluster's config (the CLI's engine, listener and history flags)
 * and its previous state file to what a controller starts with: which
 * engines and launcher, which ports and keys (the old ones again after a
 * crash, so that clients' state files and hand-started engines still
 * reach it), which history database and limits.
 *
 * @module
 */

import type { ClientOptions } from "../client/client_options.ts";
import type { Launcher } from "../cluster/cluster.ts";
import { local } from "../launch/local.ts";
import { mpi } from "../launch/mpi.ts";
import { slurm } from "../launch/slurm.ts";
import { ssh } from "../launch/ssh.ts";
import {
  type ClusterState,
  type ControllerConfig,
  defaultDbPath,
} from "../remote/cluster_state.ts";
import type { HistoryOptions } from "../controller/history_options.ts";
import type { DashboardOptions } from "../dashboard/dashboard.ts";
import { UsageError } from "./args.ts";
import { refuseSandboxedWorkers } from "../client/sandboxed_workers.ts";
import {
  checkEnginePermissions,
  type EnginePermissions,
  PERMISSION_NAMES,
} from "../protocol/engine_permissions.ts";

/**
 * The launchers `--launcher` names.
 *
 * @example
 * ```ts
 * import { LAUNCHERS } from "./cluster_config.ts";
 * console.log(LAUNCHERS.join(" ")); // local ssh slurm mpi
 * ```
 */
export const LAUNCHERS: readonly string[] = ["local", "ssh", "slurm", "mpi"];

/** Each launcher's own flags: given to another, they are a mistake. */
const LAUNCHER_FLAGS: Record<string, readonly string[]> = {
  local: [],
  ssh: ["hosts", "ssh-arg"],
  slurm: ["partition", "account", "time", "qos", "sbatch-arg"],
  mpi: ["mpiexec", "mpi-arg"],
};

/**
 * What a controller starts with, as `startController` takes it (less its
 * id and log).
 *
 * @example
 * ```ts
 * import { controllerPlan } from "./cluster_config.ts";
 * const plan = controllerPlan("sim", { workers: 2 });
 * console.log(plan.engines.workers, plan.clientListen); // 2 { hostname: "127.0.0.1", port: 0 }
 * ```
 */
export interface ControllerPlan {
  /** The engines, and the engine listener (always on) and key. */
  engines: ClientOptions;
  /** The client listener. */
  clientListen: { hostname: string; port: number };
  /** The client key, when it is the old one again. */
  clientKey?: string;
  /** The database and its limits, as the controller's history takes them. */
  history: HistoryOptions;
  /** The dashboard the controller serves (`--dashboard-port`), if any. */
  dashboard?: DashboardOptions;
}

/**
 * The plan for cluster `id` from `config`; with `previous` (the state file
 * of its last run) its ports, keys and database again unless `config`
 * names others. Throws a `UsageError` for flags that do not go together.
 *
 * @example
 * ```ts
 * import { controllerPlan } from "./cluster_config.ts";
 * const plan = controllerPlan("sim", { engines: 4, launcher: "slurm", partition: "debug" });
 * console.log(plan.engines.launch !== undefined); // true
 * ```
 */
export function controllerPlan(
  id: string,
  config: ControllerConfig,
  previous?: ClusterState,
): ControllerPlan {
  const hostname = text(config.listen) ?? "127.0.0.1";
  const launcher = launcherOf(config);
  const engines: ClientOptions = {
    ...(config.workers !== undefined ? { workers: count(config.workers) } : {}),
    ...(config.processes !== undefined
      ? { processes: count(config.processes) }
      : {}),
    ...(launcher ? { launch: launcher } : {}),
    ...idleTimeoutOf(config),
    ...permissionsOf(config),
    ...(text(config.advertise) ? { advertise: text(config.advertise) } : {}),
    listen: {
      hostname,
      port: count(config["engine-port"]) ?? previous?.engine.port ?? 0,
    },
    ...(previous ? { key: previous.engine.key } : {}),
  };
  refuseCliWorkers(engines);
  const limits = {
    maxTasks: count(config["max-tasks"]),
    maxAgeMs: seconds(config["max-age"]),
    maxPublicationsPerTask: count(config["max-publications"]),
    maxValueBytes: count(config["max-value-bytes"]),
    maxStreamBytes: count(config["max-stream-bytes"]),
  };
  return {
    engines,
    clientListen: {
      hostname,
      port: count(config.port) ?? previous?.port ?? 0,
    },
    ...(previous ? { clientKey: previous.key } : {}),
    ...dashboardOf(config, previous),
    history: {
      path: text(config.db) ?? previous?.db ?? defaultDbPath(id),
      ...Object.fromEntries(
        Object.entries(limits).filter(([, v]) => v !== undefined),
      ),
    },
  };
}

/**
 * The launcher `--launcher` asks for with its flags, or undefined without
 * one; a launcher's flag without it (or with another) is a `UsageError`.
 *
 * @example
 * ```ts
 * import { launcherOf } from "./cluster_config.ts";
 * const launcher = launcherOf({ launcher: "ssh", engines: 4, hosts: "me@a,me@b:2222=1" });
 * console.log(launcher?.name, launcher?.engines); // ssh 4
 * ```
 */
export function launcherOf(config: ControllerConfig): Launcher | undefined {
  const kind = text(config.launcher);
  const engines = count(config.engines);
  if (kind === undefined) {
    const stray = Object.values(LAUNCHER_FLAGS).flat().find((flag) =>
      config[flag] !== undefined
    );
    if (engines !== undefined || stray !== undefined) {
      throw new UsageError(
        `--${stray ?? "engines"} is for launched engines: add --launcher ` +
          `${LAUNCHERS.join("|")}`,
      );
    }
    return undefined;
  }
  if (!LAUNCHERS.includes(kind)) {
    throw new UsageError(
      `--launcher takes ${LAUNCHERS.join(", ")}, got ${JSON.stringify(kind)}`,
    );
  }
  for (const [other, flags] of Object.entries(LAUNCHER_FLAGS)) {
    if (other === kind) continue;
    const stray = flags.find((flag) => config[flag] !== undefined);
    if (stray !== undefined) {
      throw new UsageError(
        `--${stray} is for --launcher ${other}, not ${kind}`,
      );
    }
  }
  if (kind === "ssh") {
    return ssh({
      hosts: sshHosts(text(config.hosts), engines),
      sshArgs: list(config["ssh-arg"]),
    });
  }
  if (engines === undefined) {
    throw new UsageError(`--launcher ${kind} needs --engines N`);
  }
  switch (kind) {
    case "local":
      return local({ engines });
    case "slurm":
      return slurm({
        engines,
        partition: text(config.partition),
        account: text(config.account),
        time: text(config.time),
        qos: text(config.qos),
        sbatch: list(config["sbatch-arg"]),
      });
    default:
      return mpi({
        engines,
        mpiexec: text(config.mpiexec),
        args: list(config["mpi-arg"]),
      });
  }
}

/**
 * `--hosts user@host:port=n,...` as ssh()'s hosts; hosts without `=n`
 * share what `engines` leaves (one each without `--engines`).
 */
function sshHosts(
  spec: string | undefined,
  engines: number | undefined,
): Record<string, number> {
  if (spec === undefined || spec.trim() === "") {
    throw new UsageError(
      "--launcher ssh needs --hosts user@host:port=n,... (user, port and " +
        "=n optional)",
    );
  }
  const entries = spec.split(",").map((part) => {
    const at = part.lastIndexOf("=");
    const host = (at === -1 ? part : part.slice(0, at)).trim();
    const n = at === -1 ? undefined : Number(part.slice(at + 1));
    if (host === "" || (n !== undefined && !(Number.isInteger(n) && n >= 0))) {
      throw new UsageError(
        `--hosts: ${JSON.stringify(part)} is not host or host=n (n a whole ` +
          `number), in ${JSON.stringify(spec)}`,
      );
    }
    return { host, n };
  });
  const fixed = entries.reduce((sum, e) => sum + (e.n ?? 0), 0);
  const open = entries.filter((e) => e.n === undefined);
  if (engines !== undefined && fixed > engines) {
    throw new UsageError(
      `--hosts asks for ${fixed} engines, more than --engines ${engines}`,
    );
  }
  const left = engines === undefined ? open.length : engines - fixed;
  if (engines !== undefined && open.length === 0 && fixed !== engines) {
    throw new UsageError(
      `--hosts asks for ${fixed} engines, --engines for ${engines}: make ` +
        "them agree (or leave one of them out)",
    );
  }
  const hosts: Record<string, number> = {};
  open.forEach((entry, i) => {
    entry.n = Math.floor(left / open.length) + (i < left % open.length ? 1 : 0);
  });
  for (const { host, n } of entries) hosts[host] = (hosts[host] ?? 0) + n!;
  return hosts;
}

/**
 * `--dashboard-port` and `--dashboard-host` as the controller's dashboard;
 * after a crash its old port and token again (unless a port is given),
 * so that a browser tab or a Prometheus job keeps reaching it.
 */
function dashboardOf(
  config: ControllerConfig,
  previous: ClusterState | undefined,
): { dashboard?: DashboardOptions } {
  const port = count(config["dashboard-port"]);
  const hostname = text(config["dashboard-host"]);
  if (port === undefined && hostname === undefined) return {};
  const before = previous?.dashboard ? new URL(previous.dashboard) : undefined;
  const token = before?.searchParams.get("token") ?? undefined;
  return {
    dashboard: {
      hostname: hostname ?? "127.0.0.1",
      port: port || Number(before?.port || 0),
      ...(token ? { token } : {}),
    },
  };
}

/**
 * `--sandbox` and `--engine-allow-NAME[=LIST]` as the engines'
 * `permissions`; none of them: `-A`, as before.
 */
function permissionsOf(config: ControllerConfig): ClientOptions {
  const permissions: EnginePermissions = {};
  for (const name of PERMISSION_NAMES) {
    const grant = config[`engine-allow-${name}`];
    if (grant === undefined) continue;
    try {
      checkEnginePermissions("the sandbox", { [name]: grant });
    } catch (error) {
      const given = grant === true ? "" : `=${[grant].flat().join(",")}`;
      throw new UsageError(
        `--engine-allow-${name}${given}: ${(error as Error).message}`,
      );
    }
    permissions[name] = grant as boolean | string[];
  }
  const sandboxed = config.sandbox === true ||
    Object.keys(permissions).length > 0;
  return sandboxed ? { permissions } : {};
}

/**
 * The Worker refusal of a sandbox, in the CLI's flags, before anything
 * starts (the client would say it in its options' words).
 */
function refuseCliWorkers(engines: ClientOptions): void {
  if (!engines.permissions) return;
  const workers = engines.workers ??
    (engines.processes || engines.launch ? 0 : navigator.hardwareConcurrency);
  try {
    refuseSandboxedWorkers(workers, engines.workers, engines.processes, true);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** `--idle-timeout-ms`, which must be above 0: 0 would stop at once. */
function idleTimeoutOf(config: ControllerConfig): ClientOptions {
  const ms = count(config["idle-timeout-ms"]);
  if (ms === undefined) return {};
  if (ms === 0) {
    throw new UsageError(
      "--idle-timeout-ms takes a number of ms > 0 (how long the pool may " +
        "be idle before its engines stop); leave it out to keep them up",
    );
  }
  return { idleTimeoutMs: ms };
}

function count(value: unknown): number | undefined {
  return typeof value === "number" ? value : undefined;
}

function seconds(value: unknown): number | undefined {
  return typeof value === "number" ? value * 1000 : undefined;
}

function list(value: unknown): string[] | undefined {
  return Array.isArray(value) ? value.map(String) : undefined;
}
