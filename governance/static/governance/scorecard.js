// The meeting dashboard's trend charts: one per service level, measured value against target,
// from the JSON the page embeds next to each canvas (the page draws no chart for a level without data).
(function () {
  if (typeof Chart === "undefined") {
    return;
  }
  // Each legend entry is drawn as its line: solid for the measured values, dashed for the target
  // (Chart.js's default box takes the dashed border of the target for a squiggle).
  const lineSwatches = (chart) =>
    Chart.defaults.plugins.legend.labels.generateLabels(chart).map((item) => ({
      ...item,
      pointStyle: "line",
      lineWidth: 2,
      lineDash: chart.data.datasets[item.datasetIndex].borderDash || [],
    }));

  document.querySelectorAll("canvas.scorecard-chart").forEach((canvas) => {
    const source = document.getElementById(canvas.dataset.source);
    if (!source) {
      return;
    }
    const data = JSON.parse(source.textContent);
    new Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [
          { label: data.measuredLabel, data: data.measured, borderColor: "rgb(13, 110, 253)", backgroundColor: "rgb(13, 110, 253)", spanGaps: true },
          { label: data.targetLabel, data: data.target, borderColor: "rgb(220, 53, 69)", backgroundColor: "rgb(220, 53, 69)", borderDash: [6, 4], pointStyle: "rectRot", pointRadius: 4, spanGaps: true },
        ],
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { labels: { usePointStyle: true, pointStyleWidth: 32, generateLabels: lineSwatches } } },
      },
    });
  });
})();
