/**
 * Admission: how engines become the supervisor's. It starts Worker engines
 * and engine processes (whose secrets go through stdin), runs the TCP
 * listener, decides which id an authenticated engine gets, and attaches
 * TCP engines to their links. It lives in the cluster core, not in the
 * client: a standalone controller admits engines itself, and a client only
 * asks for them.
 *
 * @module
 */

import type { EngineLink, LinkFactory } from "../protocol/engine_link.ts";
import type { EngineKind, Supervisor } from "./supervisor.ts";
import type { ConnectionInfo } from "./cluster.ts";
import type { EngineHello } from "../transport/handshake.ts";
import type { FramedConnection } from "../transport/framed_connection.ts";
import { TcpLink } from "../transport/tcp_link.ts";
import { SpawnedEngines, whereOf } from "./spawned_engines.ts";
import type { EnginePermissions } from "../protocol/engine_permissions.ts";
import { engineProgramArgs, engineProgramEnv } from "./engine_program.ts";
import type { EngineStartNeeds } from "./sandbox_flags.ts";
import type { Launcher } from "./launcher.ts";
import { LaunchGroup } from "./launch_group.ts";
import { StartGate } from "./start_gate.ts";
import { defaultStartsAtOnce } from "../transport/starts_at_once.ts";
import { localEngineProcesses } from "../transport/engine_host.ts";
import { DEFAULT_MAX_FRAME_BYTES } from "../transport/frame.ts";
import { TcpServer } from "../transport/tcp_server.ts";
import type { DropCause, WireTotals } from "../transport/wire_counts.ts";
import { WorkerLink } from "../transport/worker_link.ts";
import { randomHex } from "../transport/random_hex.ts";
import { advertisedHost, isWildcard } from "../transport/loopback.ts";
import { defaultHeapMb } from "./engine_heap.ts";
// Imported (they do nothing when imported) as well as started, so that the
// engines' modules are in the client's module graph: fetched, cached and
// locked with it, from a checkout or from a registry.
import "../engine/worker.ts";
import "../engine/mod.ts";

/**
 * The module a Worker engine runs: the client checks it may read it before
 * it starts any.
 *
 * @example
 * ```ts
 * import { WORKER_ENTRY } from "./admission.ts";
 * console.log(WORKER_ENTRY.pathname.endsWith("/engine/worker.ts")); // true
 * ```
 */
export const WORKER_ENTRY: URL = new URL(
  "../engine/worker.ts",
  import.meta.url,
);

export { defaultHeapMb };

const PROCESS_ENTRY = new URL("../engine/mod.ts", import.meta.url);

/**
 * What admission needs of the supervisor: to read its engines and to adopt
 * the ones that connect by themselves.
 */
export type AdmissionHost = Pick<
  Supervisor,
  "get" | "all" | "kindOf" | "adopt" | "mayReturn"
>;

/**
 * How engines are admitted.
 *
 * @example
 * ```ts
 * import type { AdmissionOptions } from "./admission.ts";
 * const byHand: AdmissionOptions = { listen: { hostname: "0.0.0.0" }, joinable: true };
 * ```
 */
export interface AdmissionOptions {
  /** Run a TCP listener for engines there; none when absent. */
  listen?: { hostname?: string; port?: number };
  /**
   * The address launched engines dial, when it is not the one the listener
   * binds (a login node's name, while it binds 0.0.0.0). Defaults to the
   * bound address, or this host's name when that is a wildcard.
   */
  advertise?: string;
  /**
   * Whether engines started by hand may join (the user asked to listen),
   * not only the cluster's own processes.
   */
  joinable?: boolean;
  /** The secret every TCP engine must prove it holds; random by default. */
  key?: string;
  /** Seal TCP frames; by default off loopback only. */
  encrypt?: boolean;
  /** Every TCP engine's frame limit, both ways (it is told in `init`). */
  maxFrameBytes?: number;
  /** Heap limit of each Worker engine and engine process, in MiB. */
  maxHeapMb?: number;
  /** Where dropped peers and broken frames are reported. */
  log?: (line: string) => void;
  /**
   * Start engine processes sandboxed, with these permissions instead of
   * `-A` (a launcher's own `permissions` win for its engines).
   */
  permissions?: EnginePermissions;
  /** Where the listener counts its connections' traffic and drops. */
  counts?: { wire: WireTotals; dropped: (cause: DropCause) => void };
}

/**
 * Turns ways of starting engines into engines of a supervisor: link
 * factories for Workers and engine processes, and the listener through
 * which processes (and engines started by hand) connect.
 *
 * @example
 * ```ts
 * import { Admission } from "./admission.ts";
 * import { Registry } from "./registry.ts";
 * import { Supervisor } from "./supervisor.ts";
 * // The listener does not keep the process alive (a client holds it
 * // while it closes); here a timer does.
 * const hold = setInterval(() => {}, 1000);
 * const supervisor = new Supervisor({ registry: new Registry() });
 * const admission = new Admission(supervisor, { listen: {}, joinable: true });
 * console.log(admission.connectionInfo?.port !== 0); // true
 * await admission.close();
 * await supervisor.close("done");
 * clearInterval(hold);
 * ```
 */
export class Admission {
  #host: AdmissionHost;
  #server: TcpServer | undefined;
  #joinable: boolean;
  #key: string;
  #maxHeapMb: number;
  #maxFrameBytes: number;
  #log: (line: string) => void;
  #advertise: string | undefined;
  #permissions: EnginePermissions | undefined;
  #counts: AdmissionOptions["counts"];
  /** Processes started here, by their one-time token. */
  #spawned = new SpawnedEngines();
  /** The start gates of launchers that limit their engines' starts. */
  #gates: StartGate[] = [];
  /** The start gate of `processes`, once one is started. */
  #processes: StartGate | undefined;

  /** Admits engines to `host`; listens at once if `options.listen` says so. */
  constructor(host: AdmissionHost, options: AdmissionOptions = {}) {
    this.#host = host;
    this.#joinable = options.joinable ?? false;
    this.#key = options.key ?? randomHex(32);
    this.#maxHeapMb = options.maxHeapMb ?? defaultHeapMb(1);
    this.#maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.#log = options.log ?? ((line) => console.warn(line));
    this.#advertise = options.advertise;
    this.#permissions = options.permissions;
    this.#counts = options.counts;
    if (options.listen) {
      this.#server = this.#listen(options.listen, options.encrypt);
      this.#server.unref();
    }
  }

  #listen(
    at: { hostname?: string; port?: number },
    encrypt: boolean | undefined,
  ): TcpServer {
    try {
      return new TcpServer({
        hostname: at.hostname,
        port: at.port,
        key: this.#key,
        encrypt,
        maxFrameBytes: this.#maxFrameBytes,
        log: this.#log,
        wire: this.#counts?.wire,
        dropped: this.#counts?.dropped,
        decide: (hello, peer) => this.#decideEngineId(hello, peer),
        onEngine: (conn, engineId, hello) =>
          this.#onTcpEngine(conn, engineId, hello),
      });
    } catch (error) {
      if (!(error instanceof Deno.errors.AddrInUse)) throw error;
      const where = `${at.hostname ?? "127.0.0.1"}:${at.port ?? 0}`;
      throw new Deno.errors.AddrInUse(
        `the engine listener cannot bind ${where}: something else listens ` +
          "there; give listen another port, or leave port out for a free one",
        { cause: error },
      );
    }
  }

  /**
   * Whether engines may yet join by themselves: someone may start engines
   * by hand. A listener that exists for the cluster's own processes brings
   * none.
   */
  get joinable(): boolean {
    return this.#joinable;
  }

  /** Where TCP engines reach the listener, if there is one. */
  get connectionInfo(): ConnectionInfo | undefined {
    if (!this.#server) return undefined;
    const { hostname, port } = this.#server;
    return { hostname, port, key: this.#key };
  }

  /**
   * How to start (and restart) an engine of `kind`. Engine processes
   * connect back to the listener, so they need one.
   */
  spawner(kind: Exclude<EngineKind, "remote">): LinkFactory {
    if (kind === "worker") return (engineId) => this.#spawnWorker(engineId);
    if (!this.#server) {
      throw new Error(
        "engine processes connect back over TCP, and this cluster does not " +
          "listen: give it a listen address",
      );
    }
    // A sandbox that cannot be built is refused now, not at each start.
    this.#program("127.0.0.1");
    return (engineId) => this.#spawnProcess(engineId);
  }

  /**
   * The tokens of the processes started for `engineId` are no longer good:
   * a process that died before it connected must not be matched later.
   * Called when the engine dies or is given up.
   */
  forget(engineId: number): void {
    this.#spawned.forget(engineId);
  }

  /** Closes the listener; engines already admitted are the supervisor's. */
  async close(): Promise<void> {
    await this.#server?.close();
  }

  #spawnWorker(engineId: number): EngineLink {
    const link = new WorkerLink(WORKER_ENTRY, {
      name: `troupe engine ${engineId}`,
      maxHeapMb: this.#maxHeapMb,
    });
    // Idle engines let the process end; pending work holds it (keep_alive.ts).
    link.unref();
    return link;
  }

  #spawnProcess(engineId: number): EngineLink {
    const server = this.#server!;
    const hostname = isWildcard(server.hostname)
      ? "127.0.0.1"
      : server.hostname;
    const token = randomHex(16);
    const link = new TcpLink(this.#maxFrameBytes);
    link.where = { launcher: "local" };
    this.#expecting(engineId, token, link, this.#permissions !== undefined);
    // Through a start gate, as local()'s: `processes: 256` on 2 cores.
    this.#processes ??= this.#processGate();
    this.#processes.launcher.start({
      // Secrets go through stdin: command lines are visible to every user.
      engines: [{
        engineId,
        secrets: JSON.stringify({ key: this.#key, token, engineId }),
      }],
      args: this.#program(hostname),
      connect: { hostname, port: server.port },
      ...this.#environment(this.#permissions),
    }).then(([host]) => link.own(host));
    return link;
  }

  /** The gate of the engine processes `processes` starts. */
  #processGate(): StartGate {
    const gate = new StartGate({
      name: "local",
      engines: 0,
      start: (request) =>
        Promise.resolve(
          localEngineProcesses(
            Deno.execPath(),
            request.args,
            request.engines.map((engine) => engine.secrets),
            request.env,
          ),
        ),
    }, defaultStartsAtOnce());
    this.#gates.push(gate);
    return gate;
  }

  /**
   * `deno`'s arguments for an engine process that dials `hostname`,
   * sandboxed by `permissions` (with its launcher's `start` needs).
   */
  #program(
    hostname: string,
    permissions = this.#permissions,
    start?: EngineStartNeeds,
  ): string[] {
    const server = this.#server!;
    return engineProgramArgs({
      entry: PROCESS_ENTRY,
      connect: { hostname, port: server.port },
      maxHeapMb: this.#maxHeapMb,
      encrypt: server.encrypt,
      ...(permissions ? { permissions, start } : {}),
    });
  }

  /** A sandboxed local engine's environment (see `engineProgramEnv`). */
  #environment(
    permissions: EnginePermissions | undefined,
  ): { env?: Record<string, string> } {
    const env = engineProgramEnv(permissions);
    return env ? { env } : {};
  }

  #expecting(
    engineId: number,
    token: string,
    link: TcpLink,
    sandboxed: boolean,
  ): void {
    link.unref();
    this.#spawned.expect(token, { engineId, link, sandboxed });
  }

  /**
   * The engines of `launcher`: a link factory that starts them through it
   * and admits each by its own one-time token.
   */
  launchGroup(launcher: Launcher): LaunchGroup {
    if (!this.#server) {
      throw new Error(
        `the ${launcher.name} launcher's engines connect back over TCP, and ` +
          "this cluster does not listen: give it a listen address",
      );
    }
    let gated = launcher;
    if (launcher.startsAtOnce !== undefined) {
      const gate = new StartGate(launcher, launcher.startsAtOnce);
      this.#gates.push(gate);
      gated = gate.launcher;
    }
    const permissions = launcher.permissions ?? this.#permissions;
    // A sandbox that cannot be built is refused now, not at each start.
    this.#program("127.0.0.1", permissions, launcher.startNeeds?.());
    return new LaunchGroup(gated, {
      expect: (engineId) => {
        const token = randomHex(16);
        const link = new TcpLink(this.#maxFrameBytes);
        this.#expecting(engineId, token, link, permissions !== undefined);
        const secrets = JSON.stringify({ key: this.#key, token, engineId });
        return { link, secrets };
      },
      request: () => {
        const server = this.#server!;
        const hostname = advertisedHost(server.hostname, this.#advertise);
        return {
          args: this.#program(hostname, permissions, launcher.startNeeds?.()),
          connect: { hostname, port: server.port },
          ...this.#environment(permissions),
        };
      },
    });
  }

  /** Which id a newly authenticated engine gets; throws to refuse it. */
  #decideEngineId(hello: EngineHello, peer: string): number {
    if (hello.token !== undefined) {
      return this.#spawned.claim({ ...hello, token: hello.token }, peer);
    }
    const wanted = hello.engineId;
    if (
      wanted !== undefined && Number.isInteger(wanted) && wanted >= 0 &&
      this.#host.mayReturn(wanted, hello)
    ) {
      return wanted;
    }
    const all = this.#host.all();
    return all.length === 0 ? 0 : all[all.length - 1].engineId + 1;
  }

  #onTcpEngine(
    conn: FramedConnection,
    engineId: number,
    hello: EngineHello,
  ): void {
    if (hello.token !== undefined) {
      // By its own token: the process it names may have died (and another
      // been started under its id) while it was being welcomed.
      const spawned = this.#spawned.take({ ...hello, token: hello.token });
      if (spawned) {
        for (const gate of this.#gates) gate.registered(spawned.engineId);
        spawned.link.attach(conn, this.#log);
      } else conn.close("its process is no longer the engine's");
      return;
    }
    const link = new TcpLink(this.#maxFrameBytes);
    // What it says of itself: a given-up engine is known again by it.
    const where = whereOf(hello);
    if (where.host !== undefined || where.pid !== undefined) {
      link.where = where;
    }
    link.unref();
    link.attach(conn, this.#log);
    try {
      this.#host.adopt(engineId, link);
    } catch (error) {
      conn.close(String(error));
    }
  }
}
