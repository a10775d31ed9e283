// The live count of a segment rule: as the rule is typed, the server counts its members
// (POST with the page's form token; the rule stays out of URLs) and answers with the count or
// the chat's message for what is wrong in it. A newer keystroke aborts the count still in
// flight (the server stops counting for a request whose client went away), and an answer to an
// older rule is never shown over a newer one.
(function () {
  "use strict";
  var rule = document.getElementById("rule");
  var out = document.getElementById("live-count");
  var form = document.getElementById("segment-form");
  if (!rule || !out || !form) { return; }
  var timer = null;
  var asked = 0;
  var inFlight = null;
  function cancel() {
    clearTimeout(timer);
    if (inFlight) { inFlight.abort(); inFlight = null; }
  }
  function ask() {
    var text = rule.value.trim();
    var mine = ++asked;
    if (!text) { out.textContent = ""; out.className = "live"; return; }
    var controller = new AbortController();
    var body = new FormData();
    inFlight = controller;
    body.append("csrf", form.elements.csrf.value);
    body.append("rule", text);
    fetch(rule.getAttribute("data-count-url"), {
      method: "POST", body: body, credentials: "same-origin", signal: controller.signal
    })
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        if (mine !== asked) { return; }  // a later keystroke's answer wins
        inFlight = null;
        out.textContent = answer.error || answer.text;
        out.className = answer.error ? "live error" : "live ok";
      })
      .catch(function (error) {
        // aborted: a newer count is on its way; an older count's failure clears nothing
        if (error.name !== "AbortError" && mine === asked) { out.textContent = ""; }
      });
  }
  rule.addEventListener("input", function () {
    cancel();
    timer = setTimeout(ask, 300);
  });
  ask();
})();
