/* billingdash operations page: the "Workers answering" card and the workers' names, from
 * /staff/ops/workers.json (a ping waits its whole 1 s timeout; the page does not wait for
 * it). External file on purpose: the CSP allows script-src 'self' only.
 */
(function () {
  "use strict";
  var card = document.querySelector("[data-workers-url]");
  var count = document.querySelector("[data-workers-count]");
  if (!card || !count) return; // broker unavailable: the page already says so
  var badge = document.querySelector("[data-workers-badge]");
  var list = document.querySelector("[data-workers-list]");
  var none = document.querySelector("template[data-workers-none]");

  function mono(text) {
    var span = document.createElement("span");
    span.className = "mono";
    span.textContent = text;
    return span;
  }

  function show(data) {
    if (!data.ok) {
      count.textContent = "?";
      badge.className = "badge bad";
      badge.textContent = "broker unavailable";
      list.textContent = "The broker did not answer the ping: " + (data.error || "unknown error") + ".";
      return;
    }
    var workers = data.workers || [];
    count.textContent = String(workers.length);
    badge.className = workers.length ? "badge ok" : "badge bad";
    badge.textContent = workers.length ? "answering" : "none answered in 1 s";
    list.textContent = "";
    if (!workers.length) {
      list.appendChild(none.content.cloneNode(true));
      return;
    }
    list.appendChild(document.createTextNode("Workers that answered a ping: "));
    workers.forEach(function (name, i) {
      if (i) list.appendChild(document.createTextNode(", "));
      list.appendChild(mono(name));
    });
    list.appendChild(document.createTextNode("."));
  }

  fetch(card.getAttribute("data-workers-url"), {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  })
    .then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    })
    .then(show, function (error) {
      count.textContent = "?";
      badge.className = "badge bad";
      badge.textContent = "could not ask";
      list.textContent = "Could not ask the workers (" + error.message + "): reload the page.";
    });
  card.setAttribute("data-workers-asked", "true");
})();
