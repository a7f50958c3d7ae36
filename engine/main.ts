/**
 * A troupe engine as a process of its own: `ipengine` for troupe.
 *
 * ```sh
 * deno run -A jsr:@troupe/parallel/engine --file conn.json
 * deno run -A jsr:@troupe/parallel/engine --connect HOST:PORT --key KEY
 * ```
 *
 * `conn.json` is what `client.writeConnectionFile(path)` writes; instead of
 * `--key`, which other users see in `ps`, the key can be in `TROUPE_KEY`. The engine
 * proves it holds the key (the key never crosses the wire), registers, runs
 * tasks, and when its connection drops, retries with backoff until the client
 * is back (stop it with Ctrl-C). A process that a client started itself
 * (`--spawned`) exits instead when its connection drops (before it has
 * registered, it retries a connect that fails, for up to 30 s). An engine that
 * reaches its client on an address that is not loopback requires sealed
 * (encrypted, authenticated) frames, unless started with `--allow-plain`.
 *
 * @module
 */

import { FramedConnection } from "../transport/framed_connection.ts";
import {
  HANDSHAKE_MAX_FRAME_BYTES,
  HandshakeError,
  joinClient,
} from "../transport/handshake.ts";
import { DEFAULT_MAX_FRAME_BYTES } from "../transport/frame.ts";
import { isLoopback } from "../transport/loopback.ts";
import { Relay } from "./relay.ts";

/** What an engine process needs to reach its client. */
export interface EngineArgs {
  /** The client's host. */
  hostname: string;
  /** The client's port. */
  port: number;
  /** The shared key. */
  key: string;
  /** The id to ask for; a client-started engine is given one. */
  engineId?: number;
  /** The client's one-time token for a process it started. */
  token?: string;
  /** Started by a client: exit when the connection drops. */
  spawned: boolean;
  /**
   * The signal that warns of the end of the engine's allocation (a Slurm
   * walltime, `sbatch --signal`): the engine then asks its client to drain
   * it, finishing its running task and taking no new one.
   */
  drainOn?: Deno.Signal;
  /** Heap limit of the task thread, in MiB. */
  maxHeapMb?: number;
  /**
   * Turn down a client that offers plain frames. `true` when `hostname` is
   * not loopback, unless `--allow-plain`: an engine runs what arrives.
   */
  requireSealed: boolean;
  /**
   * The engine runs sandboxed (`--sandbox REVOKE`, given by a client whose
   * `permissions` start it): once it has joined, before its task thread
   * starts, it revokes `revoke` (what it needed to join: the client's
   * address, its secrets file), and its tasks' permission errors say
   * where the sandbox is set.
   */
  sandbox?: { revoke: Deno.PermissionDescriptor[] };
}

const VALUE_FLAGS = [
  "--file",
  "--connect",
  "--key",
  "--max-heap-mb",
  "--secrets",
  "--slot",
  "--slot-env",
  "--drain-on",
  "--sandbox",
];

/**
 * Reads the command line: `--file PATH`, or `--connect HOST:PORT` with
 * `--key KEY`; a client that starts the process adds `--spawned` and writes
 * `{ key, token }` as JSON to its stdin. A launcher that cannot write to
 * the engine's stdin (a Slurm job, an MPI rank) writes the JSON to a file
 * only its user can read and gives `--secrets PATH` (the engine deletes it
 * once read; `{slot}` in it is replaced with `--slot N` or the first set
 * variable of `--slot-env A,B`, e.g. `SLURM_ARRAY_TASK_ID`). `--drain-on
 * SIGNAL` asks the client to drain the engine when the signal comes.
 * `--allow-plain` lets an engine that reaches its client off loopback
 * accept plain frames. `--sandbox REVOKE` (a JSON list of permission
 * descriptors, from a client whose `permissions` started the engine)
 * revokes those once the engine has joined, before a task can run.
 *
 * @example
 * ```ts
 * import { parseEngineArgs } from "@troupe/parallel/engine";
 * const args = await parseEngineArgs(["--connect", "127.0.0.1:5555", "--key", "k"]);
 * console.log(args.port); // 5555
 * ```
 */
export async function parseEngineArgs(argv: string[]): Promise<EngineArgs> {
  const flags = new Map<string, string>();
  const switches = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === "--spawned" || flag === "--allow-plain") switches.add(flag);
    else if (VALUE_FLAGS.includes(flag)) {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${flag} needs a value`);
      flags.set(flag, value);
    } else {
      throw new Error(
        `unknown option ${flag}. Use --file conn.json, or --connect ` +
          "HOST:PORT --key KEY (and --allow-plain to accept a client " +
          "that does not encrypt)",
      );
    }
  }
  let hostname: string;
  let port: number;
  let key = flags.get("--key");
  let engineId: number | undefined;
  let token: string | undefined;
  const file = flags.get("--file");
  if (file) {
    const info = JSON.parse(await Deno.readTextFile(file));
    ({ hostname, port } = info);
    key ??= info.key;
  } else {
    const target = flags.get("--connect");
    if (!target) {
      throw new Error(
        "give --file conn.json, or --connect HOST:PORT --key KEY",
      );
    }
    const at = target.lastIndexOf(":");
    hostname = target.slice(0, at).replace(/^\[|\]$/g, "");
    port = Number(target.slice(at + 1));
  }
  const secretsAt = flags.get("--secrets") ??
    (switches.has("--spawned") ? "-" : undefined);
  if (secretsAt !== undefined) {
    const secrets = await readSecrets(secretsAt, flags);
    key = secrets.key;
    token = secrets.token;
    engineId = secrets.engineId;
  }
  if (!hostname || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error("the client's address must be HOST:PORT");
  }
  // The environment keeps the key out of `ps`, where --key shows it.
  key ??= Deno.env.get("TROUPE_KEY");
  if (!key) {
    throw new Error(
      "no key: give a connection file (--file), or the key in TROUPE_KEY " +
        "or --key KEY",
    );
  }
  const heap = flags.get("--max-heap-mb");
  const drainOn = flags.get("--drain-on") as Deno.Signal | undefined;
  const sandbox = flags.get("--sandbox");
  return {
    ...(drainOn ? { drainOn } : {}),
    ...(sandbox !== undefined ? { sandbox: sandboxOf(sandbox) } : {}),
    hostname,
    port,
    key,
    engineId,
    token,
    spawned: switches.has("--spawned"),
    maxHeapMb: heap ? Number(heap) : undefined,
    requireSealed: !switches.has("--allow-plain") && !isLoopback(hostname),
  };
}

/** `--sandbox`'s value: a JSON list of permission descriptors. */
function sandboxOf(text: string): { revoke: Deno.PermissionDescriptor[] } {
  let revoke: unknown;
  try {
    revoke = JSON.parse(text);
  } catch {
    revoke = undefined;
  }
  const fits = Array.isArray(revoke) &&
    revoke.every((d) =>
      typeof d === "object" && d !== null && typeof d.name === "string"
    );
  if (!fits) {
    throw new Error(
      `--sandbox takes a JSON list of Deno permission descriptors to revoke ` +
        `once joined (troupe's admission writes it), got ${text}`,
    );
  }
  return { revoke: revoke as Deno.PermissionDescriptor[] };
}

/** The engine's secrets, from stdin (`-`) or a private file it deletes. */
async function readSecrets(
  at: string,
  flags: Map<string, string>,
): Promise<{ key: string; token?: string; engineId?: number }> {
  if (at === "-") {
    return JSON.parse(await new Response(Deno.stdin.readable).text());
  }
  let slot = flags.get("--slot");
  for (const name of flags.get("--slot-env")?.split(",") ?? []) {
    slot ??= Deno.env.get(name.trim());
  }
  if (at.includes("{slot}") && slot === undefined) {
    throw new Error(
      `--secrets ${at} needs a slot: give --slot N, or --slot-env with a ` +
        "variable that is set (" + (flags.get("--slot-env") ?? "none given") +
        ")",
    );
  }
  const path = at.replaceAll("{slot}", slot ?? "");
  const text = await Deno.readTextFile(path).catch((error) => {
    throw new Error(
      `cannot read the engine's secrets at ${path}: ${error.message}. ` +
        "A launched engine reads them once, from a file its launcher " +
        "wrote: was it started twice, or after its client closed?",
    );
  });
  // Read once: nobody else should find the key there.
  await Deno.remove(path).catch(() => {});
  return JSON.parse(text);
}

/**
 * Connects, serves, and reconnects with backoff (0.1 s doubling to 5 s, jittered)
 * until told to stop. Resolves with the process's exit code.
 *
 * @example
 * ```ts
 * import { Client, engineId } from "@troupe/parallel";
 * import { parseEngineArgs, serveEngine } from "@troupe/parallel/engine";
 * // An engine program is `Deno.exit(await serveEngine(await
 * // parseEngineArgs(Deno.args)))`; here the engine runs in this process.
 * const client = await Client.start({ workers: 0, listen: true });
 * const { hostname, port, key } = client.connectionInfo;
 * const served = serveEngine(
 *   await parseEngineArgs(["--connect", `${hostname}:${port}`, "--key", key]),
 * );
 * await client.waitForEngines(1, { timeoutMs: 10_000 });
 * console.log(await client.view().applySync(() => engineId)); // [0]
 * await client.shutdown(); // tells the engine to exit
 * console.log(await served); // 0
 * ```
 */
export async function serveEngine(args: EngineArgs): Promise<number> {
  const drain = args.drainOn && drainOnSignal(args.drainOn);
  try {
    return await serve(args, drain || undefined);
  } finally {
    if (drain) drain.remove();
  }
}

/**
 * Asks the client to drain this engine when `signal` comes (the walltime
 * warning of its job), on whatever connection it has then, or as soon as it
 * connects.
 */
function drainOnSignal(signal: Deno.Signal) {
  let conn: FramedConnection | undefined;
  let asked = false;
  const ask = () => {
    conn?.send({ t: "drain", reason: `it was sent ${signal}` }).catch(() => {});
  };
  const listener = () => {
    asked = true;
    ask();
  };
  Deno.addSignalListener(signal, listener);
  return {
    /** The engine is (re)connected: a drain asked before it is sent now. */
    connected(to: FramedConnection) {
      conn = to;
      if (asked) ask();
    },
    remove: () => Deno.removeSignalListener(signal, listener),
  };
}

async function serve(
  args: EngineArgs,
  drain: ReturnType<typeof drainOnSignal> | undefined,
): Promise<number> {
  let engineId = args.engineId;
  let delay = 100;
  const firstTry = performance.now();
  let registered = false;
  while (true) {
    let conn: FramedConnection | undefined;
    try {
      const socket = await Deno.connect({
        hostname: args.hostname,
        port: args.port,
      });
      conn = new FramedConnection(socket, HANDSHAKE_MAX_FRAME_BYTES);
      engineId = await joinClient(
        conn,
        args.key,
        {
          engineId,
          token: args.token,
          pid: Deno.pid,
          // Without --allow-sys=hostname (an engine started by hand with
          // narrow flags), the client does without it.
          ...(canReadHostname() ? { hostname: Deno.hostname() } : {}),
          // Its cluster refuses a sandboxed engine that does not say so.
          ...(args.sandbox ? { sandboxed: true } : {}),
        },
        10_000,
        args.requireSealed,
      );
      conn.maxFrameBytes = DEFAULT_MAX_FRAME_BYTES;
      delay = 100;
      registered = true;
      // A client-started engine is the client's business to report.
      if (!args.spawned) {
        log(
          `engine ${engineId} registered with ${args.hostname}:${args.port}` +
            (conn.sealed ? " (frames sealed)" : " (frames plain)"),
        );
      }
      // What it needed to join goes before a task can run: the thread
      // starts after this, and a node:worker_threads thread shares the
      // process's permissions (measured, Deno 2.9.6).
      for (const descriptor of args.sandbox?.revoke ?? []) {
        Deno.permissions.revokeSync(descriptor);
      }
      const relay = new Relay(conn, engineId, args.maxHeapMb, {
        sandboxed: args.sandbox !== undefined,
      });
      drain?.connected(conn);
      const why = await relay.closed;
      if (why === "stop") return 0;
      // A spawned engine's client is gone (it exited, or forgot close()):
      // the engine's exit is the expected end, not news for its terminal.
      if (!args.spawned) log(`engine ${engineId}: ${why}`);
    } catch (error) {
      conn?.close("handshake failed");
      if (error instanceof HandshakeError && error.refused) {
        log(error.message);
        return 1;
      }
      // A started engine retries a connect that failed (a listener whose
      // backlog overflowed on a host that resets, a network that blinks)
      // until its own start deadline; once it was registered, or once the
      // client answered and the handshake failed, the client is gone.
      const retry = args.spawned && !registered && conn === undefined &&
        performance.now() - firstTry + delay < SPAWNED_CONNECT_MS;
      if (args.spawned && !retry) {
        log(`could not reach the client: ${(error as Error).message}`);
        return 1;
      }
      log(
        `cannot reach the client (${(error as Error).message}); ` +
          `retrying in ${delay} ms`,
      );
    }
    if (args.spawned && registered) return 1;
    // Jittered: engines that lost one client together do not knock again
    // all in the same millisecond.
    const wait = delay * (0.5 + Math.random());
    await new Promise((resolve) => setTimeout(resolve, wait));
    delay = Math.min(5000, delay * 2);
  }
}

/**
 * How long an engine its client started keeps retrying a connect that
 * fails before it is registered: within the client's start deadline
 * (`startTimeoutMs`, 60 s by default), which ends it anyway.
 */
const SPAWNED_CONNECT_MS = 30_000;

function canReadHostname(): boolean {
  return Deno.permissions.querySync({ name: "sys", kind: "hostname" })
    .state === "granted";
}

function log(line: string): void {
  console.error(`troupe engine (pid ${Deno.pid}): ${line}`);
}
