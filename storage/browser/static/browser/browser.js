/* Object browser: "select all" for bulk expiry, copy a share link. Keys never pass through
   innerHTML: the page renders them escaped, and script reads them as text (json_script). */
(function () {
  "use strict";
  var all = document.getElementById("select-all");
  if (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll("input.pick").forEach(function (box) { box.checked = all.checked; });
    });
  }
  var copy = document.getElementById("copy-share");
  var field = document.getElementById("share-url");
  if (copy && field) {
    copy.addEventListener("click", function () {
      field.select();
      if (navigator.clipboard) { navigator.clipboard.writeText(field.value); }
      copy.textContent = "Copied";
    });
  }
}());
