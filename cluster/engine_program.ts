/**
 * The one home of an engine process's `deno` arguments, for `processes`
 * and for every launcher: `run`, its permissions (`-A`, or the sandbox's
 * flags), the engine module and what the engine is told on its command
 * line (nothing secret).
 *
 * @module
 */

import type { EnginePermissions } from "../protocol/engine_permissions.ts";
import { configFor } from "../transport/tcp_link.ts";
import { type EngineStartNeeds, sandboxFlags } from "./sandbox_flags.ts";

/**
 * The folders of troupe that an engine process's task thread loads its
 * modules from: Deno asks read permission for each module a
 * `node:worker_threads` thread imports (measured, 2.9.6), unlike the main
 * module's graph. `engine/worker.ts` imports only from these
 * (`cluster/engine_program_test.ts` checks it).
 */
export const TASK_THREAD_FOLDERS: readonly string[] = [
  "engine/",
  "transport/",
  "protocol/",
];

/**
 * How to run one engine process.
 *
 * @example
 * ```ts
 * import type { EngineProgram } from "./engine_program.ts";
 * const program: EngineProgram = {
 *   entry: new URL("../engine/mod.ts", import.meta.url),
 *   connect: { hostname: "127.0.0.1", port: 4100 },
 *   maxHeapMb: 512,
 *   encrypt: false,
 * };
 * ```
 */
export interface EngineProgram {
  /** The engine module (`engine/mod.ts`). */
  entry: URL;
  /** The address it dials. */
  connect: { hostname: string; port: number };
  /** Heap limit of its task thread, in MiB. */
  maxHeapMb: number;
  /** Whether the listener seals frames (else `--allow-plain`). */
  encrypt: boolean;
  /** Run it sandboxed with these permissions; `-A` when absent. */
  permissions?: EnginePermissions;
  /** What its launcher needs it to read before joining (sandbox only). */
  start?: EngineStartNeeds;
}

/**
 * `deno`'s arguments for an engine process.
 *
 * @example
 * ```ts
 * import { engineProgramArgs } from "./engine_program.ts";
 * const args = engineProgramArgs({
 *   entry: new URL("https://jsr.io/@troupe/parallel/0.1.0/engine/mod.ts"),
 *   connect: { hostname: "127.0.0.1", port: 4100 },
 *   maxHeapMb: 512,
 *   encrypt: false,
 *   permissions: {},
 * });
 * console.log(args.slice(0, 4)); // ["run", "--no-prompt", "--allow-net=127.0.0.1:4100", "--allow-sys=hostname"]
 * ```
 */
export function engineProgramArgs(program: EngineProgram): string[] {
  const { entry, connect, permissions } = program;
  const sandbox = permissions &&
    sandboxFlags(permissions, {
      connect,
      modules: entry.protocol === "file:"
        ? TASK_THREAD_FOLDERS.map((folder) =>
          decodeURIComponent(new URL(`../${folder}`, entry).pathname)
        )
        : [],
      start: program.start,
    });
  const { hostname, port } = connect;
  return [
    "run",
    ...(sandbox ? sandbox.deno : ["-A"]),
    ...configFor(entry),
    entry.href,
    "--connect",
    `${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`,
    "--spawned",
    "--max-heap-mb",
    String(program.maxHeapMb),
    // The user asked for plain frames, off loopback too.
    ...(program.encrypt ? [] : ["--allow-plain"]),
    ...(sandbox ? sandbox.engine : []),
  ];
}
