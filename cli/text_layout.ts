/**
 * Laying text out for a terminal: words wrapped under a hanging indent (the
 * usages), rows in aligned columns (list, engines).
 *
 * @module
 */

/**
 * `text` in lines of at most `columns`, the later ones indented by
 * `indent` spaces (to sit under the first one's text in a usage).
 *
 * @example
 * ```ts
 * import { wrap } from "./text_layout.ts";
 * console.log(wrap("one two three", 7, 2)); // "one two\n  three"
 * ```
 */
export function wrap(text: string, columns: number, indent: number): string {
  const lines = [""];
  for (const word of text.split(" ")) {
    const line = lines[lines.length - 1];
    if (line && line.length + 1 + word.length > columns) lines.push(word);
    else lines[lines.length - 1] = line ? `${line} ${word}` : word;
  }
  return lines.join(`\n${" ".repeat(indent)}`);
}

/**
 * `rows` under `header` in columns as wide as their widest cell, two
 * spaces apart, without trailing spaces.
 *
 * @example
 * ```ts
 * import { table } from "./text_layout.ts";
 * console.log(table(["id", "pid"], [["sim", "4242"]]));
 * // id   pid
 * // sim  4242
 * ```
 */
export function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = header.map((cell, i) =>
    Math.max(cell.length, ...rows.map((row) => (row[i] ?? "").length))
  );
  return [header, ...rows].map((row) =>
    row.map((cell, i) => (cell ?? "").padEnd(widths[i])).join("  ").trimEnd()
  ).join("\n");
}
