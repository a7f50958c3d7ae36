/**
 * The dashboard's one page: plain HTML, CSS and a little JavaScript that
 * listens to `/events` (Server-Sent Events). The plots arrive as SVG drawn
 * by Vega on the server, the cluster's sparklines (metric_charts.ts) as
 * SVG too, so the page loads nothing from anywhere else.
 *
 * @module
 */

/** The page, served at `/`. */
export const DASHBOARD_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>troupe dashboard</title>
<style>
  :root { font-family: system-ui, sans-serif; color: #1d2433; background: #f6f7f9; }
  body { margin: 0 auto; max-width: 1400px; padding: 16px 24px; }
  h1 { font-size: 20px; margin: 0 0 12px; }
  h2 { font-size: 15px; margin: 20px 0 8px; color: #4a5568; }
  #status { font-size: 13px; color: #718096; margin-left: 8px; font-weight: normal; }
  table { border-collapse: collapse; background: #fff; font-size: 13px; }
  th, td { padding: 4px 12px; border-bottom: 1px solid #e2e8f0; text-align: left; }
  th { color: #4a5568; font-weight: 600; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  .state { font-weight: 600; border-radius: 4px; padding: 1px 6px; }
  .idle { background: #e6f4ea; color: #1e7b34; }
  .busy { background: #e3ecfb; color: #1d4ed8; }
  .starting { background: #fff7d6; color: #8a6d00; }
  .restarting { background: #fde2e1; color: #b42318; }
  .stopped { background: #e2e8f0; color: #4a5568; }
  #charts, #metrics { display: flex; flex-wrap: wrap; gap: 12px; }
  .metric { background: #fff; border: 1px solid #e2e8f0; border-radius: 6px; padding: 6px 8px; font-size: 12px; }
  .metric .title { color: #4a5568; }
  .metric .latest { float: right; margin-left: 12px; font-variant-numeric: tabular-nums; font-weight: 600; }
  .metric svg { display: block; margin-top: 4px; }
  .chart { background: #fff; border: 1px solid #e2e8f0; border-radius: 6px; padding: 8px; }
  .chart svg { display: block; max-width: 100%; height: auto; }
  #events { font: 12px ui-monospace, monospace; background: #fff; border: 1px solid #e2e8f0;
            padding: 8px; max-height: 180px; overflow: auto; white-space: pre-wrap; margin: 0; }
</style>
</head>
<body>
<h1>troupe <span id="status">connecting…</span></h1>
<h2>Cluster</h2>
<div id="metrics"></div>
<h2>Engines</h2>
<table id="engines">
  <thead><tr><th>id</th><th>kind</th><th>state</th><th>restarts</th>
  <th>tasks done</th><th>task</th><th>queued</th><th>heap</th><th>last death</th></tr></thead>
  <tbody></tbody>
</table>
<h2>Published data</h2>
<div id="charts"></div>
<table id="texts"><tbody></tbody></table>
<h2>Events</h2>
<pre id="events"></pre>
<script>
const $ = (id) => document.getElementById(id);
const text = (s) => String(s ?? "").replace(/[&<>"]/g, (c) =>
  ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
const mib = (bytes) =>
  bytes === undefined ? "" : (bytes / 1048576).toFixed(1) + " MiB";
function render(state) {
  $("engines").tBodies[0].innerHTML = state.engines.map((e) =>
    '<tr data-engine="' + e.engineId + '"><td class="num">' + e.engineId +
    "</td><td>" + e.kind + '</td><td><span class="state ' + e.state + '">' +
    e.state + '</span></td><td class="num">' + e.restarts +
    '</td><td class="num">' + e.tasksDone + "</td><td>" +
    text(e.currentTaskId) + '</td><td class="num">' + e.load +
    '</td><td class="num">' + mib(e.heapBytes) +
    "</td><td>" + text(e.deathReason) + "</td></tr>").join("");
  const metrics = $("metrics");
  for (const chart of state.metrics ?? []) {
    let box = metrics.querySelector('[data-key="' + chart.key + '"]');
    if (!box) {
      box = document.createElement("div");
      box.className = "metric";
      box.dataset.key = chart.key;
      metrics.append(box);
    }
    box.innerHTML = '<span class="title">' + text(chart.title) +
      '</span><span class="latest">' + text(chart.latest) + "</span>" +
      chart.svg;
  }
  const charts = $("charts");
  for (const chart of state.charts) {
    let box = charts.querySelector('[data-key="' + CSS.escape(chart.key) + '"]');
    if (!box) {
      box = document.createElement("div");
      box.className = "chart";
      box.dataset.key = chart.key;
      charts.append(box);
    }
    if (chart.svg !== undefined) box.innerHTML = chart.svg;
  }
  $("texts").tBodies[0].innerHTML = state.texts.map((t) =>
    "<tr><td>engine " + t.engineId + "</td><td>" + text(t.key) +
    "</td><td>" + text(t.text) + "</td></tr>").join("");
  $("events").textContent = state.events.join("\\n");
}
const source = new EventSource("/events");
source.addEventListener("state", (event) => {
  $("status").textContent = "live";
  render(JSON.parse(event.data));
});
source.onerror = () => { $("status").textContent = "disconnected, retrying…"; };
</script>
</body>
</html>
`;
