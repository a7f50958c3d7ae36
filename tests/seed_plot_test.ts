import assert from "node:assert/strict";
import {
  type EngineSeries,
  renderSvg,
  seedPlotSpec,
} from "../examples/seed_plot.ts";

function random(n: number): Float64Array {
  return Float64Array.from({ length: n }, () => Math.random());
}

Deno.test("seed plot", async (t) => {
  await t.step(
    "renders one line per engine with title and legend",
    async () => {
      const series: EngineSeries[] = [2, 0, 1].map((engineId) => ({
        engineId,
        values: random(20),
      }));
      const svg = await renderSvg(seedPlotSpec(series, 7));
      assert.ok(svg.startsWith("<svg"), svg.slice(0, 80));
      assert.ok(svg.includes("Data published at time step: 7"));
      for (const k of [0, 1, 2]) {
        assert.ok(
          svg.includes(`engine: ${k}`),
          `${k}`,
        );
      }
      assert.ok(/<path\b/.test(svg));
    },
  );

  await t.step("orders the legend by engine number", () => {
    const spec = seedPlotSpec(
      [10, 9, 2].map((engineId) => ({ engineId, values: [1] })),
      1,
    );
    const color = (spec.encoding as { color: { scale: { domain: string[] } } })
      .color;
    assert.deepEqual(color.scale.domain, [
      "engine: 2",
      "engine: 9",
      "engine: 10",
    ]);
  });

  await t.step("keeps NaN out and stays JSON", async () => {
    const series: EngineSeries[] = [
      { engineId: 0, values: [0.5, NaN, 0.25, Infinity] },
      { engineId: 1, values: random(3) },
    ];
    const spec = seedPlotSpec(series, 3);
    assert.deepEqual(JSON.parse(JSON.stringify(spec)), spec);
    const rows = (spec.data as { values: { y: number | null }[] }).values;
    assert.deepEqual(rows.slice(0, 4).map((r) => r.y), [
      0.5,
      null,
      0.25,
      null,
    ]);
    assert.ok((await renderSvg(spec)).includes("engine: 1"));
  });

  await t.step("renders a valid plot with no data", async () => {
    for (const step of [undefined, 4]) {
      const svg = await renderSvg(seedPlotSpec([], step));
      assert.ok(svg.startsWith("<svg"));
      assert.ok(svg.includes("No data to plot yet"));
      assert.ok(!svg.includes("engine: "));
    }
    const svg = await renderSvg(
      seedPlotSpec([{ engineId: 0, values: [NaN] }], 1),
    );
    assert.ok(svg.includes("No data to plot yet"));
  });
});
