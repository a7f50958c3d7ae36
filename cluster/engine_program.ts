/**
 * The one home of an engine process's `deno` arguments, for `processes`
 * and for every launcher: `run`, its permissions (`-A`, or the sandbox's
 * flags), the engine module and what the engine is told on its command
 * line (nothing secret).
 *
 * @module
 */

import { join } from "node:path";
import type { EnginePermissions } from "../protocol/engine_permissions.ts";
import { troupeHome } from "../protocol/troupe_home.ts";
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
      imports: entry.protocol === "file:" ? [] : [
        `${entry.hostname}:${
          entry.port || (entry.protocol === "http:" ? 80 : 443)
        }`,
      ],
      start: program.start,
      protect: protectedFolders(entry),
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

/**
 * troupe's folders on this host that a broad grant must not reach (see
 * `EngineProgramNeeds.protect`). On another host (ssh, Slurm) they are
 * where they are here when its home is shared, as on most clusters.
 */
function protectedFolders(entry: URL): { read: string[]; write: string[] } {
  const env = (name: string) => Deno.env.get(name) || undefined;
  const home = env("HOME");
  let troupe: string | undefined;
  try {
    troupe = troupeHome();
  } catch {
    // No HOME nor TROUPE_HOME: nothing of troupe's to protect here.
  }
  // Where Deno 2 keeps its cache on Linux (DENO_DIR wins).
  const cache = env("XDG_CACHE_HOME") ?? (home && join(home, ".cache"));
  const denoDir = env("DENO_DIR") ?? (cache && join(cache, "deno"));
  const read = troupe
    ? [join(troupe, "clusters"), join(troupe, "secrets")]
    : [];
  const write = [
    ...(entry.protocol === "file:"
      ? [decodeURIComponent(new URL("../", entry).pathname)]
      : []),
    ...(troupe ? [troupe] : []),
    ...(denoDir ? [denoDir] : []),
  ];
  return { read, write };
}

/**
 * The variables Deno itself reads to run an engine (its cache, registries,
 * proxies, certificates, colours): a local sandboxed engine process gets
 * only these of the client's environment, and those `permissions.env`
 * grants (all when `true`), so a task cannot find the client's secrets
 * there. A name, or a `PREFIX*`. README's list is checked against it
 * (cluster/engine_program_test.ts).
 *
 * @example
 * ```ts
 * import { SANDBOX_KEPT_ENV } from "./engine_program.ts";
 * console.log(SANDBOX_KEPT_ENV.includes("NODE_EXTRA_CA_CERTS")); // true
 * ```
 */
export const SANDBOX_KEPT_ENV: readonly string[] = [
  // Deno's own (DENO_DIR, DENO_AUTH_TOKENS, DENO_CERT, DENO_V8_FLAGS,
  // DENO_TRACE_PERMISSIONS, ...): a task without `env` cannot read them.
  "DENO_*",
  "PATH",
  "HOME",
  "TMPDIR",
  "XDG_CACHE_HOME",
  "NO_COLOR",
  "JSR_URL",
  "NPM_CONFIG_REGISTRY",
  "NODE_EXTRA_CA_CERTS",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "TZ",
  "LANG",
  "LC_ALL",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
];

/**
 * The environment of a local engine process: `undefined` (the client's
 * whole environment, as before) unless it is sandboxed; then only what
 * Deno needs to run and what `permissions.env` grants (a name, or a
 * `PREFIX*`).
 *
 * @example
 * ```ts
 * import { engineProgramEnv } from "./engine_program.ts";
 * console.log(engineProgramEnv(undefined)); // undefined
 * Deno.env.set("MY_SECRET", "s");
 * console.log("MY_SECRET" in engineProgramEnv({})!); // false
 * console.log(engineProgramEnv({ env: ["MY_*"] })!.MY_SECRET); // s
 * Deno.env.delete("MY_SECRET");
 * ```
 */
export function engineProgramEnv(
  permissions: EnginePermissions | undefined,
): Record<string, string> | undefined {
  if (!permissions) return undefined;
  const grant = permissions.env;
  const matches = (names: readonly string[], name: string) =>
    names.some((given) =>
      given === name ||
      (given.endsWith("*") && name.startsWith(given.slice(0, -1)))
    );
  const granted = (name: string) =>
    grant === true || matches(SANDBOX_KEPT_ENV, name) ||
    (Array.isArray(grant) && matches(grant, name));
  return Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([name]) => granted(name)),
  );
}
