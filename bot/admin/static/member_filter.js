// The live count beside the member filter: while a rule is typed, ask the server how many
// members it holds (or what is wrong with it, in the chat's words). A POST with the page's
// form token, so the rule stays out of URLs and logs.
(function () {
  "use strict";
  var form = document.getElementById("rule-filter");
  if (!form) { return; }
  var input = form.querySelector("input[name=rule]");
  var token = form.querySelector("input[name=csrf]");
  var output = document.getElementById("rule-count");
  var timer = null;
  var asked = 0;

  function show(text, isError) {
    output.textContent = text;
    output.classList.toggle("error", isError);
  }

  function ask() {
    var mine = ++asked;
    var body = new URLSearchParams();
    body.set("csrf", token.value);
    body.set("rule", input.value);
    fetch("/admin/members/count", { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        if (mine !== asked) { return; }  // an older answer arriving late
        if (answer.error) { show(answer.error, true); } else { show(answer.text || "", false); }
      })
      .catch(function () { /* the count is a help, the Filter button still works */ });
  }

  input.addEventListener("input", function () {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(ask, 350);
  });
  if (input.value) { ask(); }
}());
