/**
 * What `ar.displayOutputs()` prints: each task's stdout and stderr under an
 * `[stdout:0]` header, as ipyparallel's `display_outputs()` prints them.
 *
 * @module
 */

import { checkOptions, type OptionNames } from "./options.ts";

/**
 * How `displayOutputs` orders what it prints: `"engine"` (each task's
 * stdout then its stderr, task by task) or `"type"` (every task's stdout,
 * then every task's stderr: ipyparallel's default).
 *
 * @example
 * ```ts
 * import type { OutputGrouping } from "@troupe/parallel";
 * const grouping: OutputGrouping = "engine";
 * ```
 */
export type OutputGrouping = "engine" | "type";

/**
 * The options of `ar.displayOutputs()`.
 *
 * @example
 * ```ts
 * import type { DisplayOutputsOptions } from "@troupe/parallel";
 * const options: DisplayOutputsOptions = { groupBy: "type" };
 * ```
 */
export interface DisplayOutputsOptions {
  /** `"engine"` (the default) or `"type"`: see {@linkcode OutputGrouping}. */
  groupBy?: OutputGrouping;
}

const DISPLAY_OUTPUTS_OPTIONS: OptionNames<DisplayOutputsOptions> = {
  groupBy: true,
};

/** What is printed of one task: a task record is one. */
export interface TaskOutput {
  /** The engine it ran on, for the header. */
  engineId: number;
  /** What it printed to stdout. */
  stdout: string;
  /** What it printed to stderr. */
  stderr: string;
}

/** One block to print: its stream, and its text with its header. */
export interface OutputBlock {
  /** Where it goes: stdout (`console.log`) or stderr (`console.error`). */
  name: "stdout" | "stderr";
  /** The header and the text, without a last newline. */
  text: string;
}

/**
 * The blocks `displayOutputs` prints, in order: a task's text under
 * `[stdout:<engine>] ` (on a line of its own before text of several lines),
 * nothing for a stream a task left empty; a single-engine result's text has
 * no header, as in ipyparallel. Throws a `TypeError` for an unknown option
 * or grouping.
 *
 * @example
 * ```ts
 * import { outputBlocks } from "./result_outputs.ts";
 * const blocks = outputBlocks([
 *   { engineId: 0, stdout: "hi\n", stderr: "" },
 *   { engineId: 1, stdout: "a\nb\n", stderr: "oops\n" },
 * ], false);
 * console.log(blocks.map((b) => b.text).join("\n"));
 * // [stdout:0] hi
 * // [stdout:1]
 * // a
 * // b
 * // [stderr:1] oops
 * ```
 */
export function outputBlocks(
  tasks: readonly TaskOutput[],
  single: boolean,
  options: DisplayOutputsOptions = {},
): OutputBlock[] {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `displayOutputs takes an options object such as { groupBy: "type" }, ` +
        `not ${Deno.inspect(options)}`,
    );
  }
  checkOptions("displayOutputs options", options, DISPLAY_OUTPUTS_OPTIONS);
  const { groupBy = "engine" } = options;
  if (groupBy !== "engine" && groupBy !== "type") {
    throw new TypeError(
      `displayOutputs' groupBy must be "engine" or "type", not ` +
        `${JSON.stringify(groupBy)}`,
    );
  }
  const blocks: OutputBlock[] = [];
  const add = (task: TaskOutput, name: OutputBlock["name"]) => {
    const text = task[name];
    if (!text) return;
    const body = text.endsWith("\n") ? text.slice(0, -1) : text;
    if (single) return void blocks.push({ name, text: body });
    // ipyparallel's rule: text of several lines starts on the next line.
    const several = body.includes("\n") && !body.startsWith("\n");
    const header = `[${name}:${task.engineId}]${several ? "\n" : " "}`;
    blocks.push({ name, text: header + body });
  };
  if (groupBy === "engine") {
    for (const task of tasks) {
      add(task, "stdout");
      add(task, "stderr");
    }
  } else {
    for (const task of tasks) add(task, "stdout");
    for (const task of tasks) add(task, "stderr");
  }
  return blocks;
}

/**
 * Prints `blocks`: stdout's with `console.log`, stderr's with
 * `console.error`, so that a Deno notebook shows them as the cell's output.
 *
 * @example
 * ```ts
 * import { printBlocks } from "./result_outputs.ts";
 * printBlocks([{ name: "stdout", text: "[stdout:0] hi" }]); // [stdout:0] hi
 * ```
 */
export function printBlocks(blocks: readonly OutputBlock[]): void {
  // "%s": the text is the tasks', and a "%o" in it is no format directive.
  for (const { name, text } of blocks) {
    if (name === "stdout") console.log("%s", text);
    else console.error("%s", text);
  }
}
