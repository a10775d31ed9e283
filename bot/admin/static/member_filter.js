// The live count beside the member filter: while a rule is typed, ask the server how many
// members it holds (or what is wrong with it, in the chat's words). A POST with the page's
// form token, so the rule stays out of URLs and logs. A newer keystroke aborts the count still
// in flight (the server stops counting for a request whose client went away), and an answer
// to an older rule is never shown over a newer one.
(function () {
  "use strict";
  var form = document.getElementById("rule-filter");
  if (!form) { return; }
  var input = form.querySelector("input[name=rule]");
  var token = form.querySelector("input[name=csrf]");
  var output = document.getElementById("rule-count");
  var timer = null;
  var asked = 0;
  var inFlight = null;

  function show(text, isError) {
    output.textContent = text;
    output.classList.toggle("error", isError);
  }

  function cancel() {
    if (timer) { clearTimeout(timer); timer = null; }
    if (inFlight) { inFlight.abort(); inFlight = null; }
  }

  function ask() {
    var mine = ++asked;
    var controller = new AbortController();
    var body = new URLSearchParams();
    inFlight = controller;
    body.set("csrf", token.value);
    body.set("rule", input.value);
    fetch("/admin/members/count", {
      method: "POST", body: body, credentials: "same-origin", signal: controller.signal
    })
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        if (mine !== asked) { return; }  // an older answer arriving late
        inFlight = null;
        if (answer.error) { show(answer.error, true); } else { show(answer.text || "", false); }
      })
      .catch(function () { /* aborted, or the count is a help: the Filter button still works */ });
  }

  input.addEventListener("input", function () {
    cancel();
    timer = setTimeout(ask, 350);
  });
  if (input.value) { ask(); }
}());
