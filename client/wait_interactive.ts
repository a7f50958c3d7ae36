/**
 * `ar.waitInteractive()`: waits for a result while showing its progress, as
 * ipyparallel's `wait_interactive()` does: a bar redrawn in place on a
 * terminal, one display updated in place in a Deno notebook, a plain line
 * now and then anywhere else (a log, a pipe).
 *
 * @module
 */

import { checkOptions, type OptionNames } from "./options.ts";
import { duration } from "./async_result_display.ts";

/**
 * The options of `ar.waitInteractive()`.
 *
 * @example
 * ```ts
 * import type { WaitInteractiveOptions } from "@troupe/parallel";
 * const options: WaitInteractiveOptions = { timeoutMs: 60_000, intervalMs: 500 };
 * ```
 */
export interface WaitInteractiveOptions {
  /**
   * Stops waiting after this many ms: it resolves `false`, and the tasks
   * keep running. Default: no bound.
   */
  timeoutMs?: number;
  /** How often the progress is redrawn, in ms. Default: 250. */
  intervalMs?: number;
}

const WAIT_INTERACTIVE_OPTIONS: OptionNames<WaitInteractiveOptions> = {
  timeoutMs: true,
  intervalMs: true,
};

const DEFAULT_INTERVAL_MS = 250;
/** A log gets a line this often at most: every redraw would flood it. */
const PLAIN_EVERY_MS = 5000;
const BAR_WIDTH = 30;

/** What `waitInteractive` reads of a result: `AsyncResult` is one. */
export interface ProgressSource {
  /** How many have finished (tasks, or a map's items). */
  readonly progress: number;
  /** Milliseconds since submission, frozen once done. */
  readonly elapsed: number;
  /** Resolves `true` once done, `false` if `timeoutMs` passes first. */
  wait(timeoutMs?: number): Promise<boolean>;
  /** Whether every task has finished. */
  ready(): boolean;
}

/** Where the progress is shown: a terminal, a notebook, or a log. */
interface ProgressView {
  draw(progress: Progress, final: boolean): void | Promise<void>;
}

/** One picture of the progress. */
interface Progress {
  done: number;
  total: number;
  unit: string;
  elapsed: number;
}

/**
 * Waits for `result` as `wait(timeoutMs)` does (resolving `true` once done,
 * `false` if `timeoutMs` passes first) while showing its progress out of
 * `total` (`unit`s: tasks, or a map's items) every `intervalMs`. Shown: in
 * Deno's Jupyter kernel one display, updated in place; on a terminal
 * (stderr) a bar redrawn in place, ended with a newline; elsewhere a line
 * every 5 s at most, and one at the end. Throws a `TypeError` or
 * `RangeError` for a bad option.
 *
 * @example
 * ```ts
 * import { waitInteractive } from "./wait_interactive.ts";
 * const done = { progress: 2, elapsed: 12, wait: async () => true, ready: () => true };
 * console.log(await waitInteractive(done, 2, "tasks")); // true
 * ```
 */
export async function waitInteractive(
  result: ProgressSource,
  total: number,
  unit: string,
  options: WaitInteractiveOptions = {},
): Promise<boolean> {
  const { timeoutMs, intervalMs } = checkWaitOptions(options);
  const view = progressView();
  const picture = (): Progress => ({
    done: result.progress,
    total,
    unit,
    elapsed: result.elapsed,
  });
  const started = performance.now();
  let done = result.ready();
  if (!done) await view.draw(picture(), false);
  while (!done) {
    const left = timeoutMs - (performance.now() - started);
    if (left <= 0) break;
    done = await result.wait(Math.min(intervalMs, left));
    if (!done) await view.draw(picture(), false);
  }
  await view.draw(picture(), true);
  return done;
}

function checkWaitOptions(
  options: WaitInteractiveOptions,
): Required<WaitInteractiveOptions> {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      "waitInteractive takes an options object such as { timeoutMs: 60000 }, " +
        `not ${Deno.inspect(options)}`,
    );
  }
  checkOptions("waitInteractive options", options, WAIT_INTERACTIVE_OPTIONS);
  const { timeoutMs = Infinity, intervalMs = DEFAULT_INTERVAL_MS } = options;
  if (typeof timeoutMs !== "number" || !(timeoutMs >= 0)) {
    throw new RangeError(
      "waitInteractive's timeoutMs must be a number of ms, 0 or more, not " +
        Deno.inspect(timeoutMs),
    );
  }
  if (
    typeof intervalMs !== "number" || !(intervalMs > 0) ||
    !Number.isFinite(intervalMs)
  ) {
    throw new RangeError(
      "waitInteractive's intervalMs must be a positive number of ms, not " +
        Deno.inspect(intervalMs),
    );
  }
  return { timeoutMs, intervalMs };
}

/** The view that fits where this runs. */
function progressView(): ProgressView {
  const jupyter = notebook();
  if (jupyter) return notebookView(jupyter);
  if (Deno.stderr.isTerminal()) return terminalView();
  return plainView();
}

/** Deno's Jupyter API, in Deno's kernel only (elsewhere it throws). */
function notebook(): typeof Deno.jupyter | undefined {
  try {
    return Deno.jupyter;
  } catch {
    return undefined;
  }
}

/** `3/10 tasks done, 1.2 s`. */
function counts(p: Progress): string {
  return `${p.done}/${p.total} ${p.unit} done, ${duration(p.elapsed)}`;
}

/** `[█████░░░░░]  50%`. */
function bar(p: Progress): string {
  const share = p.total === 0 ? 1 : Math.min(1, p.done / p.total);
  const filled = Math.round(share * BAR_WIDTH);
  const percent = `${Math.floor(share * 100)}%`.padStart(4);
  return `[${"█".repeat(filled)}${"░".repeat(BAR_WIDTH - filled)}] ${percent}`;
}

function writeStderr(text: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(text));
}

function terminalView(): ProgressView {
  return {
    draw(p, final) {
      // A line wider than the terminal would wrap, and `\r` would redraw
      // only its last row. A terminal that tells no width says 0.
      const columns = terminalColumns();
      let line = `${bar(p)} ${counts(p)}`;
      if (columns > 1 && line.length >= columns) {
        line = line.slice(0, columns - 1);
      }
      // `\r` back to the line's start, then the line, then erase what a
      // longer line before it left.
      writeStderr(`\r${line}\x1b[K${final ? "\n" : ""}`);
    },
  };
}

function terminalColumns(): number {
  try {
    return Deno.consoleSize().columns;
  } catch {
    return 0;
  }
}

function plainView(): ProgressView {
  let last = performance.now();
  return {
    draw(p, final) {
      if (!final && performance.now() - last < PLAIN_EVERY_MS) return;
      last = performance.now();
      writeStderr(`${counts(p)}\n`);
    },
  };
}

function notebookView(jupyter: typeof Deno.jupyter): ProgressView {
  // One display, made by the first draw and updated by the others.
  const transient = { display_id: `troupe-progress-${crypto.randomUUID()}` };
  let kind = "display_data";
  return {
    async draw(p) {
      const text = counts(p);
      const html = `<div><progress value="${p.done}" max="${p.total}" ` +
        `style="width:20em"></progress> ${text}</div>`;
      await jupyter.broadcast(kind, {
        data: { "text/plain": `${bar(p)} ${text}`, "text/html": html },
        metadata: {},
        transient,
      });
      kind = "update_display_data";
    },
  };
}
