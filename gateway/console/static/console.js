/* medbro console: the little script the pages need (no inline scripts: the CSP forbids them).
   - every htmx request carries the session's CSRF token (X-CSRF-Token);
   - the SLA page draws its chart from the JSON the server put in the page. */
(function () {
  "use strict";
  document.addEventListener("htmx:configRequest", function (event) {
    var token = document.body.dataset.csrf;
    if (token) { event.detail.headers["X-CSRF-Token"] = token; }
  });

  function slaChart() {
    var canvas = document.getElementById("sla-chart");
    var source = document.getElementById("sla-chart-data");
    if (!canvas || !source || typeof Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var goal = function (value) { return data.months.map(function () { return value; }); };
    new Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [
          { label: data.text.within_1, data: data.within_1, borderColor: "#0b4f7c", backgroundColor: "#0b4f7c", pointRadius: 4, spanGaps: true },
          { label: data.text.within_3, data: data.within_3, borderColor: "#b35900", backgroundColor: "#b35900", pointRadius: 4, pointStyle: "rect", spanGaps: true },
          { label: data.text.goal_1, data: goal(data.goal_1), borderColor: "#0b4f7c", borderDash: [6, 4], pointRadius: 0, borderWidth: 1.5 },
          { label: data.text.goal_3, data: goal(data.goal_3), borderColor: "#b35900", borderDash: [2, 3], pointRadius: 0, borderWidth: 1.5 }
        ]
      },
      options: {
        animation: false,
        locale: "da-DK",
        maintainAspectRatio: false,
        scales: { y: { min: 0, max: 100, title: { display: true, text: data.text.axis } } },
        plugins: { legend: { position: "bottom" } }
      }
    });
  }
  document.addEventListener("DOMContentLoaded", slaChart);
})();
