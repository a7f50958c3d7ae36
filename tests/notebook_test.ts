/**
 * Runs examples/publish_data.ipynb headless in Deno's Jupyter kernel
 * (`jupyter nbconvert --execute`) and checks what it shows. Skipped when
 * jupyter, nbconvert or the deno kernelspec is missing: `.ci/install_notebook.sh`
 * installs them.
 *
 * Deno 2.9's kernel now and then publishes a cell's output after the cell's
 * `status: idle` message, and nbconvert (nbclient) stops collecting a cell's
 * outputs at idle: that output is missing from the executed notebook. So the
 * checks never rest on one particular display, and a run that lacks an output
 * the checks need (but shows no error) is run again, up to four runs in all.
 */

import assert from "node:assert/strict";
import { skipUnless } from "./helpers.ts";

const root = new URL("../", import.meta.url);
const notebook = new URL("examples/publish_data.ipynb", root).pathname;
// Between one run in twenty and one in four lost an output that the checks
// need (measured on a busy 2-core machine): with four runs a false failure
// stays under one in two hundred, and most test runs need one notebook run.
const ATTEMPTS = 4;

interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
  traceback?: string[];
}

interface Cell {
  cell_type: string;
  id?: string;
  source: string | string[];
  execution_count?: number | null;
  outputs?: Output[];
}

interface Notebook {
  cells: Cell[];
}

const decoder = new TextDecoder();

/** Runs a command to its end, streams consumed; `undefined` if not on PATH. */
async function run(
  command: string,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number; stdout: string; stderr: string } | undefined> {
  try {
    const { code, stdout, stderr } = await new Deno.Command(command, {
      args,
      cwd: root,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(timeoutMs),
    }).output();
    return {
      code,
      stdout: decoder.decode(stdout),
      stderr: decoder.decode(stderr),
    };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** Why the notebook cannot run here, or `undefined` if it can. */
async function skipReason(): Promise<string | undefined> {
  const [nbconvert, kernels] = await Promise.all([
    run("jupyter", ["nbconvert", "--version"], 30_000),
    run("jupyter", ["kernelspec", "list", "--json"], 30_000),
  ]);
  if (!nbconvert || !kernels) return "jupyter is not on PATH";
  if (nbconvert.code !== 0) return "jupyter nbconvert is not installed";
  if (kernels.code !== 0) return "jupyter kernelspec list failed";
  try {
    const specs = JSON.parse(kernels.stdout).kernelspecs ?? {};
    if (!("deno" in specs)) {
      return "no deno kernelspec (run deno jupyter --install)";
    }
  } catch {
    return "jupyter kernelspec list --json printed no JSON";
  }
  return undefined;
}

const skip = skipUnless(
  "notebook_test.ts",
  await skipReason(),
  ".ci/install_notebook.sh installs what it needs",
);

const text = (value: unknown): string =>
  (Array.isArray(value) ? value.join("") : String(value ?? ""))
    // The kernel's text/plain is Deno.inspect with colours.
    // deno-lint-ignore no-control-regex
    .replace(/\x1b\[[0-9;]*m/g, "");

const sourceOf = (cell: Cell) => text(cell.source);
const codeCells = (nb: Notebook) =>
  nb.cells.filter((c) => c.cell_type === "code");
const allOutputs = (nb: Notebook) =>
  codeCells(nb).flatMap((c) => c.outputs ?? []);

/** The cell that shows `ar.data` after `publishIt`. */
const dataCell = (nb: Notebook) =>
  codeCells(nb).find((c) => /^ar\.data;?\s*$/m.test(sourceOf(c)));

/** The time steps in the titles of the plots the notebook displayed. */
function plottedSteps(nb: Notebook): number[] {
  const steps: number[] = [];
  for (const output of allOutputs(nb)) {
    const data = output.data ?? {};
    const spec = data["application/vnd.vegalite.v5+json"] as
      | { title?: string | { text?: string } }
      | undefined;
    const title = typeof spec?.title === "string"
      ? spec.title
      : spec?.title?.text ?? "";
    const svg = text(data["image/svg+xml"]);
    const found = `${title}\n${svg}`.match(/time step: (\d+)/);
    if (found) steps.push(Number(found[1]));
  }
  return steps;
}

/** The summary line of the last cell, e.g. "final step [ 9, 9, 9, 9 ]". */
const summaryLine = (nb: Notebook) =>
  allOutputs(nb)
    .filter((o) => o.output_type === "stream")
    .flatMap((o) => text(o.text).split("\n"))
    .find((line) => line.startsWith("final step"));

/** What the checks need but the run does not show (lost displays). */
function missing(nb: Notebook): string[] {
  const lost: string[] = [];
  if (!dataCell(nb)?.outputs?.length) lost.push("the ar.data output");
  if (plottedSteps(nb).length === 0) lost.push("the plot");
  if (summaryLine(nb) === undefined) lost.push("the summary line");
  return lost;
}

Deno.test({
  name: "examples/publish_data.ipynb runs headless in Deno's Jupyter kernel" +
    skip.because,
  ignore: skip.ignore,
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "troupe_notebook_" });
    try {
      let nb: Notebook | undefined;
      const ran = await t.step(
        "jupyter nbconvert --execute succeeds",
        async () => {
          for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
            const started = performance.now();
            const result = await run("jupyter", [
              "nbconvert",
              "--to",
              "notebook",
              "--execute",
              "--allow-errors",
              "--ExecutePreprocessor.timeout=120",
              "--output-dir",
              dir,
              "--output",
              "publish_data",
              notebook,
            ], 300_000);
            assert.ok(result, "jupyter vanished from PATH");
            assert.equal(
              result.code,
              0,
              `nbconvert failed:\n${result.stdout}\n${
                result.stderr.slice(-4000)
              }`,
            );
            nb = JSON.parse(
              await Deno.readTextFile(`${dir}/publish_data.ipynb`),
            ) as Notebook;
            const seconds = ((performance.now() - started) / 1000).toFixed(1);
            const lost = missing(nb);
            const errors = allOutputs(nb).some((o) =>
              o.output_type === "error"
            );
            if (lost.length === 0 || errors) {
              console.log(`notebook run ${attempt}: ${seconds} s`);
              return;
            }
            const lostText = lost.join(", ");
            console.log(
              `notebook run ${attempt}: ${seconds} s, missing ${lostText} ` +
                "(published by the kernel after its idle status)" +
                (attempt < ATTEMPTS ? "; running it again" : ""),
            );
          }
        },
      );
      if (!ran || !nb) return;
      const executed: Notebook = nb;

      await t.step("every code cell ran, with no error", () => {
        const cells = codeCells(executed);
        assert.ok(cells.length >= 8, `only ${cells.length} code cells`);
        for (const [k, cell] of cells.entries()) {
          const where = `code cell ${k + 1} (${cell.id ?? "no id"}):\n` +
            sourceOf(cell);
          assert.equal(
            typeof cell.execution_count,
            "number",
            `did not run: ${where}`,
          );
          const error = cell.outputs?.find((o) => o.output_type === "error");
          assert.ok(
            error === undefined,
            `${where}\nthrew ${error?.ename}: ` +
              text(error?.traceback?.join("\n") ?? error?.evalue),
          );
        }
      });

      await t.step('ar.data shows { a: "hi" } for each of four engines', () => {
        const cell = dataCell(executed);
        assert.ok(cell, "no cell shows ar.data");
        const shown = (cell.outputs ?? [])
          .map((o) => text(o.data?.["text/plain"] ?? o.text))
          .join("\n");
        const entries = shown.match(/\{[^{}]*\}/g) ?? [];
        assert.deepEqual(
          entries,
          Array(4).fill('{ a: "hi" }'),
          `ar.data showed: ${shown}`,
        );
      });

      await t.step("a plot titled with its time step is displayed", () => {
        const steps = plottedSteps(executed);
        assert.ok(
          steps.length > 0,
          "no output holds a Vega-Lite chart or an SVG titled with a time step",
        );
        assert.ok(
          steps.every((s) => Number.isInteger(s) && s >= 0 && s <= 9),
          `time steps out of range: ${steps}`,
        );
      });

      await t.step("the summary shows step 9 for every engine", () => {
        const line = summaryLine(executed);
        assert.ok(line, "no summary line");
        const steps = line.match(/\d+/g)?.map(Number) ?? [];
        assert.deepEqual(steps, [9, 9, 9, 9], line);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
