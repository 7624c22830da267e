// Report charts: bars of offered / answered / abandoned per row and the service level as a line,
// drawn by the vendored Chart.js (static/vendor/chartjs) from the numbers the table shows.
// Labels come translated from the page (json_script).
import { strings } from "./i18n.js";

const COLORS = ["#3b6fd8", "#2e9d5b", "#d8573b", "#8a5cc2"];

function draw() {
  const canvas = document.getElementById("report-canvas");
  const data = strings("report-chart");
  if (!canvas || !window.Chart || !data.labels) return;
  const datasets = data.series.map((series, index) => ({
    type: "bar",
    label: series.label,
    data: series.data,
    backgroundColor: COLORS[index % COLORS.length],
    yAxisID: "count",
  }));
  const scales = { count: { type: "linear", position: "left", beginAtZero: true } };
  if (data.line) {
    datasets.push({
      type: "line",
      label: data.line.label,
      data: data.line.data,
      borderColor: COLORS[3],
      backgroundColor: COLORS[3],
      yAxisID: "percent",
      spanGaps: true,
    });
    scales.percent = { type: "linear", position: "right", min: 0, max: 100, grid: { drawOnChartArea: false } };
  }
  const chart = new window.Chart(canvas, {
    data: { labels: data.labels, datasets },
    options: { responsive: true, maintainAspectRatio: false, animation: false, scales },
  });
  canvas.dataset.chartReady = String(chart.data.datasets.length);
}

draw();
