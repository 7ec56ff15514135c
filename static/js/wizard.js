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

  // States in which nothing more happens by itself soon: stop polling, say the next step.
  var SETTLED = {
    not_installed: 1, uninstalled: 1, suspended: 1, permissions_missing: 1,
    needs_attention: 1, paused: 1, not_enhanced: 1, gave_up: 1, no_usage: 1, up_to_date: 1
  };
  var STOPPED = {
    not_installed: 1, uninstalled: 1, suspended: 1, permissions_missing: 1,
    needs_attention: 1, paused: 1, not_enhanced: 1
  };

  Poller.prototype.show = function (data) {
    var root = this.root;
    var status = data.status || {};
    var pending = status.state === "collecting_backfill" || status.state === "refreshing";
    var bar = root.querySelector("[data-progress-bar]");
    var total = data.months_total || 0;
    if (bar) {
      bar.hidden = !pending;
      if (total > 0) {
        bar.max = total;
        bar.value = data.months_done || 0;
      }
    }
    // Nothing can be collected: no "0 of 24" beside the reason.
    var facts = root.querySelector("[data-progress-facts]");
    if (facts) facts.hidden = !!STOPPED[status.state];
    setText(root, "[data-progress-months]", total ? data.months_done + " of " + total : "none yet");
    setText(root, "[data-progress-items]", number(data.items));
    // The org's state, in the words every page uses (usage.reporting.status).
    setText(root, "[data-progress-status]", status.sentence || "Checking the first collection…");
    var next = root.querySelector("[data-progress-next]");
    if (next) {
      next.hidden = !(status.next_step || status.next_url);
      setText(root, "[data-progress-next-text]", status.next_step || "");
      var fix = root.querySelector("[data-progress-fix]");
      if (fix) {
        fix.hidden = !status.next_url;
        if (status.next_url) fix.href = status.next_url;
        fix.textContent = status.next_label || "";
      }
    }
    var detail = root.querySelector("[data-progress-detail]");
    if (detail) {
      detail.hidden = !status.detail;
      setText(root, "[data-progress-detail-text]", status.detail || "");
    }
    var open = root.querySelector("[data-progress-open]");
    if (open) {
      open.href = data.dashboard_url || open.href;
      open.hidden = !(data.has_data || STOPPED[status.state]);
      if (!open.hidden) open.classList.add("primary");
    }
    root.setAttribute("data-org-state", status.state || "");
    root.setAttribute("data-months-done", String(data.months_done || 0));
  };

  Poller.prototype.handle = function (data) {
    var status = data.status || {};
    var seen = [data.months_done, data.items, status.state, status.sentence].join("/");
    var changed = seen !== this.lastSeen;
    this.lastSeen = seen;
    this.show(data);
    if (data.running) this.sawRunning = true;
    if (SETTLED[status.state] && !data.running) {
      this.stop("");
      this.root.setAttribute("data-progress-state", STOPPED[status.state] ? "stopped" : "done");
      if (status.state === "up_to_date" && data.has_data && this.sawRunning && data.dashboard_url) {
        setText(this.root, "[data-progress-status]", "Done. Opening the dashboard…");
        window.location.assign(data.dashboard_url);
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
