/**
 * troupe: IPython parallel for Deno. Start engines, run functions on them,
 * and watch what they publish while they run.
 *
 * ```ts
 * import { Client, engineId, publishData } from "@troupe/parallel";
 *
 * await using client = await Client.start({ workers: 4 });
 * const ar = client.view().applyAsync(() => {
 *   for (let i = 0; i < 10; i++) publishData({ i });
 *   return engineId;
 * });
 * console.log(await ar, ar.data);
 * ```
 *
 * @module
 */

export { Client, type ClientOptions } from "./client/client.ts";
export type { ClientHistory } from "./client/client_history.ts";
export type { ClientReadings } from "./client/client_readings.ts";
export type {
  ConnectionInfo,
  EngineEvent,
  EngineKind,
  EngineQueue,
  EngineState,
  EngineStatus,
  MetricFamily,
  PublicationRegistry,
  QueueStatus,
  RestartPolicy,
} from "./cluster/cluster.ts";
export type {
  HistogramSample,
  MetricType,
  Sample,
} from "./observe/metric_family.ts";
export type { DeathCause } from "./protocol/engine_link.ts";
export {
  PROMETHEUS_CONTENT_TYPE,
  prometheusText,
} from "./observe/prometheus_text.ts";
export type {
  EnginePermissions,
  EngineStartNeeds,
  EngineToLaunch,
  LaunchedEngine,
  Launcher,
  LaunchInfo,
  LaunchRequest,
  PermissionGrant,
} from "./cluster/cluster.ts";
export { local, type LocalOptions } from "./launch/local.ts";
export { ssh, type SshOptions } from "./launch/ssh.ts";
export { slurm, type SlurmOptions } from "./launch/slurm.ts";
export { mpi, type MpiOptions } from "./launch/mpi.ts";
export {
  type EngineSecrets,
  writeEngineSecrets,
} from "./launch/engine_secrets.ts";
export {
  type EngineHost,
  HostProcess,
  type HostProcessOptions,
} from "./transport/engine_host.ts";
export type { Dashboard, DashboardOptions } from "./dashboard/dashboard.ts";
/**
 * The plots, here for a deprecation period: import them from
 * `@troupe/parallel/plot`.
 */
export {
  type EngineSeries,
  type Line,
  type LinePlotLabels,
  linePlotSpec,
  renderSvg,
  seedPlotSpec,
  type VegaLiteSpec,
} from "./plot/mod.ts";
export { DirectView, type Targets } from "./client/direct_view.ts";
export type { CallOptions, Dependency } from "./client/call_options.ts";
export type { TracingOptions } from "./client/tracing_options.ts";
export type { TracingStats } from "./client/task_tracing.ts";
export type { ImapOptions, ImapSource } from "./client/imap.ts";
export { type Arguments, ValueRef } from "./client/value_ref.ts";
export {
  type LoadBalancedOptions,
  LoadBalancedView,
  type MapOptions,
} from "./client/load_balanced_view.ts";
export {
  moduleFunction,
  type ModuleTask,
  type Runnable,
  type TaskFunction,
  type TaskValue,
} from "./client/task_function.ts";
export type {
  MapArguments,
  MapSequences,
  Sequence,
} from "./client/partition.ts";
export type {
  ParallelFunction,
  RemoteFunction,
} from "./client/view_functions.ts";
export {
  AsyncResult,
  type TaskMetadata,
  type TaskStatus,
} from "./client/async_result.ts";
export type { ResultItem } from "./client/result_item.ts";
export {
  asCompleted,
  type ReturnWhen,
  type WaitOptions,
  type WaitResult,
} from "./client/waits.ts";
export type { PerEngine, Shaped } from "./client/per_engine.ts";
export type { AsyncResultJSON } from "./client/result_json.ts";
export type { ResultReadings } from "./client/result_readings.ts";
export type {
  DisplayOutputsOptions,
  OutputGrouping,
} from "./client/result_outputs.ts";
export type { WaitInteractiveOptions } from "./client/wait_interactive.ts";
export type { HistoryTask } from "./client/task_history.ts";
export type {
  ConnectOptions,
  ConnectTarget,
} from "./client/connected_client.ts";
export type { ControllerAddress } from "./remote/connect.ts";
export {
  ClientClosedError,
  CompositeError,
  ControllerLostError,
  EngineError,
  type EngineErrorOptions,
  type ErrorInfo,
  QueueFullError,
  RemoteError,
  type RemoteErrorOptions,
  TaskAbortedError,
  TimeoutError,
  UnmetDependencyError,
} from "./protocol/errors.ts";
export type { Publication } from "./protocol/publication.ts";
export type {
  HistoryQuery,
  PurgeFilter,
  TaskState,
  TaskSummary,
  WireError,
} from "./remote/wire.ts";
export { engineId, publishData } from "./engine/engine_context.ts";
