// What the page says: passing messages and errors, the server's warnings, the play button.

import { $ } from "./dom.js";

// a message under the header: info or error, gone after a while unless it must stay (the
// server has gone)
export function say(text, error = false, stay = false) {
  const box = $("message");
  if (box.dataset.stay) return; // the server has gone: that message stays
  box.textContent = text;
  box.className = error ? "error" : text ? "info" : "";
  clearTimeout(say.timer);
  if (stay) box.dataset.stay = "1";
  else if (text) say.timer = setTimeout(() => say(""), error ? 9000 : 4000);
}

export function showWarnings(list) {
  $("warnings").innerHTML = "";
  for (const w of list) {
    const li = document.createElement("li");
    li.className = w.kind;
    li.textContent = w.text;
    $("warnings").append(li);
  }
}

// the play button shows play or pause
export function setPlaying(on) {
  const b = $("play");
  b.innerHTML = on ? "&#x275a;&#x275a;" : "&#x25b6;";
  b.classList.toggle("playing", on);
  b.setAttribute("aria-label", on ? "pause" : "play");
}
