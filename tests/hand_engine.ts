/**
 * Engine processes in tests: one started as a user would from a shell
 * (`deno run -A engine/mod.ts ...`), for tests that need the real thing on
 * the other end of a socket, and the pids of the engine processes a client
 * started (its children, and what each engine says it runs in).
 *
 * @module
 */

import type { Client } from "../mod.ts";
import { guard, until } from "./helpers.ts";

const ROOT = new URL("../", import.meta.url);
const CONFIG = new URL("deno.json", ROOT).pathname;
const ENGINE_ENTRY = new URL("engine/mod.ts", ROOT).pathname;

/**
 * A running engine process. Its stderr is kept; `kill` always awaits its
 * status and drains its output, so sanitizers see nothing left behind.
 *
 * @example
 * ```ts
 * import { startHandEngine } from "./hand_engine.ts";
 * const engine = startHandEngine(["--connect", "127.0.0.1:5555"], { TROUPE_KEY: "k" });
 * await engine.kill();
 * ```
 */
export interface HandEngine {
  /** Its process id. */
  pid: number;
  /** What it has written to stderr so far. */
  stderr(): string;
  /** Resolves once its stderr matches `re`; fails naming `what` after `ms`. */
  waitForStderr(re: RegExp, what: string, ms?: number): Promise<void>;
  /** Resolves with its status once it exited on its own (streams drained). */
  exited(ms?: number): Promise<Deno.CommandStatus>;
  /** Kills it (if still running), awaits its status and drains its output. */
  kill(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/**
 * Starts `deno run -A engine/mod.ts ...args` with `env` added to its
 * environment (`TROUPE_KEY` keeps the key off the command line).
 *
 * @example
 * ```ts
 * import { startHandEngine } from "./hand_engine.ts";
 * async function joinOnce(port: number, key: string): Promise<void> {
 *   const engine = startHandEngine(["--connect", `127.0.0.1:${port}`], {
 *     TROUPE_KEY: key,
 *   });
 *   await engine.waitForStderr(/registered/, "registration");
 *   await engine.kill();
 * }
 * ```
 */
export function startHandEngine(
  args: string[],
  env: Record<string, string> = {},
): HandEngine {
  return startDenoScript(ENGINE_ENTRY, args, env);
}

/**
 * Starts `deno run -A <entry> ...args` with the checkout's config and `env`
 * added to its environment: an engine, or a client script a test kills
 * (tests/fixtures/controller/). Same handle as an engine started by hand.
 *
 * @example
 * ```ts
 * import { startDenoScript } from "./hand_engine.ts";
 * async function runAndKill(entry: string): Promise<void> {
 *   const script = startDenoScript(entry, ["t1"], { TROUPE_HOME: "/tmp/t" });
 *   await script.kill();
 * }
 * ```
 */
export function startDenoScript(
  entry: string,
  args: string[],
  env: Record<string, string> = {},
): HandEngine {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", CONFIG, entry, ...args],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let err = "";
  const stderrDone = (async () => {
    for await (
      const chunk of child.stderr.pipeThrough(new TextDecoderStream())
    ) err += chunk;
  })();
  const stdoutDone = new Response(child.stdout).text();
  let exited = false;
  const status = child.status.then(async (s) => {
    exited = true;
    await Promise.all([stderrDone, stdoutDone]);
    return s;
  });
  return {
    pid: child.pid,
    stderr: () => err,
    waitForStderr: (re, what, ms = 20_000) =>
      until(() => re.test(err), `engine stderr: ${what}\n${err}`, ms),
    exited: (ms = 20_000) => guard(status, "the engine process to exit", ms),
    async kill(signal: Deno.Signal = "SIGKILL") {
      if (!exited) {
        try {
          child.kill(signal);
        } catch {
          // It exited between the check and the kill.
        }
      }
      return await guard(status, "the killed engine's status", 20_000);
    },
  };
}

/**
 * Process ids of this test process's children (`pgrep -P`), ascending: the
 * engine processes its clients started, and any engine started by hand.
 *
 * @example
 * ```ts
 * import { childPids } from "./hand_engine.ts";
 * const before = await childPids();
 * console.log(`${before.length} child processes`);
 * ```
 */
export async function childPids(): Promise<number[]> {
  const { stdout } = await new Deno.Command("pgrep", {
    args: ["-P", String(Deno.pid)],
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(stdout).split(/\s+/).filter(Boolean)
    .map(Number).sort((a, b) => a - b);
}

/**
 * The pid of the process engine `id` runs in, asked of the engine itself
 * (so it names the process that runs tasks now, not one the client
 * remembers); fails after `ms`.
 *
 * @example
 * ```ts
 * import type { Client } from "../mod.ts";
 * import { childPids, pidOf } from "./hand_engine.ts";
 * async function isChild(client: Client): Promise<boolean> {
 *   return (await childPids()).includes(await pidOf(client, 0));
 * }
 * ```
 */
export function pidOf(
  client: Client,
  id: number,
  ms = 20_000,
): Promise<number> {
  return guard(
    client.view(id).applyAsync(() => Deno.pid),
    `pid of engine ${id}`,
    ms,
  ) as Promise<number>;
}
