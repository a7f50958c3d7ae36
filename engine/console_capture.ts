/**
 * What tasks print goes to the client (`ar.stdout`, `ar.stderr`); output
 * outside a task goes where it always went.
 *
 * @module
 */

/** Where captured lines go: `write` returns `false` outside a task. */
export interface ConsoleSink {
  /** Sends `text` as the running task's output; `false` if none runs. */
  write(name: "stdout" | "stderr", text: string): boolean;
}

const CONSOLE_STREAMS = {
  log: "stdout",
  info: "stdout",
  debug: "stdout",
  warn: "stderr",
  error: "stderr",
} as const;

/**
 * Routes `console.log`, `info` and `debug` to stdout and `warn` and `error`
 * to stderr of the running task, through `sink`; once per engine thread.
 *
 * @example
 * ```ts
 * import { captureConsole } from "./console_capture.ts";
 * // On an engine's task thread, once:
 * captureConsole({ write: (_name, _text) => false }); // no task: printed as before
 * console.log("hello");
 * ```
 */
export function captureConsole(sink: ConsoleSink): void {
  for (const [method, stream] of Object.entries(CONSOLE_STREAMS)) {
    const original = console[method as keyof typeof CONSOLE_STREAMS];
    console[method as keyof typeof CONSOLE_STREAMS] = (...args: unknown[]) => {
      if (!sink.write(stream, formatLine(args))) original(...args);
    };
  }
}

function formatLine(args: unknown[]): string {
  return args.map((arg) =>
    typeof arg === "string" ? arg : Deno.inspect(arg, { colors: false })
  ).join(" ") + "\n";
}
