// fedinet's progressive enhancement. Every page works without it.
"use strict";

// Interests typed as "a, b, c": suggest tags in use for the word being typed.
function enhanceTagInputs() {
  document.querySelectorAll("input[data-tags]").forEach(function (input) {
    var source = document.getElementById(input.getAttribute("data-tags"));
    if (!source) return;
    var all = Array.prototype.map.call(source.options, function (o) { return o.value; });
    var list = document.createElement("datalist");
    list.id = input.id + "-suggest";
    input.after(list);
    input.setAttribute("list", list.id);
    input.addEventListener("input", function () {
      var parts = input.value.split(",");
      var word = parts.pop().trim().replace(/^#/, "").toLowerCase();
      var head = parts.map(function (p) { return p.trim(); }).filter(Boolean);
      var prefix = head.length ? head.join(", ") + ", " : "";
      list.textContent = "";
      if (!word) return;
      all.filter(function (t) { return t.indexOf(word) === 0 && head.indexOf(t) < 0; })
        .slice(0, 12).forEach(function (t) {
          var option = document.createElement("option");
          option.value = prefix + t;
          list.appendChild(option);
        });
    });
  });
}

// The follow composer: check the note against the recipient's rules while typing.
function enhanceNoteCheck() {
  var form = document.querySelector("form[data-note-check]");
  if (!form) return;
  var note = form.querySelector("textarea[name=note]");
  var out = document.getElementById("note-check");
  var tokenField = form.querySelector("input[name=csrf_token]");
  if (!note || !out || !tokenField) return;
  var timer = null, seq = 0;
  function check() {
    var mine = ++seq;
    var body = new URLSearchParams();
    body.set("csrf_token", tokenField.value);
    body.set("note", note.value);
    fetch(form.getAttribute("data-note-check"), {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (r) { return r.json(); }).then(function (result) {
      if (mine !== seq) return;
      out.className = "note-check " + (result.ok ? "ok" : "bad");
      out.textContent = result.ok ? result.message : result.message + " " + (result.hint || "");
    }).catch(function () { /* the server checks again on sending */ });
  }
  note.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(check, 400);
  });
  // after a refused post the server's own answer is already shown next to the field
  if (note.value && note.getAttribute("aria-invalid") !== "true") check();
}

document.addEventListener("DOMContentLoaded", function () {
  enhanceTagInputs();
  enhanceNoteCheck();
});
