/* billingdash install wizard: copy-to-clipboard and the first collection's progress.
 * External file on purpose: the CSP allows script-src 'self' only (no inline code).
 */
(function () {
  "use strict";

  // --- copy the request message to the clipboard -------------------------------------
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return Promise.reject(new Error("no clipboard"));
  }

  function setUpCopy(button) {
    var target = document.getElementById(button.getAttribute("data-copy-target"));
    var status = button.parentNode.querySelector("[data-copy-status]");
    if (!target) return;
    button.addEventListener("click", function () {
      var text = target.value !== undefined ? target.value : target.textContent;
      copyText(text).then(
        function () {
          if (status) status.textContent = "Copied. Paste it into a message to an owner.";
        },
        function () {
          // No clipboard API (plain http, old browser): select it for Ctrl+C / Cmd+C.
          target.focus();
          if (target.select) target.select();
          var copied = false;
          try {
            copied = document.execCommand("copy");
          } catch (e) {
            copied = false;
          }
          if (status) {
            status.textContent = copied
              ? "Copied. Paste it into a message to an owner."
              : "Selected: press Ctrl+C (or Cmd+C) to copy.";
          }
        }
      );
    });
  }

  // --- progress of the first collection ----------------------------------------------
  var FIRST_DELAY = 1000;
  var MAX_DELAY = 15000;
  var MAX_FAILURES = 6;

  function setText(root, selector, text) {
    var el = root.querySelector(selector);
    if (el) el.textContent = text;
  }

  function number(n) {
    return Number(n || 0).toLocaleString();
  }

  function Poller(root) {
    this.root = root;
    this.url = root.getAttribute("data-progress-url");
    this.delay = FIRST_DELAY;
    this.failures = 0;
    this.lastSeen = null;
    this.sawRunning = false;
    this.stopped = false;
  }

  Poller.prototype.stop = function (message, isError) {
    this.stopped = true;
    this.root.setAttribute("data-progress-state", isError ? "error" : "stopped");
    if (message) {
      var box = this.root.querySelector("[data-progress-error]");
      if (box) {
        box.textContent = message;
        box.hidden = false;
        if (!isError) box.className = "message warning";
      }
    }
  };

  Poller.prototype.schedule = function (changed) {
    if (this.stopped) return;
    // Back off while nothing changes (and after failures); quick again on news.
    this.delay = changed ? FIRST_DELAY : Math.min(MAX_DELAY, Math.round(this.delay * 1.6));
    var self = this;
    window.setTimeout(function () { self.poll(); }, this.delay);
  };

  Poller.prototype.show = function (data) {
    var root = this.root;
    var bar = root.querySelector("[data-progress-bar]");
    var total = data.months_total || 0;
    if (bar && total > 0) {
      bar.max = total;
      bar.value = data.months_done || 0;
    }
    setText(root, "[data-progress-months]", total ? data.months_done + " of " + total : "starting…");
    setText(root, "[data-progress-items]", number(data.items));
    setText(root, "[data-progress-errors]", String(data.errors || 0));
    var status;
    if (data.finished) {
      status = data.errors
        ? "Finished, but " + data.errors + " month(s) could not be collected."
        : "Done: " + data.months_done + " months collected.";
    } else if (!total) {
      status = "Waiting for the first collection to start…";
    } else {
      status = "Collecting: " + data.months_done + " of " + total + " months so far.";
    }
    setText(root, "[data-progress-status]", status);
    var open = root.querySelector("[data-progress-open]");
    if (open) {
      open.href = data.dashboard_url || open.href;
      open.hidden = !data.has_data;
      if (data.has_data) open.classList.add("primary");
    }
    root.setAttribute("data-months-done", String(data.months_done || 0));
  };

  Poller.prototype.handle = function (data) {
    var seen = [data.months_done, data.items, data.errors, data.finished].join("/");
    var changed = seen !== this.lastSeen;
    this.lastSeen = seen;
    this.show(data);
    var installation = data.installation || {};
    if (installation.state && installation.state !== "active") {
      this.stop(installation.words || "billingdash can no longer read this organization's billing.", true);
      return;
    }
    if (data.running) this.sawRunning = true;
    if (data.finished) {
      if (data.errors) {
        this.stop(
          "Some months could not be collected. Last error: " +
            String(data.last_error || "unknown").replace(/[.\s]+$/, "") +
            ". billingdash tries again on its own schedule; the dashboard shows what was collected.",
          true
        );
      } else if (data.has_data && this.sawRunning && data.dashboard_url) {
        this.stop("");
        this.root.setAttribute("data-progress-state", "done");
        setText(this.root, "[data-progress-status]", "Done. Opening the dashboard…");
        window.location.assign(data.dashboard_url);
      } else {
        this.stop("");
        this.root.setAttribute("data-progress-state", "done");
      }
      return;
    }
    this.schedule(changed);
  };

  Poller.prototype.fail = function (message, final) {
    this.failures += 1;
    if (final || this.failures >= MAX_FAILURES) {
      this.stop(message, true);
      return;
    }
    setText(this.root, "[data-progress-status]", "Could not check the progress; trying again…");
    this.schedule(false);
  };

  Poller.prototype.poll = function () {
    var self = this;
    if (self.stopped) return;
    fetch(self.url, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      cache: "no-store",
      redirect: "error"
    })
      .then(function (response) {
        if (response.status === 404) {
          self.fail("You no longer have access to this organization's billing.", true);
          return null;
        }
        if (!response.ok) {
          self.fail("billingdash did not answer (HTTP " + response.status + "). Reload the page to try again.");
          return null;
        }
        return response.json();
      })
      .then(function (data) {
        if (data) {
          self.failures = 0;
          self.handle(data);
        }
      })
      .catch(function () {
        // A redirect means the session ended (sign-in page); anything else is the network.
        self.fail("Lost contact with billingdash (signed out, or offline). Reload the page to continue.");
      });
  };

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-copy-target]"), setUpCopy);
    var root = document.querySelector("[data-progress-url]");
    if (root && window.fetch) new Poller(root).poll();
  });
})();
