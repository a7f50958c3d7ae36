/**
 * Metric families in the Prometheus text exposition format 0.0.4: what a
 * Prometheus server scrapes from `/metrics`, and what `promtool check
 * metrics` accepts.
 *
 * @module
 */

import type { Labels, MetricFamily } from "./metrics.ts";

/**
 * The content type of `prometheusText`'s output, for an HTTP answer.
 *
 * @example
 * ```ts
 * import { PROMETHEUS_CONTENT_TYPE } from "./prometheus_text.ts";
 * console.log(PROMETHEUS_CONTENT_TYPE);
 * // text/plain; version=0.0.4; charset=utf-8
 * ```
 */
export const PROMETHEUS_CONTENT_TYPE =
  "text/plain; version=0.0.4; charset=utf-8";

/**
 * `families` in the Prometheus text format: a `# HELP` and `# TYPE` line
 * per family, then a line per sample (a histogram's `_bucket` lines, `+Inf`
 * included, then `_sum` and `_count`).
 *
 * @example
 * ```ts
 * import { prometheusText } from "./prometheus_text.ts";
 * console.log(prometheusText([{
 *   name: "troupe_tasks_done_total",
 *   help: "Tasks that succeeded.",
 *   type: "counter",
 *   labelNames: ["view"],
 *   samples: [{ labels: { view: "direct" }, value: 4 }],
 * }]));
 * // # HELP troupe_tasks_done_total Tasks that succeeded.
 * // # TYPE troupe_tasks_done_total counter
 * // troupe_tasks_done_total{view="direct"} 4
 * ```
 */
export function prometheusText(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`);
    lines.push(`# TYPE ${family.name} ${family.type}`);
    if (family.type === "histogram") {
      for (const sample of family.samples) {
        family.buckets.forEach((bound, i) => {
          lines.push(
            `${family.name}_bucket${labelText(sample.labels, number(bound))} ${
              number(sample.counts[i])
            }`,
          );
        });
        lines.push(
          `${family.name}_bucket${labelText(sample.labels, "+Inf")} ${
            number(sample.count)
          }`,
        );
        lines.push(
          `${family.name}_sum${labelText(sample.labels)} ${number(sample.sum)}`,
        );
        lines.push(
          `${family.name}_count${labelText(sample.labels)} ${
            number(sample.count)
          }`,
        );
      }
    } else {
      for (const sample of family.samples) {
        lines.push(
          `${family.name}${labelText(sample.labels)} ${number(sample.value)}`,
        );
      }
    }
  }
  return lines.length === 0 ? "" : lines.join("\n") + "\n";
}

/** `{a="1",b="2"}`, with `le` last for a bucket; nothing when no labels. */
function labelText(labels: Labels, le?: string): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(labels)) {
    parts.push(`${name}="${escapeLabelValue(value)}"`);
  }
  if (le !== undefined) parts.push(`le="${le}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

/** A label value escapes backslash, double quote and line feed. */
function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => c === "\n" ? "\\n" : `\\${c}`);
}

/** Help text escapes backslash and line feed (a quote is fine there). */
function escapeHelp(help: string): string {
  return help.replace(/[\\\n]/g, (c) => c === "\n" ? "\\n" : "\\\\");
}

/** Go's float syntax as Prometheus parses it: `+Inf`, `-Inf`, `NaN`. */
function number(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}
