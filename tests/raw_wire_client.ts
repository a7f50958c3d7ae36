/**
 * A client that speaks remote/wire.ts by hand over a FramedConnection after
 * the client handshake, for tests of the controller's server side: what
 * the controller sends is checked frame by frame, and a client can send
 * what no troupe client would.
 */

import assert from "node:assert/strict";
import type { Controller } from "../controller/controller.ts";
import type {
  FromController,
  ToController,
  WireTaskEvent,
} from "../remote/wire.ts";
import { DEFAULT_HEARTBEAT_MS } from "../protocol/heartbeat.ts";
import { FramedConnection } from "../transport/framed_connection.ts";
import { HANDSHAKE_MAX_FRAME_BYTES, joinPeer } from "../transport/handshake.ts";
import { guard, until } from "./helpers.ts";
import type { SubmittedTask } from "../cluster/cluster.ts";

/**
 * A client that speaks the wire by hand, and keeps all it is told.
 *
 * @example
 * ```ts ignore
 * const client = await attach(controller);
 * await client.send({ t: "submit", tasks: [task(client.attached.taskIdBase + 1, "() => 1")] });
 * ```
 */
export class RawClient {
  readonly conn: FramedConnection;
  readonly got: FromController[] = [];
  closedWith: string | undefined;

  /** Its own beats: a client that says nothing for 3 periods is let go. */
  #beat: ReturnType<typeof setInterval>;

  constructor(conn: FramedConnection) {
    this.conn = conn;
    conn.onValue = (value) => {
      // The controller's beats are no news to any test.
      const message = value as FromController;
      if (message.t === "beat") this.beats++;
      else this.got.push(message);
    };
    conn.onClose = (reason) => {
      clearInterval(this.#beat);
      this.closedWith = reason;
    };
    this.#beat = setInterval(
      () => conn.send({ t: "beat" }).catch(() => {}),
      DEFAULT_HEARTBEAT_MS / 2,
    );
  }

  /** How many beats the controller sent it. */
  beats = 0;

  get attached(): Extract<FromController, { t: "attached" }> {
    const first = this.got[0];
    assert.equal(first?.t, "attached");
    return first as Extract<FromController, { t: "attached" }>;
  }

  send(message: ToController): Promise<void> {
    return this.conn.send(message);
  }

  /** Every task event it was told, in order. */
  events(taskId?: number): WireTaskEvent[] {
    return this.got.flatMap((m) => m.t === "events" ? m.events : [])
      .filter((e) => taskId === undefined || e.taskId === taskId);
  }

  /** Waits for `taskId`'s `done` and returns its events. */
  async finished(taskId: number, what: string): Promise<WireTaskEvent[]> {
    await until(
      () => this.events(taskId).some((e) => e.kind === "done"),
      `${what}: task ${taskId}'s done`,
    );
    return this.events(taskId);
  }

  async reply(id: number): Promise<Extract<FromController, { t: "reply" }>> {
    let found: FromController | undefined;
    await until(
      () =>
        (found = this.got.find((m) => m.t === "reply" && m.id === id)) !==
          undefined,
      `the reply to call ${id}`,
    );
    return found as Extract<FromController, { t: "reply" }>;
  }

  async close(): Promise<void> {
    this.conn.close("test over");
    await this.conn.closed;
  }
}

/**
 * A connection to the controller's client port, not started.
 *
 * @example
 * ```ts ignore
 * const conn = await dial(controller.clientInfo.port);
 * ```
 */
export async function dial(port: number): Promise<FramedConnection> {
  return new FramedConnection(
    await Deno.connect({ hostname: "127.0.0.1", port }),
    HANDSHAKE_MAX_FRAME_BYTES,
  );
}

/**
 * A session: the client handshake with `key`, then the wire.
 *
 * @example
 * ```ts ignore
 * const client = await attach(controller);
 * console.log(client.attached.taskIdBase);
 * ```
 */
export async function attach(controller: Controller, key?: string) {
  const { port } = controller.clientInfo;
  const conn = await dial(port);
  try {
    await guard(
      joinPeer(conn, key ?? controller.clientInfo.key, "client", {}, 5000),
      "the client handshake",
    );
  } catch (error) {
    conn.close("handshake failed");
    await conn.closed;
    throw error;
  }
  conn.maxFrameBytes = 256 * 2 ** 20;
  const client = new RawClient(conn);
  conn.start();
  await until(() => client.got.length > 0, "attached");
  return client;
}

/**
 * A task of source `source`, on engine 0 unless `placement` says.
 *
 * @example
 * ```ts ignore
 * const t = task(client.attached.taskIdBase + 1, "(x) => x", [1]);
 * ```
 */
export function task(
  taskId: number,
  source: string,
  args: unknown[] = [],
  placement: SubmittedTask["placement"] = { engineId: 0 },
): SubmittedTask {
  return { taskId, fn: { kind: "source", source }, args, placement };
}
