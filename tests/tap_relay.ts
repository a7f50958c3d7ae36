/**
 * A man in the middle for troupe connections: a TCP relay between engines
 * and a client that forwards whole frames both ways, keeps every frame it
 * saw, and can rewrite a frame on its way or inject frames of its own, as
 * an on-path attacker without the key would.
 *
 * @module
 */

import { concatBytes } from "../transport/bytes.ts";
import { FrameDecoder, frameHeader } from "../transport/frame.ts";

/** Which way a frame goes: to the engine (from the client) or to the client. */
export type Direction = "toEngine" | "toClient";

/**
 * Decides what to forward in place of the `index`th frame going `direction`
 * (counted from 0 per session and direction).
 */
export type Rewrite = (
  direction: Direction,
  index: number,
  body: Uint8Array,
) => Uint8Array;

/**
 * One relayed connection: one engine's connection to the client.
 *
 * @example
 * ```ts
 * import type { TapSession } from "./tap_relay.ts";
 * function framesToEngine(session: TapSession): number {
 *   return session.frames.toEngine.length;
 * }
 * ```
 */
export interface TapSession {
  /** Every frame body forwarded (after rewriting), by direction. */
  readonly frames: Record<Direction, Uint8Array[]>;
  /** Writes `body` as a frame going `direction`, between two whole frames. */
  inject(direction: Direction, body: Uint8Array): Promise<void>;
  /** Resolves once both sides of this session are closed. */
  readonly closed: Promise<void>;
}

/**
 * Listens on 127.0.0.1 and relays each connection to `target`.
 *
 * @example
 * ```ts
 * import { TapRelay } from "./tap_relay.ts";
 * const relay = new TapRelay({ hostname: "127.0.0.1", port: 5555 });
 * console.log(`engines connect to 127.0.0.1:${relay.port}`);
 * await relay.close();
 * ```
 */
export class TapRelay {
  /** Every session so far, in the order they were accepted. */
  readonly sessions: TapSession[] = [];
  /** Applied to every frame before it is forwarded, when set. */
  rewrite: Rewrite | undefined;
  #listener: Deno.TcpListener;
  #target: { hostname: string; port: number };
  #sockets = new Set<Deno.Conn>();
  #running: Promise<void>[] = [];
  #accepting: Promise<void>;

  /** Binds at once on a free port of 127.0.0.1. */
  constructor(target: { hostname: string; port: number }) {
    this.#target = target;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#accepting = this.#accept();
  }

  /** Where engines should connect. */
  get port(): number {
    return this.#listener.addr.port;
  }

  /** The newest session, or a failure if there is none. */
  get last(): TapSession {
    const session = this.sessions.at(-1);
    if (!session) throw new Error("no connection went through the relay");
    return session;
  }

  /** Every body that went `direction` in every session, end to end. */
  everything(direction: Direction): Uint8Array {
    return concatBytes(this.sessions.flatMap((s) => s.frames[direction]));
  }

  /** Stops listening, cuts every session and waits until all is closed. */
  async close(): Promise<void> {
    this.#listener.close();
    for (const socket of this.#sockets) closeQuietly(socket);
    await this.#accepting;
    await Promise.all(this.#running);
  }

  async #accept(): Promise<void> {
    try {
      for await (const engineSide of this.#listener) {
        this.#running.push(this.#relay(engineSide));
      }
    } catch {
      // The listener was closed.
    }
  }

  async #relay(engineSide: Deno.Conn): Promise<void> {
    this.#sockets.add(engineSide);
    let clientSide: Deno.Conn;
    try {
      clientSide = await Deno.connect(this.#target);
    } catch {
      closeQuietly(engineSide);
      return;
    }
    this.#sockets.add(clientSide);
    const frames: Record<Direction, Uint8Array[]> = {
      toEngine: [],
      toClient: [],
    };
    const to = { toEngine: engineSide, toClient: clientSide };
    const tails: Record<Direction, Promise<void>> = {
      toEngine: Promise.resolve(),
      toClient: Promise.resolve(),
    };
    const write = (direction: Direction, body: Uint8Array) => {
      const frame = new Uint8Array(4 + body.byteLength);
      frame.set(frameHeader(body.byteLength));
      frame.set(body, 4);
      const done = tails[direction].then(() => writeAll(to[direction], frame));
      tails[direction] = done.catch(() => {});
      return done;
    };
    const pump = async (from: Deno.Conn, direction: Direction) => {
      const decoder = new FrameDecoder(2 ** 31);
      try {
        for await (const chunk of from.readable) {
          for (const body of decoder.push(chunk)) {
            const index = frames[direction].length;
            const out = this.rewrite?.(direction, index, body) ?? body;
            frames[direction].push(out);
            write(direction, out).catch(() => {});
          }
        }
      } catch {
        // Cut by the other side or by close().
      }
      await tails[direction];
      closeQuietly(engineSide);
      closeQuietly(clientSide);
    };
    const closed = Promise.all([
      pump(engineSide, "toClient"),
      pump(clientSide, "toEngine"),
    ]).then(() => {
      this.#sockets.delete(engineSide);
      this.#sockets.delete(clientSide);
    });
    this.sessions.push({ frames, inject: write, closed });
    await closed;
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let n = 0; n < bytes.byteLength;) {
    n += await conn.write(bytes.subarray(n));
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Closed already.
  }
}
