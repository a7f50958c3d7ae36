/**
 * The cluster core as `Client.start` builds it from `ClientOptions`: the
 * `LocalCluster`, its permission checks, and its engines started and
 * waited for. One home, for the embedded client and for a controller
 * (`controller/controller.ts`), which runs the same core for its clients.
 *
 * @module
 */

import { defaultHeapMb, WORKER_ENTRY } from "../cluster/admission.ts";
import {
  LocalCluster,
  type LocalClusterOptions,
} from "../cluster/local_cluster.ts";
import type { ClientOptions, StartPlan } from "./client_options.ts";
import { IdlePool } from "./idle_pool.ts";
import { holdProcess } from "./keep_alive.ts";
import {
  requireListenPermission,
  requireProcessPermissions,
  requireWorkerPermissions,
} from "./permissions.ts";

/**
 * Throws, naming the flag to add, if this process lacks a permission that
 * `plan` needs: before anything starts, so that a missing one is an error
 * and not a prompt about one of troupe's files halfway through.
 *
 * @example
 * ```ts
 * import { requireStartPermissions } from "./embedded_cluster.ts";
 * import { checkStartOptions } from "./client_options.ts";
 * requireStartPermissions(checkStartOptions({ workers: 0 })); // nothing needed
 * ```
 */
export function requireStartPermissions(plan: StartPlan): void {
  if (plan.workers > 0) requireWorkerPermissions(WORKER_ENTRY);
  for (const launcher of plan.launchers) launcher.check?.();
  if (plan.processes > 0) requireProcessPermissions();
  if (plan.listen) {
    requireListenPermission(
      plan.listen.hostname ?? "127.0.0.1",
      "the client's engine listener",
    );
  }
}

/**
 * The `LocalCluster` that `options` (checked into `plan`) describe, with
 * no engines yet; its engine listener, if `plan` has one, is up; an
 * `IdlePool` when `options.idleTimeoutMs` is given. Throws if the listener
 * cannot bind.
 *
 * @example
 * ```ts
 * import { localClusterFor } from "./embedded_cluster.ts";
 * import { checkStartOptions } from "./client_options.ts";
 * // The listener does not keep the process alive (a client holds it
 * // while it waits); here a timer does.
 * const hold = setInterval(() => {}, 1000);
 * const options = { workers: 0, listen: true };
 * const cluster = localClusterFor(options, checkStartOptions(options));
 * console.log(cluster.connectionInfo !== undefined); // true
 * await cluster.close();
 * clearInterval(hold);
 * ```
 */
export function localClusterFor(
  options: ClientOptions,
  plan: StartPlan,
): LocalCluster {
  const log = options.log ?? ((line: string) => console.warn(line));
  const core: LocalClusterOptions = {
    restart: options.restart,
    heartbeatMs: options.heartbeatMs,
    startTimeoutMs: options.startTimeoutMs,
    noEngineTimeoutMs: options.noEngineTimeoutMs,
    onEngineEvent: options.onEngineEvent,
    admission: {
      listen: plan.listen,
      joinable: plan.joinable,
      key: options.key,
      advertise: options.advertise,
      encrypt: options.encrypt,
      maxFrameBytes: options.maxFrameBytes,
      maxHeapMb: options.maxHeapMb ??
        defaultHeapMb(plan.workers + plan.processes),
      log,
      permissions: plan.permissions,
    },
  };
  // Here, where both hosts build their core: a controller's pool wakes on
  // any of its clients' tasks, as an embedded client's does on its own.
  if (options.idleTimeoutMs === undefined) return new LocalCluster(core);
  return new IdlePool(core, plan, {
    idleTimeoutMs: options.idleTimeoutMs,
    startTimeoutMs: options.startTimeoutMs,
  });
}

/**
 * Starts `plan`'s engines on `cluster` (Workers as engines `0…`, then the
 * processes, then each launcher's) and resolves once all are up; rejects
 * with a `TimeoutError` after `timeoutMs`, or as soon as one cannot start,
 * or `signal` aborts (with its reason). The caller stops the cluster on
 * failure. The process is held meanwhile. An `IdlePool` starts nothing
 * now: its first use does.
 *
 * @example
 * ```ts
 * import { localClusterFor, startEngines } from "./embedded_cluster.ts";
 * import { checkStartOptions } from "./client_options.ts";
 * const options = { workers: 1 };
 * const plan = checkStartOptions(options);
 * const cluster = localClusterFor(options, plan);
 * await startEngines(cluster, plan, 60_000);
 * console.log(cluster.ids()); // [0]
 * await cluster.close();
 * ```
 */
export async function startEngines(
  cluster: LocalCluster,
  plan: StartPlan,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  // A pool starts its engines on first use (client/idle_pool.ts).
  if (cluster instanceof IdlePool) return;
  const started: number[] = [];
  for (let engineId = 0; engineId < plan.workers; engineId++) {
    cluster.startEngine(engineId, "worker");
    started.push(engineId);
  }
  for (let i = 0; i < plan.processes; i++) {
    cluster.startEngine(plan.workers + i, "process");
    started.push(plan.workers + i);
  }
  for (const launcher of plan.launchers) {
    started.push(...cluster.launch(launcher));
  }
  // Only the engines started here: with a joinable listener (always a
  // controller's) others may join, but that must not keep a start that
  // can no longer succeed (an engine given up, a refused sbatch) waiting
  // out its timeout. Someone waits: the process must stay alive for it.
  const up = cluster.waitForEngines(started.length, { timeoutMs, of: started });
  await untilAborted(up, signal).finally(holdProcess());
}

/** `promise`, or a rejection with `signal`'s reason once it aborts. */
function untilAborted<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
): Promise<T> {
  if (!signal) return promise;
  // The wait ends with the cluster the caller then closes: not an error.
  promise.catch(() => {});
  const { promise: aborted, reject } = Promise.withResolvers<never>();
  const onAbort = () => reject(signal.reason);
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort, { once: true });
  return Promise.race([promise, aborted]).finally(() =>
    signal.removeEventListener("abort", onAbort)
  );
}
