/**
 * An engine process started as a user would from a shell
 * (`deno run -A engine/mod.ts ...`), for tests that need the real thing on
 * the other end of a socket.
 *
 * @module
 */

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
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", CONFIG, ENGINE_ENTRY, ...args],
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
