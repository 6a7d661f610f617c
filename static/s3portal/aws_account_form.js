/* Admin > AWS account: show the fields of the chosen authentication method only. */
(function () {
  "use strict";
  var KEY = ["access_key_id", "secret_access_key", "secret_state"];
  var ROLE = ["role_arn", "role_session_name", "external_id", "trust_policy"];
  var SHOWN = {
    access_key: KEY,
    assume_role: KEY.concat(ROLE), // the access key is the optional source of the AssumeRole
    ambient: []
  };
  var ALL = KEY.concat(ROLE);

  function update(select) {
    var shown = SHOWN[select.value] || ALL;
    ALL.forEach(function (name) {
      document.querySelectorAll(".form-row.field-" + name + ", .fieldBox.field-" + name)
        .forEach(function (row) { row.style.display = shown.indexOf(name) < 0 ? "none" : ""; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var select = document.getElementById("id_auth_method");
    if (!select) { return; }
    select.addEventListener("change", function () { update(select); });
    update(select);
  });
})();
