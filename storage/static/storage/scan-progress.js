// Live progress of a scan run: polls the run's JSON status until it finishes. No dependencies.
(function () {
  "use strict";
  var box = document.getElementById("scan-live");
  if (!box) { return; }
  var url = box.getAttribute("data-status-url");
  var bar = document.getElementById("scan-progress");
  var text = document.getElementById("scan-progress-text");
  var status = document.getElementById("scan-status");
  var counts = document.getElementById("scan-counts");

  function render(data) {
    status.textContent = data.status_label;
    status.className = "badge " + (data.status === "succeeded" ? "good" : data.status === "failed" ? "bad" : "warn");
    if (data.total) { bar.max = data.total; }
    bar.value = data.done;
    text.textContent = data.done + " / " + (data.total || "?") + " buckets" +
      (data.duration_seconds !== null ? " · " + data.duration_seconds + " s" : "");
    var c = data.counts || {};
    counts.textContent = "public: " + (c.public || 0) + " · failing checks: " + (c.failing_checks || 0) +
      " · check errors: " + (data.error_count || 0) + " · findings opened: " + (c.opened || 0) +
      " · resolved: " + (c.resolved || 0);
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data) {
          render(data);
          if (data.finished) { window.location.reload(); return; }
        }
        window.setTimeout(poll, 1500);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }

  if (box.getAttribute("data-finished") !== "true") { window.setTimeout(poll, 500); }
})();
