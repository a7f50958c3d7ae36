/**
 * A controller's log: lines stamped with the time, on stderr. A detached
 * controller's stderr is its log file (`troupe start` opens it for it), so
 * that the engine processes it starts, which inherit its stderr, and deno
 * itself (an error that ends the process) write there too.
 *
 * @module
 */

/**
 * Writes `line` to stderr after the time, as one write (lines of engines
 * that share the stream do not cut into it).
 *
 * @example
 * ```ts
 * import { logLine } from "./controller_log.ts";
 * logLine("controller sim is ready"); // 2026-12-01T16:00:00.000Z controller sim is ready
 * ```
 */
export function logLine(line: string): void {
  const bytes = new TextEncoder().encode(
    `${new Date().toISOString()} ${line}\n`,
  );
  // Synchronous: the lines of a controller about to exit must be out
  // before it does.
  for (let at = 0; at < bytes.byteLength;) {
    at += Deno.stderr.writeSync(bytes.subarray(at));
  }
}
