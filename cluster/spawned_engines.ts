/**
 * The engine processes admission started and waits for, by their one-time
 * token: which id each may take, whether it was to be sandboxed, and the
 * link it attaches to. Apart from admission because it is its own small
 * ledger, and the one place that refuses an engine that came back without
 * the sandbox it was started with.
 *
 * @module
 */

import type { EngineHello } from "../transport/handshake.ts";
import type { TcpLink } from "../transport/tcp_link.ts";

/** One engine process expected to join. */
export interface SpawnedEngine {
  /** The id it was started under. */
  engineId: number;
  /** The link it attaches to. */
  link: TcpLink;
  /** Its program was sandboxed: it must say so in its hello. */
  sandboxed: boolean;
}

/**
 * The started engine processes not yet joined, by token.
 *
 * @example
 * ```ts
 * import { SpawnedEngines } from "./spawned_engines.ts";
 * import { TcpLink } from "../transport/tcp_link.ts";
 * const spawned = new SpawnedEngines();
 * spawned.expect("t1", { engineId: 3, link: new TcpLink(), sandboxed: false });
 * console.log(spawned.claim({ token: "t1", engineId: 3 }, "127.0.0.1:5")); // 3
 * console.log(spawned.take({ token: "t1", pid: 7 })?.link.where); // { pid: 7 }
 * ```
 */
export class SpawnedEngines {
  #byToken = new Map<string, SpawnedEngine>();

  /**
   * Expects a process under `token`; the one before it under this id is
   * over (the supervisor starts one only once the last one's link is gone).
   */
  expect(token: string, engine: SpawnedEngine): void {
    this.forget(engine.engineId);
    this.#byToken.set(token, engine);
  }

  /** The tokens of `engineId`'s processes are no longer good. */
  forget(engineId: number): void {
    for (const [token, spawned] of this.#byToken) {
      if (spawned.engineId === engineId) this.#byToken.delete(token);
    }
  }

  /**
   * The id of the process whose `hello` carries a token; throws to refuse
   * an unknown token, or an engine that was to be sandboxed and does not
   * say so (its launcher ran `deno` with flags of its own, `-A` perhaps:
   * admitting it would widen the sandbox silently). That engine's link
   * ends with the reason, which its death then says.
   */
  claim(hello: EngineHello & { token: string }, peer: string): number {
    const spawned = this.#byToken.get(hello.token);
    if (!spawned || spawned.engineId !== hello.engineId) {
      throw new Error(`${peer} presented an unknown process token`);
    }
    if (spawned.sandboxed && hello.sandboxed !== true) {
      const why = `engine ${spawned.engineId} was to run sandboxed, but ` +
        `its process (${peer}) did not get --sandbox: its launcher ` +
        `(${spawned.link.where?.launcher ?? "?"}) must run \`deno\` with ` +
        "LaunchRequest.args as they are, not flags of its own";
      this.#byToken.delete(hello.token);
      spawned.link.refuse(why);
      throw new Error(why);
    }
    return spawned.engineId;
  }

  /**
   * The process of `hello`'s token, no longer expected (`undefined` if
   * unknown: it died, and another was started under its id, while it was
   * welcomed), with what it says of itself on its link.
   */
  take(hello: EngineHello & { token: string }): SpawnedEngine | undefined {
    const spawned = this.#byToken.get(hello.token);
    this.#byToken.delete(hello.token);
    if (!spawned) return undefined;
    spawned.link.where = { ...spawned.link.where, ...whereOf(hello) };
    return spawned;
  }
}

/**
 * Where an engine says it runs, from its hello: its host and pid, each
 * kept only if it has the shape (a name of at most 255 characters, a safe
 * integer), since a peer says what it likes there.
 *
 * @example
 * ```ts
 * import { whereOf } from "./spawned_engines.ts";
 * console.log(whereOf({ hostname: "node7", pid: 4242 })); // { host: "node7", pid: 4242 }
 * console.log(whereOf({ hostname: "x".repeat(300), pid: 1.5 })); // {}
 * ```
 */
export function whereOf(
  hello: { hostname?: unknown; pid?: unknown },
): { host?: string; pid?: number } {
  const { hostname, pid } = hello;
  return {
    ...(typeof hostname === "string" && hostname.length <= 255
      ? { host: hostname }
      : {}),
    ...(typeof pid === "number" && Number.isSafeInteger(pid) ? { pid } : {}),
  };
}
