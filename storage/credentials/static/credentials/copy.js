// Copy buttons of the one-time secret page: copy the text of the element named by data-copy.
document.querySelectorAll("button.copy").forEach(function (button) {
  button.addEventListener("click", function () {
    var text = document.getElementById(button.dataset.copy).textContent;
    navigator.clipboard.writeText(text).then(function () { button.textContent = "Copied"; });
  });
});
