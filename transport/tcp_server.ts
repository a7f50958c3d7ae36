/**
 * The client's TCP listener for engines: accepts connections, runs the
 * handshake under a deadline, and hands over authenticated engines. A
 * controller's client listener is one too, of purpose `"client"`.
 *
 * @module
 */

import { DEFAULT_MAX_FRAME_BYTES } from "./frame.ts";
import { FramedConnection } from "./framed_connection.ts";
import {
  acceptPeer,
  type EngineHello,
  HANDSHAKE_MAX_FRAME_BYTES,
  type HandshakePurpose,
} from "./handshake.ts";
import { LogLimiter } from "./log_limiter.ts";
import { HandshakeError } from "./handshake_reading.ts";
import type { DropCause, WireTotals } from "./wire_counts.ts";
import { isLoopback } from "./loopback.ts";
import { counted } from "../protocol/counted.ts";

/** How a `TcpServer` listens. */
export interface TcpServerOptions {
  /** Interface to bind; `127.0.0.1` unless told otherwise. */
  hostname?: string;
  /** Port; 0 picks a free one. */
  port?: number;
  /** The shared key every engine must prove it holds. */
  key: string;
  /**
   * Who connects: engines (the default), or clients of a controller; a
   * peer of the other purpose is turned away and told which port to use.
   * For clients, `decide` and `onEngine` see each client and its hello.
   */
  purpose?: HandshakePurpose;
  /** Largest frame accepted from an authenticated engine. */
  maxFrameBytes?: number;
  /** How long a peer has to authenticate, in ms. Defaults to 5000. */
  handshakeTimeoutMs?: number;
  /**
   * Seal (encrypt and authenticate) every frame after the handshake.
   * Defaults to `true` unless `hostname` is a loopback address.
   */
  encrypt?: boolean;
  /**
   * Picks the id of an engine that proved it holds the key; throws to refuse
   * it. Called before the engine is told its id.
   */
  decide: (hello: EngineHello, peer: string) => number;
  /** Receives each registered engine's connection, ready for its owner. */
  onEngine: (
    conn: FramedConnection,
    engineId: number,
    hello: EngineHello,
  ) => void;
  /**
   * Where to say why a peer was dropped. Never given the key. Repeats (the
   * same reason from the same address) within `logWindowMs` are one line.
   */
  log?: (line: string) => void;
  /** How long repeated drops are counted before one summary line (10 s). */
  logWindowMs?: number;
  /** Counts every accepted connection's frames and bytes, while it lives. */
  wire?: WireTotals;
  /**
   * Hears each connection dropped: in its handshake, or later for a
   * broken frame (`troupe_connections_dropped_total`).
   */
  dropped?: (cause: DropCause) => void;
}

/**
 * Listens for engines. Nothing but the handshake is read from a peer before
 * it has proved it holds the key; a peer that fails (wrong key, garbage, an
 * HTTP request, an oversized length, a wrong version, too slow) is dropped
 * with a log line saying why, and nothing else is touched. A flood of bad
 * peers cannot flood the log: the first drop of each reason from each
 * address is logged at once, repeats are counted into one line a window.
 *
 * @example
 * ```ts
 * import { TcpServer } from "./tcp_server.ts";
 * const server = new TcpServer({
 *   key: "secret",
 *   decide: () => 0,
 *   onEngine: (conn, id) => console.log("engine", id, "from", conn.peer),
 * });
 * console.log(server.port);
 * await server.close();
 * ```
 */
export class TcpServer {
  #listener: Deno.TcpListener;
  #options: TcpServerOptions;
  #handshaking = new Set<FramedConnection>();
  #accepting: Promise<void>;
  #closed = false;
  #drops: LogLimiter;
  #encrypt: boolean;

  /** Binds at once; throws if the address is taken. */
  constructor(options: TcpServerOptions) {
    this.#options = options;
    this.#drops = new LogLimiter({
      log: (line) => this.#log(line),
      windowMs: options.logWindowMs,
      overflow: (n, ms) =>
        `… and ${counted(n, "more connection")} from other addresses or for ` +
        `other reasons dropped in the last ${seconds(ms)}`,
    });
    this.#encrypt = options.encrypt ??
      !isLoopback(options.hostname ?? "127.0.0.1");
    this.#listener = Deno.listen({
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port ?? 0,
      transport: "tcp",
    });
    this.#accepting = this.#accept();
  }

  /** The bound interface. */
  get hostname(): string {
    return this.#listener.addr.hostname;
  }

  /** The bound port. */
  get port(): number {
    return this.#listener.addr.port;
  }

  /** Whether engines' frames are sealed after the handshake. */
  get encrypt(): boolean {
    return this.#encrypt;
  }

  /**
   * Lets the process end while the server listens: a client waiting for
   * engines that may never come must not keep a finished script alive.
   * (Peers in their handshake hold it for the handshake's few milliseconds.)
   */
  unref(): void {
    this.#listener.unref();
  }

  /** Stops listening and drops peers still in their handshake. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener.close();
    for (const conn of this.#handshaking) conn.close("the client closed");
    await Promise.all([
      this.#accepting,
      ...[...this.#handshaking].map((conn) => conn.closed),
    ]);
    this.#drops.close();
  }

  async #accept(): Promise<void> {
    try {
      for await (const socket of this.#listener) this.#greet(socket);
    } catch (error) {
      if (!this.#closed) this.#log(`stopped accepting engines: ${error}`);
    }
  }

  async #greet(socket: Deno.Conn): Promise<void> {
    const conn = new FramedConnection(socket, HANDSHAKE_MAX_FRAME_BYTES);
    const peer = conn.peer;
    this.#handshaking.add(conn);
    this.#count(conn);
    const { key, decide } = this.#options;
    try {
      const { id: engineId, hello } = await acceptPeer<EngineHello>(
        conn,
        key,
        this.#options.purpose ?? "engine",
        (hello) => decide(hello, peer),
        this.#options.handshakeTimeoutMs ?? 5000,
        this.#encrypt,
      );
      this.#handshaking.delete(conn);
      if (this.#closed) {
        conn.close("the client closed");
        return;
      }
      conn.maxFrameBytes = this.#options.maxFrameBytes ??
        DEFAULT_MAX_FRAME_BYTES;
      this.#options.onEngine(conn, engineId, hello);
    } catch (error) {
      let why = error instanceof Error ? error.message : String(error);
      conn.close(why);
      await conn.closed;
      // A write cut short by the close ("operation canceled") says nothing
      // of the peer; why the connection closed (garbage read meanwhile) does.
      if (error instanceof Deno.errors.Interrupted) {
        why = `the connection closed: ${await closeReason(conn)}`;
      }
      if (!this.#closed) {
        this.#dropped(peer, why);
        this.#options.dropped?.(
          error instanceof HandshakeError ? error.dropCause : "other",
        );
      }
      this.#handshaking.delete(conn);
    }
  }

  /**
   * Counts `conn`'s traffic until it closes, and its close if the peer
   * broke a frame after its handshake (a drop in it is counted there).
   */
  #count(conn: FramedConnection): void {
    const { wire, dropped } = this.#options;
    if (wire === undefined && dropped === undefined) return;
    wire?.track(conn.counts);
    conn.closed.then(() => {
      wire?.ended(conn.counts);
      const cause = conn.brokenBy;
      if (cause && !this.#handshaking.has(conn)) dropped?.(cause);
    });
  }

  #dropped(peer: string, why: string): void {
    const host = peer.slice(0, peer.lastIndexOf(":"));
    // Numbers in a reason (sizes, lengths read from garbage) and the bytes
    // it quotes vary from one connection to the next without making it
    // another reason: a flood of random bytes is one kind of drop.
    const kind = `${host} ${
      why.replace(/"[^"]*"/g, '"…"').replace(/\d+/g, "#")
    }`;
    this.#drops.log(
      kind,
      `dropped a connection from ${peer}: ${why}`,
      (n, ms) =>
        `… and ${counted(n, "more connection")} from ${host} dropped for the ` +
        `same reason in the last ${seconds(ms)}`,
    );
  }

  #log(line: string): void {
    (this.#options.log ?? ((l) => console.warn(l)))(`troupe: ${line}`);
  }
}

/** The reason `conn`, once closed, closed for (the first close's). */
function closeReason(conn: FramedConnection): Promise<string> {
  // A handler set after the close is told at once.
  return new Promise((resolve) => conn.onClose = resolve);
}

/** A window's length as a log line says it: "10 s", "0.4 s". */
function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(ms < 10_000 ? 1 : 0))} s`;
}
