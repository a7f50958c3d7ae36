/**
 * What an engine actor needs from whatever carries its messages. The actor
 * knows nothing of Workers or sockets; `transport/` implements this.
 *
 * @module
 */

import type { FromEngine, ToEngine } from "./messages.ts";

/**
 * Why an engine died, as a small closed set (the `reason` label of
 * `troupe_engine_deaths_total`), decided where the death is: `exited` (its
 * thread or process ended by itself: `Deno.exit`, a job that ended),
 * `killed` (a signal, or terminated), `heap` (out of memory),
 * `connection_lost`, `heartbeat` (silent too long), `start_timeout`,
 * `start_failed`, `fatal` (an uncaught error, or the engine said so),
 * `protocol` (it broke the protocol), `drained`, `aborted` (restarted to
 * stop a running task), `other`.
 *
 * @example
 * ```ts
 * import { DEATH_CAUSES, type DeathCause } from "./engine_link.ts";
 * const cause: DeathCause = "heartbeat";
 * console.log(DEATH_CAUSES.includes(cause)); // true
 * ```
 */
export type DeathCause =
  | "exited"
  | "killed"
  | "heap"
  | "connection_lost"
  | "heartbeat"
  | "start_timeout"
  | "start_failed"
  | "fatal"
  | "protocol"
  | "drained"
  | "aborted"
  | "other";

/**
 * Every `DeathCause`, in the order the metrics list them.
 *
 * @example
 * ```ts
 * import { DEATH_CAUSES } from "./engine_link.ts";
 * console.log(DEATH_CAUSES.length > 5); // true
 * ```
 */
export const DEATH_CAUSES: readonly DeathCause[] = [
  "exited",
  "killed",
  "heap",
  "connection_lost",
  "heartbeat",
  "start_timeout",
  "start_failed",
  "fatal",
  "protocol",
  "drained",
  "aborted",
  "other",
];

/**
 * One live connection to one engine.
 *
 * @example
 * ```ts
 * import type { EngineLink } from "./engine_link.ts";
 * function ping(link: EngineLink) {
 *   link.onMessage = (msg) => console.log(msg.t);
 *   link.onExit = (reason) => console.log("engine gone:", reason);
 * }
 * ```
 */
export interface EngineLink {
  /**
   * Sends one message. Throws synchronously when the message cannot be
   * carried (a value that cannot be cloned or encoded); nothing is sent then.
   */
  send(message: ToEngine): void;
  /** Called for every message from the engine, in order. */
  onMessage: (message: FromEngine) => void;
  /**
   * Called once when the engine is gone for any reason, with that reason in
   * words and, when the link knows it, its class (for the death metrics).
   * No message arrives after it.
   */
  onExit: (reason: string, cause?: DeathCause) => void;
  /** Ends the engine now, even mid-task; resolves once it is gone. */
  terminate(): Promise<void>;
  /**
   * Bytes on the wire of the publications (`pub` frames) received so far,
   * where the link knows them exactly (TCP); absent otherwise.
   */
  readonly publicationBytes?: number;
  /**
   * Tells an engine that lives on its own (a remote process) to exit rather
   * than wait for a client, then ends the link. Links to engines that the
   * client started leave it out: `terminate` ends those.
   */
  shutdown?(): Promise<void>;
  /**
   * Whether the engine answers heartbeats while a task runs. A Worker
   * cannot (the task holds its only thread), so its missed beats count only
   * while it is idle; a process engine answers from a thread of its own.
   */
  readonly answersWhileBusy: boolean;
  /** Whether `init` may carry shared memory (a thread of this process). */
  readonly sharesMemory: boolean;
  /**
   * The largest frame the link carries, over TCP: `init` tells the engine,
   * which then sends nothing larger (a result that is fails its task).
   * Absent for links without a limit (Workers).
   */
  readonly maxFrameBytes?: number;
  /**
   * While `true`, the engine waits in a scheduler's queue (a pending Slurm
   * job) and its start deadline does not run.
   */
  readonly queued?: boolean;
  /** Where the engine runs, when the link knows (its launcher, host, pid). */
  readonly where?: EngineWhere;
  /**
   * Stops the running task but keeps the engine, where the link can (an
   * engine process replaces its task thread and answers `reset`). Links
   * without it are terminated and restarted instead.
   */
  interrupt?(): void;
}

/**
 * Where an engine runs: what `client.engines()` shows of it beyond its
 * state.
 *
 * @example
 * ```ts
 * import type { EngineWhere } from "./engine_link.ts";
 * const where: EngineWhere = { launcher: "slurm", host: "node7", jobId: "12_3" };
 * ```
 */
export interface EngineWhere {
  /** The launcher that started it (`local`, `ssh`, `slurm`, `mpi`, ...). */
  launcher?: string;
  /** The host it runs on, as it says. */
  host?: string;
  /** Its process id there. */
  pid?: number;
  /** Its scheduler's job id (Slurm: `JOBID_INDEX`). */
  jobId?: string;
  /** Its MPI rank. */
  rank?: number;
}

/**
 * Starts a new engine and returns its link. The supervisor calls it again
 * to restart an engine under the same id.
 *
 * @example
 * ```ts
 * import type { LinkFactory } from "./engine_link.ts";
 * function startFirst(spawn: LinkFactory) {
 *   const link = spawn(0);
 *   link.onExit = (reason) => console.log("engine 0 ended:", reason);
 * }
 * ```
 */
export type LinkFactory = (engineId: number) => EngineLink;

/**
 * The engine's side of a link: how the code inside an engine talks back to
 * its client.
 *
 * @example
 * ```ts
 * import type { EnginePort } from "./engine_link.ts";
 * function hello(port: EnginePort) {
 *   port.post({ t: "ready" });
 * }
 * ```
 */
export interface EnginePort {
  /**
   * Sends one message to the client without waiting, also from a task that
   * never yields. Throws synchronously when the message cannot be carried.
   */
  post(message: FromEngine): void;
  /** Set by the engine; called for every message from the client. */
  onMessage: (message: ToEngine) => void;
}
