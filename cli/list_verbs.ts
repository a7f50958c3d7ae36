/**
 * `troupe list` (the clusters: running or stale, engines up, port, start,
 * database) and `troupe engines ID` (one cluster's engines), as tables or
 * JSON.
 *
 * @module
 */

import type { EngineStatus } from "../cluster/cluster.ts";
import { messageOf } from "../protocol/errors.ts";
import {
  listClusterStates,
  readClusterState,
} from "../remote/cluster_state.ts";
import { controllerRuns } from "../remote/controller_liveness.ts";
import { askController } from "./ask_controller.ts";
import type { Command } from "./args.ts";
import { table } from "./text_layout.ts";

/** How long list waits for each controller's engine count. */
const LIST_ASK_MS = 2_000;

/** How long engines waits for the controller. */
const ENGINES_ASK_MS = 10_000;

/**
 * A row of `troupe list --json`.
 *
 * @example
 * ```ts
 * import type { ClusterRow } from "./list_verbs.ts";
 * const row: ClusterRow = {
 *   id: "sim", pid: 4242, state: "running", enginesUp: 2, engines: 2,
 *   hostname: "127.0.0.1", port: 40001, startedAt: 0, db: "/tmp/sim.sqlite",
 * };
 * ```
 */
export interface ClusterRow {
  id: string;
  pid: number;
  /** `stale`: its controller was killed or crashed (`troupe start` restarts it). */
  state: "running" | "stale";
  /** Engines idle or busy; absent when the controller did not say. */
  enginesUp?: number;
  /** Engines it knows, in any state. */
  engines?: number;
  /** Why the controller did not say, if it did not. */
  unanswered?: string;
  hostname: string;
  port: number;
  startedAt: number;
  db: string;
  /** The dashboard's address (with its token), if the controller serves one. */
  dashboard?: string;
}

/**
 * `troupe list`: every cluster's row, as a table or (`--json`) JSON.
 *
 * @example
 * ```ts ignore
 * import { parseArgs } from "./args.ts";
 * import { listClusters } from "./list_verbs.ts";
 * console.log(await listClusters(parseArgs(["list"])));
 * ```
 */
export async function listClusters(command: Command): Promise<string> {
  const rows = await Promise.all(
    (await listClusterStates()).map(async (state): Promise<ClusterRow> => {
      const alive = controllerRuns(state);
      const row: ClusterRow = {
        id: state.id,
        pid: state.pid,
        state: alive ? "running" : "stale",
        hostname: state.hostname,
        port: state.port,
        startedAt: state.startedAt,
        db: state.db,
        ...(state.dashboard ? { dashboard: state.dashboard } : {}),
      };
      if (!alive) return row;
      try {
        const engines = await askController(
          state,
          LIST_ASK_MS,
          (client) => client.engines(),
        );
        row.engines = engines.length;
        row.enginesUp = engines.filter(isUp).length;
      } catch (error) {
        row.unanswered = messageOf(error);
      }
      return row;
    }),
  );
  if (command.json) return JSON.stringify(rows, null, 2);
  if (rows.length === 0) {
    return "no clusters (troupe start --id ID starts one)";
  }
  return table(
    ["ID", "PID", "STATE", "ENGINES", "PORT", "STARTED", "DB", "DASHBOARD"],
    rows.map((row) => [
      row.id,
      String(row.pid),
      row.state,
      row.engines === undefined
        ? row.state === "running" ? "?" : "-"
        : `${row.enginesUp}/${row.engines} up`,
      `${row.hostname}:${row.port}`,
      new Date(row.startedAt).toISOString().slice(0, 19).replace("T", " "),
      row.db,
      row.dashboard ?? "-",
    ]),
  ) + unansweredNote(rows);
}

function unansweredNote(rows: ClusterRow[]): string {
  const silent = rows.filter((row) => row.unanswered !== undefined);
  return silent.map((row) => `\n${row.id}: ${row.unanswered}`).join("");
}

function isUp(engine: EngineStatus): boolean {
  return engine.state === "idle" || engine.state === "busy";
}

/**
 * `troupe engines ID`: the cluster's engines, as a table or JSON.
 *
 * @example
 * ```ts ignore
 * import { parseArgs } from "./args.ts";
 * import { listEngines } from "./list_verbs.ts";
 * console.log(await listEngines(parseArgs(["engines", "sim"])));
 * ```
 */
export async function listEngines(command: Command): Promise<string> {
  const state = await readClusterState(command.id!);
  if (!controllerRuns(state)) {
    throw new Error(
      `cluster ${state.id} is not running (pid ${state.pid} is gone: killed ` +
        `or crashed): troupe start --id ${state.id} starts it again`,
    );
  }
  const engines = await askController(
    state,
    ENGINES_ASK_MS,
    (client) => client.engines(),
  );
  if (command.json) return JSON.stringify(engines, null, 2);
  if (engines.length === 0) return `cluster ${state.id} has no engines`;
  const cell = (value: unknown) => value === undefined ? "-" : String(value);
  return table(
    [
      "ENGINE",
      "KIND",
      "STATE",
      "LAUNCHER",
      "HOST",
      "PID",
      "JOB",
      "RANK",
      "DONE",
    ],
    engines.map((e) => [
      String(e.engineId),
      e.kind,
      e.state,
      cell(e.launcher),
      cell(e.host),
      cell(e.pid),
      cell(e.jobId),
      cell(e.rank),
      String(e.tasksDone),
    ]),
  );
}
