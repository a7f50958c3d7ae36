/**
 * A link to an engine that runs on a thread of this process.
 *
 * @module
 */

import { Worker } from "node:worker_threads";
import type { FromEngine, ToEngine } from "../protocol/messages.ts";
import type { DeathCause } from "../protocol/engine_link.ts";
import { deliverPosted, Outbox } from "./post_batch.ts";
import { messageOf } from "../protocol/errors.ts";

/**
 * `node:worker_threads` rather than the web `Worker`: under Deno 2.9 it
 * reports every way a thread can end (`Deno.exit`, an uncaught error, an
 * unhandled rejection, running out of heap) with an `exit` event, where a web
 * Worker dies silently on some and takes the whole process down when it runs
 * out of heap.
 */
const live = new Set<Worker>();

/**
 * How many engine threads this process has running. A Worker that is never
 * terminated is invisible to Deno's test sanitizers, so tests check this.
 *
 * @example
 * ```ts
 * import { liveWorkerCount } from "./worker_link.ts";
 * console.log(liveWorkerCount()); // 0 when every client is closed
 * ```
 */
export function liveWorkerCount(): number {
  return live.size;
}

/** How a `WorkerLink` starts its thread. */
export interface WorkerLinkOptions {
  /** Name shown in stack traces and debuggers. */
  name?: string;
  /** The thread's heap limit in MiB; past it the thread (only) ends. */
  maxHeapMb?: number;
}

/**
 * Starts a new thread that imports `entry` and calls its exported `serve()`,
 * and carries messages to and from it. Large typed arrays cross as
 * transferred copies (see `packMessage`). When the thread ends, for whatever
 * reason, `onExit` gets that reason once.
 *
 * Its messages are the protocol's unless named otherwise: then it is an
 * `EngineLink`, for the engine actor and for an engine process's relay.
 *
 * @example
 * ```ts
 * import { WorkerLink } from "./worker_link.ts";
 * import type { EngineLink } from "../protocol/engine_link.ts";
 * // engine/worker.ts is a thread entry: it exports serve().
 * const link: EngineLink = new WorkerLink(
 *   new URL("../engine/worker.ts", import.meta.url),
 * );
 * link.onMessage = (message) => console.log(message.t);
 * link.onExit = (reason) => console.log("ended:", reason);
 * await link.terminate();
 * ```
 */
export class WorkerLink<Out = ToEngine, In = FromEngine> {
  /**
   * Called for each message from the thread, in order, as the thread sent
   * it: unchecked here, because the engine actor checks each one
   * (`fromEngineProblem`, protocol/validate.ts) before it acts, also those
   * that a relay passes on from its task thread.
   */
  onMessage: (message: In) => void = () => {};
  /** Called once when the thread has ended, with the reason in words. */
  onExit: (reason: string, cause?: DeathCause) => void = () => {};
  #worker: Worker;
  #error: string | undefined;
  /** The class of `#error`: a message it could not send is `other`. */
  #errorCause: DeathCause = "other";
  #terminating = false;
  #exited: PromiseWithResolvers<void> = Promise.withResolvers();
  #outbox: Outbox;

  /** Starts the thread; it begins loading `entry` at once. */
  constructor(entry: URL, options: WorkerLinkOptions = {}) {
    const { maxHeapMb } = options;
    const worker = new Worker(threadEntry(entry), {
      name: options.name,
      resourceLimits: maxHeapMb ? { maxOldGenerationSizeMb: maxHeapMb } : {},
      // Node copies process.env into a new Worker, which makes Deno ask for
      // --allow-env; engines read the environment through Deno.env instead.
      env: {},
    });
    this.#worker = worker;
    live.add(worker);
    this.#outbox = new Outbox(
      (value, transfer) => {
        // A thread being ended takes nothing more: what it misses is moot.
        if (this.#terminating) return;
        // Without a transfer list Deno posts the clone as it is (its raw
        // op); any list, even an empty one, costs a slower op per post.
        if (transfer.length === 0) worker.postMessage(value);
        else worker.postMessage(value, transfer);
      },
      (error) => {
        // A message that `send` took and the clone refused at the flush:
        // the engine would wait for it forever, so it ends, saying why.
        this.#error ??= `a message to it could not be sent (${
          messageOf(error)
        }), so it was ended`;
        void this.terminate();
      },
    );
    worker.on(
      "message",
      // What the thread claims to send: the engine actor checks it (above).
      (data: unknown) => deliverPosted<In>(data, (m) => this.onMessage(m)),
    );
    worker.on("error", (error: Error & { code?: string }) => {
      if (this.#error !== undefined) return;
      this.#error = describeError(error);
      this.#errorCause = error?.code === OUT_OF_MEMORY ? "heap" : "fatal";
    });
    worker.on("exit", (code: number) => {
      live.delete(worker);
      this.#exited.resolve();
      this.onExit(this.#exitReason(code), this.#exitCause());
    });
  }

  /**
   * Sends one message: the first of this turn of the caller's code at once,
   * later ones together as one post when that code is done (a microtask;
   * `post_batch.ts`). Throws at once if `packMessage` refuses it.
   */
  send(message: Out): void {
    this.#outbox.add(message);
  }

  /** Ends the thread, even mid-task; resolves once it has ended. */
  terminate(): Promise<void> {
    this.#terminating = true;
    this.#worker.terminate();
    return this.#exited.promise;
  }

  /**
   * Lets the process end while this thread lives (its messages still arrive
   * while something else keeps the process alive): a client's idle engines
   * must not keep a script that forgot `close()` running forever.
   */
  unref(): void {
    this.#worker.unref();
  }

  /**
   * `false`: the thread that answers heartbeats is the one that runs tasks,
   * so a task that never yields delays the answers without being dead.
   */
  readonly answersWhileBusy = false;
  /** A thread of this process: `SharedArrayBuffer`s cross as they are. */
  readonly sharesMemory = true;

  #exitCause(): DeathCause {
    if (this.#error) return this.#errorCause;
    return this.#terminating ? "killed" : "exited";
  }

  #exitReason(code: number): string {
    if (this.#error) return this.#error;
    if (this.#terminating) return "it was terminated";
    return `it exited with code ${code} (Deno.exit, process.exit or close() on the engine)`;
  }
}

/**
 * `node:worker_threads` takes only `file:` and `data:` URLs, and troupe's
 * modules have `https:` ones when it is imported from JSR: the thread starts
 * from a `data:` module that imports `entry`, wherever it is served from.
 */
function threadEntry(entry: URL): URL {
  const source = `import { serve } from ${
    JSON.stringify(entry.href)
  };\nserve();\n`;
  return new URL(`data:text/javascript,${encodeURIComponent(source)}`);
}

const OUT_OF_MEMORY = "ERR_WORKER_OUT_OF_MEMORY";

function describeError(error: Error & { code?: string }): string {
  if (error?.code === OUT_OF_MEMORY) {
    return "it ran out of memory";
  }
  const text = error instanceof Error
    ? `${error.name}: ${error.message}`
    : String(error);
  return `an uncaught error ended it: ${text}`;
}
