// What the header and the form say about the connection: typing, online or offline.
import { scrollToEnd } from "./panel.js";

// A lost `bot_typing {typing: false}` (a dropped socket) must not leave the dots on.
const TYPING_TIMEOUT_MS = 30000;

/** Show or hide the typing dots. */
export function setTyping(widget, on) {
  const { state, ui } = widget;
  clearTimeout(state.typingTimer);
  ui.typing.hidden = !on;
  if (on) {
    state.typingTimer = setTimeout(() => {
      ui.typing.hidden = true;
    }, TYPING_TIMEOUT_MS);
    scrollToEnd(ui);
  }
}

/**
 * Online or offline. Sending stays off until the session is confirmed and its history
 * drawn (`state.confirmed`), even when the network is back.
 */
export function setOnline(widget, online) {
  const { config, state, ui } = widget;
  const ready = online && state.confirmed;
  ui.sendButton.disabled = !ready;
  ui.input.setAttribute("aria-disabled", ready ? "false" : "true");
  ui.root.classList.toggle("ca-is-offline", !online);
  if (online) {
    ui.offline.hidden = true;
    ui.offline.textContent = "";
    ui.statusLine.textContent = state.handoffLine || config.subtitle;
  } else {
    ui.offline.hidden = false;
    ui.offline.textContent = "You're offline. Reconnecting\u2026 Your conversation is kept.";
    ui.statusLine.textContent = "Offline";
  }
}
