/* Files page: choose or drop files, then Upload (a progress bar per file); delete confirmation.
   Vanilla JS, no dependencies. File names are only ever set with textContent (never HTML). */
(function () {
  "use strict";

  var PARALLEL = 2;

  // Confirm before deleting (event delegation survives table refreshes).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });

  var form = document.getElementById("upload-form");
  if (!form) { return; }
  var input = document.getElementById("file-input");
  var zone = document.getElementById("dropzone");
  var queue = document.getElementById("upload-queue");
  var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var maxSize = parseInt(form.dataset.maxSize, 10);
  var maxLabel = form.dataset.maxSizeLabel;
  var waiting = [];
  var running = 0;
  var uploadedSinceRefresh = 0;

  function formatBytes(n) {
    var units = ["bytes", "KB", "MB", "GB", "TB"];
    var i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
    return (i === 0 ? n : n.toFixed(1)) + " " + units[i];
  }

  function makeRow(file) {
    var li = document.createElement("li");
    li.className = "upload-item";
    var name = document.createElement("span");
    name.className = "upload-name";
    name.textContent = file.name + " (" + formatBytes(file.size) + ")";
    var bar = document.createElement("progress");
    bar.max = 1;
    bar.value = 0;
    bar.className = "upload-progress";
    var status = document.createElement("span");
    status.className = "upload-status";
    status.textContent = "ready: press Upload";
    li.appendChild(name);
    li.appendChild(bar);
    li.appendChild(status);
    queue.appendChild(li);
    return {
      ready: function () { status.textContent = "ready: press Upload"; },
      waiting: function () { status.textContent = "waiting"; },
      progress: function (fraction) {
        bar.value = fraction;
        status.textContent = Math.floor(fraction * 100) + "%";
      },
      done: function () {
        bar.value = 1;
        li.classList.add("done");
        status.textContent = "uploaded";
      },
      fail: function (message) {
        li.classList.add("failed");
        status.textContent = message;
      }
    };
  }

  function refreshTable() {
    // Re-read the list from the server (its HTML is escaped there) and swap the table in.
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("file-table-section");
        var current = document.getElementById("file-table-section");
        if (fresh && current) { current.replaceWith(fresh); }
      })
      .catch(function () { /* the next page load shows the files anyway */ });
  }

  function finished() {
    running -= 1;
    pump();
    if (running === 0 && waiting.length === 0 && uploadedSinceRefresh > 0) {
      uploadedSinceRefresh = 0;
      refreshTable();
    }
  }

  function start(job) {
    running += 1;
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-CSRFToken", token);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = function (event) {
      if (event.lengthComputable) { job.row.progress(event.loaded / event.total); }
    };
    xhr.onload = function () {
      var answer = null;
      try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = null; }
      if (xhr.status === 201) {
        job.row.done();
        uploadedSinceRefresh += 1;
      } else {
        job.row.fail((answer && answer.error) || ("failed (HTTP " + xhr.status + ")"));
      }
      finished();
    };
    xhr.onerror = function () { job.row.fail("network error: the upload did not finish"); finished(); };
    xhr.onabort = function () { job.row.fail("cancelled"); finished(); };
    var data = new FormData();
    data.append("file", job.file, job.file.name);
    xhr.send(data);
  }

  function pump() {
    while (running < PARALLEL && waiting.length > 0) { start(waiting.shift()); }
  }

  // One flow: choosing or dropping files lists them as "ready"; the Upload button sends them.
  var button = document.getElementById("upload-button");
  var selected = [];

  function updateButton() {
    button.disabled = selected.length === 0;
    button.textContent = selected.length === 0 ? "Upload" :
      "Upload " + selected.length + (selected.length === 1 ? " file" : " files");
  }

  function choose(files) {
    for (var i = 0; i < files.length; i += 1) {
      var file = files[i];
      var row = makeRow(file);
      if (file.size > maxSize) {
        row.fail("larger than the limit of " + maxLabel + " per file");
        continue;
      }
      row.ready();
      selected.push({ file: file, row: row });
    }
    updateButton();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    while (selected.length > 0) {
      var job = selected.shift();
      job.row.waiting();
      waiting.push(job);
    }
    updateButton();
    pump();
  });
  input.addEventListener("change", function () {
    if (input.files.length) { choose(input.files); }
    input.value = "";
  });
  updateButton();
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) {
      event.preventDefault();
      zone.classList.add("over");
    });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function (event) {
      event.preventDefault();
      zone.classList.remove("over");
    });
  });
  // A file dropped next to the zone must not make the browser navigate away to it.
  window.addEventListener("dragover", function (event) { event.preventDefault(); });
  window.addEventListener("drop", function (event) { event.preventDefault(); });
  zone.addEventListener("drop", function (event) {
    if (event.dataTransfer && event.dataTransfer.files.length) { choose(event.dataTransfer.files); }
  });
}());
