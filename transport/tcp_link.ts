/**
 * A link to an engine over a framed TCP connection, optionally owning what
 * runs it (a local process, an ssh session, a Slurm job).
 *
 * @module
 */

import type {
  DeathCause,
  EngineLink,
  EngineWhere,
} from "../protocol/engine_link.ts";
import type {
  FromEngine,
  StopMessage,
  ToEngine,
} from "../protocol/messages.ts";
import { within } from "../actors/async.ts";
import { encodeValue, recycleEncoding } from "./codec.ts";
import { DEFAULT_MAX_FRAME_BYTES, frameTooLarge } from "./frame.ts";
import type { FramedConnection } from "./framed_connection.ts";
import { sealedBytes } from "./seal.ts";
import type { EngineHost } from "./engine_host.ts";

/**
 * Carries messages to and from an engine over TCP. A link that owns the
 * host of its engine (`own`: a process, a job) buffers messages until the
 * engine has connected and authenticated (`attach`), and its `onExit` fires
 * on whichever comes first, the host ending or the connection closing.
 *
 * @example
 * ```ts
 * import { TcpLink } from "./tcp_link.ts";
 * import { FramedConnection } from "./framed_connection.ts";
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const accepted = listener.accept();
 * const { port } = listener.addr;
 * const engine = new FramedConnection(
 *   await Deno.connect({ hostname: "127.0.0.1", port }),
 * );
 * const received = Promise.withResolvers<unknown>();
 * engine.onValue = received.resolve;
 * engine.start();
 * const link = new TcpLink();
 * link.onMessage = (message) => console.log(message.t);
 * link.send({ t: "ping" }); // held until a connection is attached
 * const conn = new FramedConnection(await accepted);
 * conn.start(); // in troupe, the handshake has started it
 * link.attach(conn);
 * console.log(await received.promise); // { t: "ping" }
 * await link.terminate();
 * await engine.closed;
 * ```
 */
export class TcpLink implements EngineLink {
  /**
   * Called for each message from the engine, in order, as the engine sent
   * it: unchecked here, like every link's, because the engine actor checks
   * each one (`fromEngineProblem`, protocol/validate.ts) before it acts.
   */
  onMessage: (message: FromEngine) => void = () => {};
  /** Called once when the engine is gone, with why. */
  onExit: (reason: string, cause?: DeathCause) => void = () => {};
  #publicationBytes = 0;
  /** Where the engine runs: its launcher, host and pid, once known. */
  where: EngineWhere | undefined;
  /** The engine answers heartbeats from a thread its tasks do not use. */
  readonly answersWhileBusy = true;
  /** Shared memory does not cross processes. */
  readonly sharesMemory = false;
  /**
   * The largest frame either way: the client's limit, which the engine is
   * told in `init` and keeps too.
   */
  readonly maxFrameBytes: number;
  #conn: FramedConnection | undefined;
  #queued: Uint8Array[] = [];
  #host: EngineHost | undefined;
  /** The host's `stop`, once it was asked to. */
  #stopping: Promise<void> | undefined;
  #exitReason: string | undefined;
  #gone: PromiseWithResolvers<void> = Promise.withResolvers();
  #unref = false;

  /** A link whose frames are at most `maxFrameBytes` long. */
  constructor(maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES) {
    this.maxFrameBytes = maxFrameBytes;
  }

  /**
   * Makes `host` (a process, a job) the engine's: when it ends, so does the
   * link, and ending the link stops it. A link ended before its host came
   * stops the host at once.
   */
  own(host: EngineHost): void {
    this.#host = host;
    if (this.#unref) host.unref?.();
    if (this.#exitReason !== undefined) {
      this.#stopping = host.stop();
      return;
    }
    host.ended.then((how) => {
      // A host says how in words of its own; a signal is a kill.
      this.#exit(how, /\bkilled\b|signal/i.test(how) ? "killed" : "exited");
      this.#conn?.close(how);
    });
  }

  /** Bytes on the wire of the `pub` frames received, seals included. */
  get publicationBytes(): number {
    return this.#publicationBytes;
  }

  /** Whether the engine still waits in a scheduler's queue. */
  get queued(): boolean {
    return this.#host?.queued ?? false;
  }

  /**
   * Takes over an authenticated connection and sends what was queued.
   * `log` hears why, when the engine broke the protocol.
   */
  attach(conn: FramedConnection, log?: (line: string) => void): void {
    if (this.#exitReason !== undefined) {
      conn.close(this.#exitReason);
      return;
    }
    this.#conn = conn;
    if (this.#unref) conn.unref();
    conn.onClose = (reason) => {
      if (conn.broken) {
        log?.(`troupe: closed the connection of ${conn.peer}: ${reason}`);
      }
      const lost = () => {
        this.#exit(`its connection closed: ${reason}`, "connection_lost");
        this.#kill();
      };
      const host = this.#host;
      if (host === undefined || conn.broken || this.#exitReason !== undefined) {
        return lost();
      }
      // A process killed (a SIGKILL, the OOM killer's) closes its
      // connection a moment before its exit status comes: that status says
      // more, and `own` classifies it first when it comes in time.
      within(host.ended, HOST_EXIT_WAIT_MS).then(lost);
    };
    // What the engine claims to send: the engine actor checks it (above).
    conn.onValue = (value) => {
      if ((value as FromEngine | null)?.t === "pub") {
        this.#publicationBytes += conn.deliveringBytes;
      }
      this.onMessage(value as FromEngine);
    };
    for (const body of this.#queued) this.#write(conn, body);
    this.#queued = [];
  }

  /**
   * Ends the engine before it is attached, for `reason` (its process is
   * not what was asked for): its death says why, and its process stops.
   */
  refuse(reason: string): void {
    this.#exit(reason, "start_failed");
    this.#kill();
  }

  /**
   * Lets the process end while the engine is connected and its process runs
   * (a spawned engine exits when its connection drops, so it does not
   * outlive the client): idle engines must not keep a script alive.
   */
  unref(): void {
    this.#unref = true;
    this.#host?.unref?.();
    this.#conn?.unref();
  }

  /**
   * Sends one message; throws at once, sending nothing, if it cannot be
   * encoded or is too big for a frame (a `RangeError` naming the limit).
   */
  send(message: ToEngine): void {
    const body = encodeValue(message);
    if (this.#conn) {
      this.#write(this.#conn, body);
      return;
    }
    // Whether frames will be sealed is known once connected: count on it.
    const bytes = sealedBytes(body.byteLength);
    if (bytes > this.maxFrameBytes) {
      throw frameTooLarge(bytes, this.maxFrameBytes);
    }
    if (this.#exitReason === undefined) this.#queued.push(body);
  }

  /** Writes `body`; once written, its buffer is the encoder's again. */
  #write(conn: FramedConnection, body: Uint8Array): void {
    conn.sendBody(body).then(() => recycleEncoding(body), () => {});
  }

  /**
   * Stops the running task but keeps the engine: its process starts a
   * fresh task thread and says `reset`.
   */
  interrupt(): void {
    this.send({ t: "interrupt" });
  }

  /**
   * Asks the engine to exit (a remote engine stops retrying), waits until
   * the request is written, then ends the link.
   */
  async shutdown(): Promise<void> {
    if (this.#exitReason === undefined && this.#conn) {
      const stop: StopMessage = { t: "stop" };
      await this.#conn.send(stop).catch(() => {});
    }
    await this.terminate();
  }

  /** Ends the engine (its process, if this link owns it); resolves once gone. */
  terminate(): Promise<void> {
    if (this.#exitReason === undefined) {
      this.#exit("it was terminated", "killed");
      this.#conn?.close("it was terminated");
      this.#kill();
    }
    return this.#gone.promise;
  }

  #kill(): void {
    this.#stopping ??= this.#host?.stop();
  }

  #exit(reason: string, cause: DeathCause): void {
    if (this.#exitReason !== undefined) return;
    this.#exitReason = reason;
    this.#queued = [];
    const waits: Promise<unknown>[] = [];
    if (this.#host) waits.push(this.#host.ended);
    if (this.#conn) waits.push(this.#conn.closed);
    Promise.all(waits).then(() => this.#gone.resolve());
    this.onExit(reason, cause);
  }
}

/**
 * How long a link that owns its engine's host waits, once the connection
 * closed, for the host's word on how the engine ended before it calls the
 * death a lost connection.
 */
const HOST_EXIT_WAIT_MS = 500;

/**
 * Run from a checkout, the entry's own `deno.json` maps its imports; from a
 * registry, the package carries them. The config is named explicitly because
 * Deno looks for one from the working directory, which may be anywhere.
 *
 * A checkout's config asks for a `node_modules` folder (`"nodeModulesDir":
 * "auto"`, for the tools that want one), and every Deno that runs with it
 * locks that folder to bring it up to date: 32 engines starting at once
 * waited on each other ("Blocking waiting for file lock on node_modules
 * directory"). Its npm imports are all `npm:` specifiers, which Deno reads
 * from its global cache as well, so engine processes do without the folder
 * (`--node-modules-dir=none`): they touch nothing of the checkout's. Nor
 * its lock file (`--no-lock`): a task that imports a module by URL would
 * otherwise write that module's hash into the checkout's deno.lock.
 *
 * @example
 * ```ts
 * import { configFor } from "./tcp_link.ts";
 * console.log(configFor(new URL("https://jsr.io/@troupe/parallel/0.1.0/engine/mod.ts")));
 * // []
 * ```
 */
export function configFor(entry: URL): string[] {
  if (entry.protocol !== "file:") return [];
  for (let dir = new URL("./", entry);; dir = new URL("../", dir)) {
    const config = new URL("deno.json", dir);
    try {
      Deno.statSync(config);
      return [
        "--config",
        config.pathname,
        "--node-modules-dir=none",
        "--no-lock",
      ];
    } catch {
      if (dir.pathname === "/") return [];
    }
  }
}
