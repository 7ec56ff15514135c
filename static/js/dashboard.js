/* billingdash usage dashboard: draws the figures the server built (JSON in
 * <script type="application/json"> blocks made by Django's json_script) with the basic
 * plotly.js bundle (bar, pie, scatter; no eval), shows the custom dates only for a custom
 * range, and follows a running backfill. An external file on purpose: the Content-Security-Policy allows
 * script-src 'self' only (no inline code, no eval). Everything works without it except
 * the pictures: filters are a plain GET form and every chart's numbers are in a table.
 */
(function () {
  "use strict";

  var PLOT_CONFIG = {
    displaylogo: false,
    responsive: true,
    modeBarButtonsToRemove: ["lasso2d", "select2d"],
  };

  function drawCharts() {
    var charts = document.querySelectorAll("[data-plotly-figure]");
    if (!charts.length) return;
    if (!window.Plotly) {
      charts.forEach(function (el) {
        el.textContent = "The chart could not be drawn; its numbers are in the table below.";
      });
      return;
    }
    // The charts on screen now, before the page counts as loaded; the others one per
    // task once it has (drawing all five first held a cold load back by ~0.5 s).
    var later = [];
    charts.forEach(function (el) {
      if (el.getBoundingClientRect().top < window.innerHeight) draw(el);
      else later.push(el);
    });
    function drawNext() {
      if (later.length) {
        draw(later.shift());
        window.setTimeout(drawNext, 0);
      }
    }
    if (document.readyState === "complete") window.setTimeout(drawNext, 0);
    else window.addEventListener("load", function () { window.setTimeout(drawNext, 0); });
  }

  function draw(el) {
    var source = document.getElementById(el.getAttribute("data-plotly-figure"));
    if (!source) return;
    var figure;
    try {
      figure = JSON.parse(source.textContent);
    } catch (e) {
      return;
    }
    window.Plotly.newPlot(el, figure.data || [], figure.layout || {}, PLOT_CONFIG).then(
      function () {
        el.setAttribute("data-drawn", "true");
      }
    );
  }

  // Custom dates only matter for a custom range: hide (and do not submit) them otherwise.
  function setUpRange(form) {
    var select = form.querySelector("[data-range]");
    var fields = form.querySelectorAll("[data-custom-date]");
    if (!select || !fields.length) return;
    function sync() {
      var custom = select.value === "custom";
      fields.forEach(function (label) {
        label.hidden = !custom;
        var input = label.querySelector("input");
        if (input) input.disabled = !custom;
      });
    }
    select.addEventListener("change", sync);
    sync();
    // Shorter, shareable URLs: leave empty filters out of the query string.
    form.addEventListener("submit", function () {
      form.querySelectorAll("input[name], select[name]").forEach(function (field) {
        if (!field.value) field.disabled = true;
      });
    });
  }

  // A backfill is running and nothing is stored yet: poll the progress endpoint and
  // reload when a month arrives or the backfill ends.
  function followProgress(section) {
    var url = section.getAttribute("data-progress-url");
    var text = section.querySelector("[data-status-sentence]");
    var box = section.querySelector("[data-org-state]");
    var startState = box ? box.getAttribute("data-org-state") : "";
    var bar = section.querySelector("[data-progress-bar]");
    var startDone = bar ? parseInt(bar.getAttribute("data-progress-done") || "0", 10) : 0;
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        })
        .then(function (p) {
          if (bar && p.months_total) {
            bar.max = p.months_total;
            bar.value = p.months_done;
          }
          // The sentence comes from the one source of truth (usage.reporting.status).
          if (text && p.status && p.status.sentence) text.textContent = p.status.sentence;
          var moved = p.status && startState && p.status.state !== startState;
          if (p.finished || moved || (p.months_done || 0) > startDone) {
            window.location.reload();
            return;
          }
          window.setTimeout(poll, 5000);
        })
        .catch(function () {
          window.setTimeout(poll, 15000);
        });
    }
    window.setTimeout(poll, 3000);
  }

  drawCharts();
  document.querySelectorAll("form.filters").forEach(setUpRange);
  document.querySelectorAll("[data-progress-url]").forEach(followProgress);
})();
