/**
 * A Prometheus server of a test's own (Debian's `prometheus`, on a free
 * port, its data in the test's folder, killed afterwards whatever
 * happens), its HTTP API's queries and bounded waits, and `promtool check
 * metrics`: what tests/prometheus_test.ts drives.
 *
 * @module
 */

import assert from "node:assert/strict";
import { until } from "./waits.ts";

/**
 * The first of `name` on PATH, or undefined.
 *
 * @example
 * ```ts ignore
 * import { onPath } from "./prometheus_rig.ts";
 * console.log(onPath("sh")); // /usr/bin/sh
 * ```
 */
export function onPath(name: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (dir && Deno.statSync(`${dir}/${name}`).isFile) {
        return `${dir}/${name}`;
      }
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/**
 * Where `prometheus` and `promtool` are on PATH (undefined when not).
 *
 * @example
 * ```ts ignore
 * import { PROMETHEUS } from "./prometheus_rig.ts";
 * console.log(PROMETHEUS); // /usr/bin/prometheus
 * ```
 */
export const PROMETHEUS: string | undefined = onPath("prometheus");
/** `promtool`'s path, as `PROMETHEUS`. */
export const PROMTOOL: string | undefined = onPath("promtool");

/** A Prometheus server of the test's own, as `withPrometheus` gives it. */
export interface Prometheus {
  /** Its HTTP API's base, e.g. `http://127.0.0.1:9090`. */
  base: string;
  /** What it said on stderr lately, for a failure's message. */
  log(): string;
}

/** A port nothing listens on now (bound, then let go). */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/**
 * Runs `prometheus` with `config` (YAML) in `dir` until `body` ends, on a
 * free port (once more on another if that one was taken meanwhile); it is
 * killed afterwards whatever happens, and its output drained.
 *
 * @example
 * ```ts ignore
 * import { withPrometheus } from "./prometheus_rig.ts";
 * await withPrometheus("/tmp/t", "scrape_configs: []\n", async ({ base }) => {
 *   console.log(base); // http://127.0.0.1:<port>
 * });
 * ```
 */
export async function withPrometheus(
  dir: string,
  config: string,
  body: (prometheus: Prometheus) => Promise<void>,
): Promise<void> {
  await Deno.writeTextFile(`${dir}/prometheus.yml`, config);
  for (let attempt = 0;; attempt++) {
    const port = freePort();
    const child = new Deno.Command(PROMETHEUS!, {
      args: [
        `--config.file=${dir}/prometheus.yml`,
        `--storage.tsdb.path=${dir}/data`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    let said = "";
    const draining = (async () => {
      for await (
        const chunk of child.stderr.pipeThrough(new TextDecoderStream())
      ) {
        said = (said + chunk).slice(-16_000);
      }
    })();
    let exited = false;
    const status = child.status.then((s) => {
      exited = true;
      return s;
    });
    const base = `http://127.0.0.1:${port}`;
    try {
      await until(
        async () => {
          if (exited) return true;
          try {
            const ready = await fetch(`${base}/-/ready`, {
              signal: AbortSignal.timeout(2_000),
            });
            await ready.body?.cancel();
            return ready.status === 200;
          } catch {
            return false;
          }
        },
        "prometheus to be ready",
        60_000,
      );
      if (exited) {
        if (attempt === 0 && /address already in use/.test(said)) continue;
        assert.fail(`prometheus exited at its start:\n${said}`);
      }
      await body({ base, log: () => said });
      return;
    } finally {
      if (!exited) child.kill("SIGTERM");
      const ended = await Promise.race([
        status.then(() => true),
        new Promise<false>((r) => {
          const t = setTimeout(() => r(false), 15_000);
          status.finally(() => clearTimeout(t));
        }),
      ]);
      if (!ended) child.kill("SIGKILL");
      await status;
      await draining;
    }
  }
}

/**
 * An instant query's result vector: each series' labels and value.
 *
 * @example
 * ```ts ignore
 * import { query } from "./prometheus_rig.ts";
 * const [done] = await query(prometheus, "sum(troupe_tasks_done_total)");
 * ```
 */
export async function query(
  prometheus: Prometheus,
  promql: string,
): Promise<{ metric: Record<string, string>; value: number }[]> {
  const answer = await fetch(
    `${prometheus.base}/api/v1/query?query=${encodeURIComponent(promql)}`,
    { signal: AbortSignal.timeout(5_000) },
  );
  const json = await answer.json();
  assert.equal(json.status, "success", JSON.stringify(json));
  return json.data.result.map(
    (r: { metric: Record<string, string>; value: [number, string] }) => ({
      metric: r.metric,
      value: Number(r.value[1]),
    }),
  );
}

/**
 * Waits (30 s at most) until `promql`'s one value is `expected`.
 *
 * @example
 * ```ts ignore
 * import { untilValue } from "./prometheus_rig.ts";
 * await untilValue(prometheus, "sum(troupe_tasks_done_total)", 6);
 * ```
 */
export async function untilValue(
  prometheus: Prometheus,
  promql: string,
  expected: number,
): Promise<void> {
  let seen: unknown = "nothing";
  try {
    await until(
      async () => {
        const result = await query(prometheus, promql);
        seen = result.map((r) => r.value);
        return result.length === 1 && result[0].value === expected;
      },
      `${promql} to be ${expected} in prometheus`,
      30_000,
    );
  } catch (error) {
    throw new Error(
      `${(error as Error).message}; last seen ${JSON.stringify(seen)}\n` +
        prometheus.log().slice(-2000),
    );
  }
}

/**
 * `promtool check metrics` of `text`: its exit code and what it said.
 *
 * @example
 * ```ts ignore
 * import { promtoolCheck } from "./prometheus_rig.ts";
 * const { code, said } = await promtoolCheck(await (await fetch(url)).text());
 * ```
 */
export async function promtoolCheck(
  text: string,
): Promise<{ code: number; said: string }> {
  const child = new Deno.Command(PROMTOOL!, {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code, said: (decode(stdout) + decode(stderr)).trim() };
}
