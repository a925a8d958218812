// The year view's chart of monthly credits and net, from the JSON the page embeds.
(function () {
  const source = document.getElementById("credits-data");
  const canvas = document.getElementById("credits-chart");
  if (!source || !canvas || typeof Chart === "undefined") {
    return;
  }
  const data = JSON.parse(source.textContent);
  const locale = document.documentElement.lang || "en";
  const money = new Intl.NumberFormat(locale, { style: "currency", currency: data.currency });
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [
        { label: data.creditsLabel, data: data.credits, backgroundColor: "rgba(220, 53, 69, 0.7)" },
        { label: data.netLabel, data: data.net, type: "line", borderColor: "rgb(13, 110, 253)", backgroundColor: "rgb(13, 110, 253)" },
      ],
    },
    options: {
      maintainAspectRatio: false,
      animation: false,
      scales: { y: { ticks: { callback: (value) => money.format(value) } } },
      plugins: { tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${money.format(item.parsed.y)}` } } },
    },
  });
})();
