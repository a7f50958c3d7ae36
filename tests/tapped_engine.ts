/**
 * A client, one engine process and a man in the middle (`TapRelay`) between
 * them, for the sealed-frame tests (`sealed_*_test.ts`); and markers that a
 * task's source, argument, publication and result carry, so that a test can
 * ask whether the relay read them.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type Client,
  type ClientOptions,
  type EngineEvent,
  publishData,
} from "../mod.ts";
import { decodeValue } from "../transport/codec.ts";
import { type HandEngine, startHandEngine } from "./hand_engine.ts";
import { guard, until, withClient } from "./helpers.ts";
import { TapRelay } from "./tap_relay.ts";

/**
 * The bound of every wait in the sealed tests: engine processes start, die
 * and reconnect in them.
 *
 * @example
 * ```ts
 * import { HANG_MS } from "./tapped_engine.ts";
 * console.log(HANG_MS); // 20000
 * ```
 */
export const HANG_MS = 20_000;

// What the relay must not read: in a task's source, its argument, its
// publication and its result.

/**
 * In the marked task's source.
 *
 * @example
 * ```ts
 * import { contains, SOURCE_MARKER, text } from "./tapped_engine.ts";
 * console.log(contains(text(`x ${SOURCE_MARKER} y`), SOURCE_MARKER)); // true
 * ```
 */
export const SOURCE_MARKER = "s3cr3t-source-marker";
/**
 * The marked task's argument.
 *
 * @example
 * ```ts
 * import { ARG_MARKER } from "./tapped_engine.ts";
 * console.log(ARG_MARKER.length > 0); // true
 * ```
 */
export const ARG_MARKER = "s3cr3t-argument-marker";
/**
 * In the marked task's publication.
 *
 * @example
 * ```ts
 * import { ARG_MARKER, PUB_MARKER } from "./tapped_engine.ts";
 * console.log(PUB_MARKER.startsWith(ARG_MARKER)); // true
 * ```
 */
export const PUB_MARKER: string = `${ARG_MARKER}-published`;
/**
 * In the marked task's result.
 *
 * @example
 * ```ts
 * import { RESULT_MARKER } from "./tapped_engine.ts";
 * console.log(RESULT_MARKER); // "S3CR3T-ARGUMENT-MARKER"
 * ```
 */
export const RESULT_MARKER: string = ARG_MARKER.toUpperCase();

/** A task whose every part carries a marker (run shipped, by its source). */
function markedTask(arg: string): string {
  publishData({ note: arg + "-published" });
  return "s3cr3t-source-marker:" + arg.toUpperCase();
}

/**
 * `s` as UTF-8 bytes.
 *
 * @example
 * ```ts
 * import { text } from "./tapped_engine.ts";
 * console.log(text("ok").byteLength); // 2
 * ```
 */
export const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/**
 * Whether `needle`'s UTF-8 bytes occur in `haystack`: whether the relay
 * read it.
 *
 * @example
 * ```ts
 * import { contains, text } from "./tapped_engine.ts";
 * console.log(contains(text("a secret b"), "secret")); // true
 * ```
 */
export function contains(haystack: Uint8Array, needle: string): boolean {
  const n = text(needle);
  outer: for (let i = 0; i + n.byteLength <= haystack.byteLength; i++) {
    for (let j = 0; j < n.byteLength; j++) {
      if (haystack[i + j] !== n[j]) continue outer;
    }
    return true;
  }
  return false;
}

/**
 * Whether a file is at `path`: how a task's side effect is seen.
 *
 * @example
 * ```ts
 * import { exists } from "./tapped_engine.ts";
 * console.log(await exists("/no/such/file")); // false
 * ```
 */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/**
 * What `withTappedEngine` hands its body: the client, the relay between it
 * and its one engine process, what they said, and a scratch folder.
 *
 * @example
 * ```ts
 * import type { Tapped } from "./tapped_engine.ts";
 * function connections(t: Tapped): number {
 *   return t.relay.sessions.length; // one per connection of the engine
 * }
 * ```
 */
export interface Tapped {
  client: Client;
  relay: TapRelay;
  engine: HandEngine;
  logs: string[];
  events: EngineEvent[];
  dir: string;
  /** Waits until engine 0 has died `deaths` times in all and is back. */
  backAfter(deaths: number): Promise<void>;
}

/**
 * A client on 127.0.0.1, a relay in front of it, and an engine process that
 * reaches the client only through the relay (and retries when cut off).
 *
 * @example
 * ```ts
 * import { runMarked, withTappedEngine } from "./tapped_engine.ts";
 * function sealedRun(): Promise<void> {
 *   return withTappedEngine({ encrypt: true }, ({ client }) => runMarked(client));
 * }
 * ```
 */
export async function withTappedEngine(
  options: ClientOptions,
  body: (t: Tapped) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "troupe_sealed_" });
  const logs: string[] = [];
  const events: EngineEvent[] = [];
  try {
    await withClient({
      workers: 0,
      listen: true,
      log: (line) => logs.push(line),
      onEngineEvent: (event) => events.push(event),
      ...options,
    }, async (client) => {
      const { port, key } = client.connectionInfo;
      const relay = new TapRelay({ hostname: "127.0.0.1", port });
      const engine = startHandEngine(
        ["--connect", `127.0.0.1:${relay.port}`],
        { TROUPE_KEY: key },
      );
      try {
        await guard(client.waitForEngines(1), "the tapped engine", HANG_MS);
        const deathsOf0 = () =>
          events.filter((e) => e.type === "died" && e.engineId === 0).length;
        await body({
          client,
          relay,
          engine,
          logs,
          events,
          dir,
          backAfter: (deaths) =>
            until(
              () =>
                deathsOf0() >= deaths && relay.sessions.length > deaths &&
                client.engines()[0]?.state === "idle",
              `engine 0 back after ${deaths} deaths`,
              HANG_MS,
            ),
        });
      } finally {
        await engine.kill();
        await relay.close();
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Runs the marked task on engine 0 and checks what came back: its result
 * and its publication.
 *
 * @example
 * ```ts
 * import type { Client } from "../mod.ts";
 * import { runMarked } from "./tapped_engine.ts";
 * async function works(client: Client): Promise<void> {
 *   await runMarked(client);
 * }
 * ```
 */
export async function runMarked(client: Client): Promise<void> {
  const ar = client.view(0).applyAsync(markedTask, ARG_MARKER);
  assert.equal(
    await guard(ar, "the marked task", HANG_MS),
    `${SOURCE_MARKER}:${RESULT_MARKER}`,
  );
  assert.deepEqual(ar.data, { note: PUB_MARKER });
}

/**
 * The handshake's hello, as the relay saw it go to the engine.
 *
 * @example
 * ```ts
 * import type { TapRelay } from "./tap_relay.ts";
 * import { helloOf } from "./tapped_engine.ts";
 * function sealed(relay: TapRelay): boolean {
 *   return helloOf(relay).sealed === true;
 * }
 * ```
 */
export function helloOf(relay: TapRelay): Record<string, unknown> {
  return decodeValue(relay.sessions[0].frames.toEngine[0]) as Record<
    string,
    unknown
  >;
}
