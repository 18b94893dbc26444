// The conversation log: the visitor's bubbles, the assistant's (or a person's) messages,
// and sending. Messages from the assistant (event `bot_uttered`) look like
//   { text?, buttons?: [{title, payload}], custom?: {...}, image?, utter_action?,
//     timestamp?, engineer?, notice? }
import { el } from "./dom.js";
import { safeHref } from "./links.js";
import { richText } from "./markdown.js";
import { disableOldButtons, scrollToEnd, setInputMode } from "./panel.js";
import { scorecard } from "./scorecard.js";
import { setTyping } from "./status.js";
import { understoodList } from "./understood.js";

// Responses after which the next answer is an email address: the field becomes an
// email field, as with the custom payload `{"input": "email"}`.
const EMAIL_RESPONSES = { utter_ask_email: true, utter_ask_lead_email: true };
// Echoes of our own messages that another tab's history may still bring back; a few
// are enough, the rest would only grow with a long conversation.
const MOST_PENDING_ECHOES = 20;

/** The visitor's message, right-aligned. */
export function addUserBubble(widget, text) {
  const { ui } = widget;
  disableOldButtons(ui);
  ui.log.appendChild(
    el("div", { className: "ca-msg ca-user" }, [
      el("span", { className: "ca-sr-only", text: "You: " }),
      el("div", { className: "ca-bubble", text: text })
    ])
  );
  scrollToEnd(ui);
}

function quickReplies(widget, buttons) {
  const group = el("div", { className: "ca-quick-replies", role: "group", "aria-label": "Suggested replies" });
  buttons.forEach((button) => {
    const quick = el("button", { type: "button", className: "ca-quick-reply", text: String(button.title) });
    quick.addEventListener("click", () => {
      if (quick.disabled) {
        return;
      }
      sendMessage(widget, String(button.payload), String(button.title));
      widget.ui.input.focus();
    });
    group.appendChild(quick);
  });
  return group;
}

// A new message while the panel is closed: the launcher counts it.
function countUnread(widget) {
  const { config, state, ui } = widget;
  state.unread += 1;
  ui.launcherBadge.textContent = String(state.unread);
  ui.launcherBadge.hidden = false;
  ui.launcher.setAttribute("aria-label", `Open chat: ${config.title} (${state.unread} new)`);
}

/**
 * One message from the assistant (or from a person during a handoff) in one bubble.
 * `live` is false for history and the greeting, which never count as unread.
 */
export function addBotMessage(widget, message, live) {
  const { config, state, ui } = widget;
  const parts = [];
  if (typeof message.engineer === "string" && message.engineer) {
    // A person from the team, not the assistant: say who.
    parts.push(el("span", { className: "ca-from", text: `${message.engineer}: ` }));
  } else {
    parts.push(el("span", { className: "ca-sr-only", text: `${config.title}: ` }));
  }
  if (message.text) {
    parts.push(el("div", { className: `ca-bubble${message.notice ? " ca-notice" : ""}` }, [richText(message.text)]));
  }
  const custom = message.custom || {};
  if (custom.scorecard && typeof custom.scorecard === "object") {
    parts.push(scorecard(custom.scorecard));
    if (Array.isArray(custom.scorecard.understood) && custom.scorecard.understood.length) {
      parts.push(understoodList(custom.scorecard.understood, (text) => sendMessage(widget, text)));
    }
  }
  if (message.image && safeHref(message.image)) {
    parts.push(el("img", { className: "ca-image", src: safeHref(message.image), alt: "" }));
  }
  if (Array.isArray(message.buttons) && message.buttons.length) {
    disableOldButtons(ui);
    parts.push(quickReplies(widget, message.buttons));
  }
  if (parts.length === 1) {
    return; // nothing to show but the sender's name
  }
  ui.log.appendChild(el("div", { className: "ca-msg ca-bot" }, parts));
  if (custom.input === "email" || EMAIL_RESPONSES[message.utter_action]) {
    setInputMode(widget, "email");
  }
  if (typeof message.timestamp === "number" && message.timestamp > state.lastTimestamp) {
    state.lastTimestamp = message.timestamp;
  }
  if (live && !state.open) {
    countUnread(widget);
  }
  scrollToEnd(ui);
}

/**
 * The greeting is local (not part of the stored conversation); its suggestions are
 * only offered before the conversation has started.
 */
export function showGreeting(widget, withSuggestions) {
  const { config } = widget;
  addBotMessage(widget, { text: config.greeting, buttons: withSuggestions ? config.suggestions : [] }, false);
}

/**
 * Send the visitor's message; false when it cannot go now (empty, offline, or before
 * the session is confirmed). `displayText` is what a quick reply shows instead of its
 * payload, kept in the metadata so that the other tabs and the history show it too.
 */
export function sendMessage(widget, text, displayText) {
  const { state } = widget;
  const message = String(text).trim();
  if (!message || !state.socket?.connected || !state.confirmed) {
    return false;
  }
  const shown = displayText || message;
  addUserBubble(widget, shown);
  state.pendingEcho.push(shown);
  if (state.pendingEcho.length > MOST_PENDING_ECHOES) {
    state.pendingEcho.shift();
  }
  const metadata = displayText ? { display_text: displayText } : {};
  state.socket.emit("user_uttered", { message: message, session_id: state.sessionId, metadata: metadata });
  setInputMode(widget, "text");
  // While a person has the conversation, nothing is typing until they answer.
  setTyping(widget, !state.handoff);
  return true;
}
