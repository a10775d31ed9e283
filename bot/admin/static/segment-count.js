// The live count of a segment rule: as the rule is typed, the server counts its members
// (POST with the page's form token; the rule stays out of URLs) and answers with the count or
// the chat's message for what is wrong in it.
(function () {
  "use strict";
  var rule = document.getElementById("rule");
  var out = document.getElementById("live-count");
  var form = document.getElementById("segment-form");
  if (!rule || !out || !form) { return; }
  var timer = null;
  var asked = 0;
  function ask() {
    var text = rule.value.trim();
    var mine = ++asked;
    if (!text) { out.textContent = ""; out.className = "live"; return; }
    var body = new FormData();
    body.append("csrf", form.elements.csrf.value);
    body.append("rule", text);
    fetch(rule.getAttribute("data-count-url"), { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        if (mine !== asked) { return; }  // a later keystroke's answer wins
        out.textContent = answer.error || answer.text;
        out.className = answer.error ? "live error" : "live ok";
      })
      .catch(function () { out.textContent = ""; });
  }
  rule.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, 300);
  });
  ask();
})();
