/**
 * The messages between a client-side engine actor and the engine it drives.
 * They are plain data so that any link (a Worker port today, a socket
 * later) can carry them.
 *
 * @module
 */

import type { ErrorInfo } from "./errors.ts";
import type { DeathCause } from "./engine_link.ts";

/** A function shipped by its source text. */
export interface SourceFunction {
  kind: "source";
  /** Source text that evaluates to a function expression. */
  source: string;
}

/** A function exported by a module that the engine imports (once). */
export interface ModuleFunction {
  kind: "module";
  /** The module's absolute URL. */
  url: string;
  /** The export's name. */
  name: string;
}

/** How a task names the function it runs. */
export type FunctionRef = SourceFunction | ModuleFunction;

/** First message to an engine: who it is and where to read acks. */
export interface InitMessage {
  t: "init";
  engineId: number;
  /**
   * `Int32Array` view over shared memory (`SHARED_SLOTS` slots). `ACK_SLOT`
   * counts the publication messages that the client has taken in: the engine
   * reads it without yielding, which is what lets a busy task pace its
   * publishing. `RUNNING_SLOT` holds the id of the task the engine's thread
   * is running, 0 between tasks. Absent over links that share no memory: an
   * engine process makes its own and counts a publication as taken in once
   * its frame is written.
   */
  acks?: SharedArrayBuffer;
  /**
   * Over TCP: the largest frame the client accepts, in bytes. The engine
   * accepts no larger frame either, and sends none: a result too large
   * fails its task, a publication too large is not sent (the task fails).
   */
  maxFrameBytes?: number;
  /**
   * From an engine process to its task thread: the process runs sandboxed
   * (`ClientOptions.permissions`), so a task's permission error says that
   * and where to widen it, not Deno's "run again with --allow-...".
   */
  sandboxed?: boolean;
}

/**
 * One task: what runs and on what. The one definition that `run` messages,
 * engine actors, the scheduler and the cluster seam share.
 *
 * @example
 * ```ts
 * import type { TaskSpec } from "./messages.ts";
 * const spec: TaskSpec = {
 *   taskId: 7,
 *   fn: { kind: "source", source: "(a, b) => a + b" },
 *   args: [1, 2],
 * };
 * ```
 */
export interface TaskSpec {
  taskId: number;
  fn: FunctionRef;
  /**
   * `apply` (the default) calls `fn(...args)`. `map` takes `args` as
   * columns of equal length and returns `[fn(c0[0], c1[0]), fn(c0[1], ...)]`:
   * one message for a whole chunk of a map.
   */
  mode?: "apply" | "map";
  args: unknown[];
  /**
   * Top-level arguments that are values put once (`client.put`): the engine
   * replaces `args[arg]` with its stored value `id` before the call. Only
   * `apply` tasks have them.
   */
  refs?: ArgRef[];
}

/**
 * A top-level argument that is a put value: which argument, which value.
 *
 * @example
 * ```ts
 * import type { ArgRef } from "./messages.ts";
 * const second: ArgRef = { arg: 1, id: 4294967297 }; // args[1] is value 4294967297
 * ```
 */
export interface ArgRef {
  /** The argument's index in `args`. */
  arg: number;
  /** The put value's id (taken from the cluster's task ids). */
  id: number;
}

/**
 * A put value the engine keeps, under its id, until a `ReleaseMessage`
 * names it or the engine's thread ends.
 *
 * @example
 * ```ts
 * import type { PutValue } from "./messages.ts";
 * const value: PutValue = { id: 3, value: new Float64Array(8) };
 * ```
 */
export interface PutValue {
  id: number;
  value: unknown;
}

/** Run one task. An engine runs its tasks one at a time, in order. */
export interface RunMessage extends TaskSpec {
  t: "run";
  /**
   * The put values of `refs` that this engine's thread has not been sent
   * yet: it keeps them (before the task queues) for this and later tasks.
   */
  values?: PutValue[];
}

/**
 * Forget these put values (`ref.release()`, or their client's end). Ids the
 * engine does not hold are ignored.
 *
 * @example
 * ```ts
 * import type { ReleaseMessage } from "./messages.ts";
 * const release: ReleaseMessage = { t: "release", ids: [3] };
 * ```
 */
export interface ReleaseMessage {
  t: "release";
  ids: number[];
}

/** Are you there? The engine answers with a `PongMessage` when it can. */
export interface PingMessage {
  t: "ping";
}

/**
 * Stop the running task but keep the engine: an engine process ends its
 * task thread, starts a fresh one and answers `ResetMessage`.
 */
export interface InterruptMessage {
  t: "interrupt";
}

/**
 * Drop these tasks if they have not started: the engine answers with
 * `CancelledMessage`, naming the ones it dropped.
 */
export interface CancelMessage {
  t: "cancel";
  taskIds: number[];
}

/**
 * Exit, rather than wait for a client: a remote engine process stops
 * retrying. Engines that the client started ignore it (they are ended).
 */
export interface StopMessage {
  t: "stop";
}

/** Messages that the client sends to an engine. */
export type ToEngine =
  | InitMessage
  | RunMessage
  | PingMessage
  | InterruptMessage
  | CancelMessage
  | StopMessage
  | ReleaseMessage
  | SpareMessage;

/**
 * Inside an engine process only, never on the wire: its relay gives its
 * task thread back the copies of large arrays the thread sent, once they
 * are written to the socket, for the thread's next copies to go into
 * (`transport/spare_buffers.ts`). A relay ignores one from its client.
 *
 * @example
 * ```ts
 * import type { SpareMessage } from "./messages.ts";
 * const spare: SpareMessage = { t: "spare", arrays: [new Uint8Array(8)] };
 * ```
 */
export interface SpareMessage {
  t: "spare";
  arrays: Uint8Array[];
}

/** The engine is ready for tasks. */
export interface ReadyMessage {
  t: "ready";
}

/** `publishData` was called by the running task. */
export interface PublishMessage {
  t: "pub";
  taskId: number;
  /**
   * The number of the `publishData` call, per engine from 1. A gap means
   * the calls in between were merged into this one.
   */
  seq: number;
  /** Engine clock, ms since the epoch. */
  time: number;
  data: Record<string, unknown>;
}

/** The running task wrote to the console. */
export interface StreamMessage {
  t: "stream";
  taskId: number;
  name: "stdout" | "stderr";
  text: string;
}

/** A task finished. */
export interface DoneMessage {
  t: "done";
  taskId: number;
  /** Engine clock when the task began and ended, ms since the epoch. */
  started: number;
  completed: number;
  ok: boolean;
  value?: unknown;
  error?: ErrorInfo;
}

/** The answer to a `PingMessage`: the engine's event loop is turning. */
export interface PongMessage {
  t: "pong";
  /** What the engine uses now (`Deno.memoryUsage()`); older engines omit it. */
  memory?: EngineMemory;
}

/**
 * An engine's memory, as its `pong` says: the heap of the thread that runs
 * its tasks, and (an engine process's) the resident memory of its process.
 * A Worker engine says no `rssBytes`: its process is the client's.
 *
 * @example
 * ```ts
 * import type { EngineMemory } from "./messages.ts";
 * const { heapUsed } = Deno.memoryUsage();
 * const memory: EngineMemory = { heapBytes: heapUsed };
 * ```
 */
export interface EngineMemory {
  /** Bytes the task thread's heap holds (`heapUsed`). */
  heapBytes: number;
  /** Bytes of the engine process resident in memory (`rss`). */
  rssBytes?: number;
}

/**
 * The engine cannot go on (its heap ran out inside a promise callback,
 * which leaves a Worker alive but its task lost); the client ends it.
 */
export interface FatalMessage {
  t: "fatal";
  reason: string;
  /** `reason`'s class, when the engine knows it (a task thread's heap). */
  cause?: DeathCause;
}

/**
 * The engine's task thread was replaced (after an interrupt): the running
 * task is gone, the engine's globals are lost, and a `ready` follows.
 */
export interface ResetMessage {
  t: "reset";
  reason: string;
}

/**
 * The engine's allocation is about to end (its Slurm job is near its
 * walltime): the client sends it no new task, hands back those it holds
 * that have not started, and once the running ones end, stops it and
 * starts it again elsewhere.
 */
export interface DrainMessage {
  t: "drain";
  reason: string;
}

/** The tasks of a `CancelMessage` that were dropped before they started. */
export interface CancelledMessage {
  t: "cancelled";
  taskIds: number[];
}

/** Messages that an engine sends to the client. */
export type FromEngine =
  | ReadyMessage
  | CancelledMessage
  | ResetMessage
  | PongMessage
  | FatalMessage
  | DrainMessage
  | PublishMessage
  | StreamMessage
  | DoneMessage;

/**
 * Slot of `InitMessage.acks` that counts the publications taken in: read
 * and written only by publication flow control (`flow_control.ts`).
 */
export const ACK_SLOT = 0;

/**
 * Slot of `InitMessage.acks` that holds the running task's id: a Worker that
 * is silent while it runs a task is working; one that is silent outside any
 * task (a timer that never returns) is stuck.
 */
export const RUNNING_SLOT = 1;

/** Slots in `InitMessage.acks`. */
export const SHARED_SLOTS = 2;

/**
 * Fresh shared memory for `InitMessage.acks`, every slot 0: what each side
 * that starts an engine thread (the engine actor, an engine process's relay)
 * sends in `init`, so that the slots' size is written once.
 *
 * @example
 * ```ts
 * import { ACK_SLOT, newSharedSlots } from "./messages.ts";
 * const acks = newSharedSlots(); // sent as `init`'s `acks`
 * const slots = new Int32Array(acks);
 * console.log(Atomics.load(slots, ACK_SLOT)); // 0
 * ```
 */
export function newSharedSlots(): SharedArrayBuffer {
  return new SharedArrayBuffer(SHARED_SLOTS * Int32Array.BYTES_PER_ELEMENT);
}

/**
 * How many tasks the client sends an engine ahead of the one it runs, so that
 * the engine never waits for a round trip between tasks. Tasks sent ahead
 * can still be aborted: `CancelMessage` drops them. 64 rather than 16: the
 * load balancer fills an engine with tiny tasks up to this many, half of
 * them in one post at a time, and a post costs microseconds whatever it
 * carries (tiny tasks/s on 2 Worker engines: about 1.4× that of 16).
 */
export const TASK_PIPELINE = 64;
