// The campaign's message as a real member will get it, rendered by the server as the owner
// types (POST with the page's form token: the message stays out of URLs). A bad placeholder
// shows the chat's message for it. Without this script the preview step shows the same.
(function () {
  "use strict";
  var form = document.getElementById("campaign-form");
  var message = document.getElementById("message");
  var box = document.getElementById("live-preview");
  var heading = document.getElementById("live-preview-heading");
  var text = document.getElementById("live-preview-text");
  var button = document.getElementById("live-preview-button");
  if (!form || !message || !box || !heading || !text || !button) { return; }
  var fields = ["message", "offer", "value", "title", "dates", "window", "branches", "label"];
  var timer = null;
  var asked = 0;
  function show(answer) {
    box.hidden = false;
    heading.textContent = answer.error || answer.heading;
    heading.className = answer.error ? "live error" : "live ok";
    text.textContent = answer.error ? "" : answer.text;
    text.hidden = !!answer.error;
    button.textContent = answer.error ? "" : answer.button;
    button.hidden = !!answer.error;
  }
  function ask() {
    var mine = ++asked;
    if (!message.value.trim()) { box.hidden = true; return; }
    var body = new FormData();
    body.append("csrf", form.elements.csrf.value);
    fields.forEach(function (name) {
      var field = form.elements[name];
      if (field) { body.append(name, field.value); }
    });
    fetch(message.getAttribute("data-preview-url"), { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        if (mine === asked) { show(answer); }  // a later keystroke's answer wins
      })
      .catch(function () { box.hidden = true; });
  }
  function later() {
    clearTimeout(timer);
    timer = setTimeout(ask, 300);
  }
  form.addEventListener("input", later);
  form.addEventListener("change", later);
  ask();
})();
