// The meeting dashboard's trend charts: one per service level, measured value against target,
// from the JSON the page embeds next to each canvas.
(function () {
  if (typeof Chart === "undefined") {
    return;
  }
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
      options: { maintainAspectRatio: false, animation: false },
    });
  });
})();
