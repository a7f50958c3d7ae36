/**
 * The bridge between a running task and its engine: `publishData` and the
 * engine id reach a task through one global hook, so that they work whether
 * the task imported troupe from a file, from JSR, or not at all.
 *
 * @module
 */

/** What the engine exposes to the task it is running. */
export interface EngineContext {
  /** This engine's id. */
  readonly engineId: number;
  /** Publishes for the running task; throws outside a task. */
  publishData(data: Record<string, unknown>): void;
}

const HOOK = Symbol.for("troupe.engine.context");

/**
 * The id of the engine this code runs on, or `-1` on the client. Inside a
 * shipped function `engineId` is in scope without an import; importing it
 * gives TypeScript its type and makes module tasks work the same way.
 *
 * @example
 * ```ts
 * import { Client, engineId } from "@troupe/parallel";
 * console.log(engineId); // -1: this is the client
 * await using client = await Client.start({ workers: 2 });
 * console.log(await client.view().applySync(() => `engine ${engineId}`));
 * // ["engine 0", "engine 1"]
 * ```
 */
export let engineId: number = currentEngine()?.engineId ?? -1;

/**
 * Installs `context` as this thread's engine. Called once by the engine
 * runtime.
 *
 * @example
 * ```ts
 * import { installEngineContext } from "./engine_context.ts";
 * installEngineContext({ engineId: 0, publishData() {} });
 * ```
 */
export function installEngineContext(context: EngineContext): void {
  (globalThis as Record<symbol, unknown>)[HOOK] = context;
  engineId = context.engineId;
}

/**
 * This thread's engine, or `undefined` outside an engine.
 *
 * @example
 * ```ts
 * import { currentEngine } from "./engine_context.ts";
 * console.log(currentEngine()?.engineId);
 * ```
 */
export function currentEngine(): EngineContext | undefined {
  return (globalThis as Record<symbol, unknown>)[HOOK] as
    | EngineContext
    | undefined;
}

/**
 * Sends `data` from the running task to the client, where `ar.data` merges it
 * key by key (as ipyparallel's `publish_data` does) and the registry keeps it
 * as this engine's latest publication.
 *
 * It never blocks the task, and its data reaches the client while the task
 * runs, even while the task is a synchronous loop that never yields. When the
 * task publishes faster than the client takes publications in, or (past a
 * burst of a few dozen) faster than one call per 0.1 ms, unsent ones merge
 * into the next, so memory stays bounded, a busy loop makes over a million
 * calls a second, and the newest value of every key still arrives. Typed arrays arrive as the same typed array.
 *
 * Inside a shipped function `publishData` is in scope without an import.
 * Called anywhere but inside a task on an engine, it throws.
 *
 * @example
 * ```ts
 * import { Client, publishData } from "@troupe/parallel";
 * await using client = await Client.start({ workers: 1 });
 * const ar = client.view().applyAsync(() => {
 *   for (let i = 0; i < 10; i++) {
 *     publishData({ a: new Float64Array(20).map(Math.random), i });
 *   }
 * });
 * await ar;
 * console.log(ar.data); // [{ a: Float64Array(20) [...], i: 9 }]
 * ```
 */
export function publishData(data: Record<string, unknown>): void {
  const engine = currentEngine();
  if (!engine) {
    throw new Error(
      "publishData() can only be called inside a task running on a troupe " +
        "engine, e.g. in a function passed to view.applyAsync(). Here it was " +
        "called on the client.",
    );
  }
  engine.publishData(data);
}
