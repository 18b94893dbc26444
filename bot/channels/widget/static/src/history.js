// The stored conversation, drawn when the widget connects (a reload, a new tab, a
// returning visitor) and again after a reconnect, for what was said meanwhile.
import { addBotMessage, addUserBubble, showGreeting } from "./messages.js";
import { setTyping } from "./status.js";

// While a turn is in progress its messages are not stored yet: ask again this often, at
// most this many times (a minute), then draw what there is.
const BUSY_POLL_MS = 1500;
const MOST_BUSY_POLLS = 40;

function historyUrl(config) {
  return `${config.serverUrl}${config.channelPath}/history`;
}

// `onlyNewer`: after a reconnect, add what is newer than what is drawn; the visitor's
// own messages that this tab already shows (pendingEcho) are not drawn twice.
function renderHistory(widget, messages, onlyNewer) {
  const { state, ui } = widget;
  const since = state.lastTimestamp;
  ui.log.setAttribute("aria-busy", "true");
  messages.forEach((message) => {
    const ts = typeof message.timestamp === "number" ? message.timestamp : 0;
    if (onlyNewer && ts <= since) {
      return;
    }
    if (message.sender === "user") {
      const pending = state.pendingEcho.indexOf(message.text);
      if (onlyNewer && pending !== -1) {
        state.pendingEcho.splice(pending, 1);
      } else {
        addUserBubble(widget, message.text);
      }
      if (ts > state.lastTimestamp) {
        state.lastTimestamp = ts;
      }
    } else {
      addBotMessage(widget, message, false);
    }
  });
  ui.log.removeAttribute("aria-busy");
}

/** Fetch and draw the history; resolves (never rejects) once it is drawn. */
export function loadHistory(widget) {
  const { config, state, ui } = widget;
  const onlyNewer = state.historyLoaded;
  // The session id goes in the body, never in the URL, which proxies log. As
  // text/plain the cross-site request needs no preflight.
  return fetch(historyUrl(config), {
    method: "POST",
    credentials: "omit",
    cache: "no-store",
    headers: { "Content-Type": "text/plain" },
    body: JSON.stringify({ session_id: state.sessionId })
  })
    .then((res) => {
      if (!res.ok) {
        throw new Error(`history ${res.status}`);
      }
      return res.json();
    })
    .then((body) => {
      if (body.max_message_chars) {
        ui.input.setAttribute("maxlength", String(body.max_message_chars));
      }
      const messages = Array.isArray(body.messages) ? body.messages : [];
      if (!onlyNewer) {
        ui.log.textContent = "";
        showGreeting(widget, messages.length === 0);
      }
      renderHistory(widget, messages, onlyNewer);
      state.historyLoaded = true;
      // Joined in the middle of a turn (a reload or a new tab while the assistant was
      // answering): the turn's messages are not stored yet, so draw the whole history
      // again once the turn is over.
      clearTimeout(state.busyTimer);
      if (body.busy && state.busyPolls < MOST_BUSY_POLLS) {
        state.busyPolls += 1;
        setTyping(widget, true);
        state.busyTimer = setTimeout(() => {
          state.historyLoaded = false;
          loadHistory(widget);
        }, BUSY_POLL_MS);
      } else if (state.busyPolls) {
        state.busyPolls = 0;
        setTyping(widget, false);
      }
    })
    .catch(() => {
      // No history (the server is down or refused the id): a fresh start rather than
      // an empty panel.
      if (!state.historyLoaded) {
        ui.log.textContent = "";
        showGreeting(widget, true);
        state.historyLoaded = true;
      }
    });
}
