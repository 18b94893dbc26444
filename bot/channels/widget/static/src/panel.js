// The widget's DOM: a launcher button and the chat panel (header, offline notice,
// conversation log, typing dots, the form). Built once, before the page's body exists,
// and attached by main.js when the document is ready.
import { chatIcon, el } from "./dom.js";

// Colours a page may set through `CloudAdvisorConfig.colors`, as CSS custom properties
// that widget.css reads, so a page themes the widget without overriding its selectors.
const COLOR_VARS = {
  primary: "--ca-primary",
  onPrimary: "--ca-on-primary",
  background: "--ca-background",
  text: "--ca-text",
  userBubble: "--ca-user-bubble",
  onUserBubble: "--ca-on-user-bubble",
  botBubble: "--ca-bot-bubble",
  containers: "--ca-containers",
  vms: "--ca-vms"
};
const TEXT_PLACEHOLDER = "Type your question\u2026";

/** Every element the other modules update, by name. */
export function buildPanel(config) {
  const root = el("div", { className: `ca-root ca-${config.position}`, "data-cloud-advisor": "" });
  Object.keys(COLOR_VARS).forEach((name) => {
    if (typeof config.colors[name] === "string") {
      root.style.setProperty(COLOR_VARS[name], config.colors[name]);
    }
  });

  const panelId = "ca-panel";
  const titleId = "ca-title";
  const launcherBadge = el("span", { className: "ca-badge", hidden: true, "aria-hidden": "true" });
  const launcher = el(
    "button",
    {
      type: "button",
      className: "ca-launcher",
      "aria-expanded": "false",
      "aria-controls": panelId,
      "aria-label": `Open chat: ${config.title}`
    },
    [chatIcon(), el("span", { className: "ca-launcher-text", text: "Ask our advisor" }), launcherBadge]
  );

  const closeButton = el("button", { type: "button", className: "ca-close", "aria-label": "Close chat", text: "\u00D7" });
  const statusLine = el("p", { className: "ca-subtitle", text: config.subtitle });
  const offline = el("div", { className: "ca-offline", role: "status", hidden: true });
  const log = el("div", {
    className: "ca-log",
    role: "log",
    "aria-live": "polite",
    "aria-relevant": "additions",
    "aria-label": `Conversation with ${config.title}`,
    tabindex: "0"
  });
  const typing = el("div", { className: "ca-typing", hidden: true, role: "status" }, [
    el("span", { className: "ca-sr-only", text: `${config.title} is typing` }),
    el("span", { className: "ca-dot", "aria-hidden": "true" }),
    el("span", { className: "ca-dot", "aria-hidden": "true" }),
    el("span", { className: "ca-dot", "aria-hidden": "true" })
  ]);
  const inputLabel = el("label", { className: "ca-sr-only", for: "ca-input", text: "Your message" });
  const input = el("input", {
    id: "ca-input",
    className: "ca-input",
    type: "text",
    autocomplete: "off",
    maxlength: String(config.maxLength),
    placeholder: TEXT_PLACEHOLDER,
    "aria-describedby": "ca-hint"
  });
  const sendButton = el("button", { type: "submit", className: "ca-send", text: "Send" });
  // noValidate: an email field must still accept "why do you need it?" or "no thanks".
  const form = el("form", { className: "ca-form", novalidate: true }, [inputLabel, input, sendButton]);
  const hint = el("p", {
    id: "ca-hint",
    className: "ca-hint",
    text: "Automated assistant. Please don't share passwords or secrets."
  });

  const panel = el(
    "section",
    { id: panelId, className: "ca-panel", role: "dialog", "aria-modal": "false", "aria-labelledby": titleId, hidden: true },
    [
      el("header", { className: "ca-header" }, [
        el("div", { className: "ca-heading" }, [el("h2", { id: titleId, className: "ca-title", text: config.title }), statusLine]),
        closeButton
      ]),
      offline,
      log,
      typing,
      form,
      hint
    ]
  );
  root.appendChild(panel);
  root.appendChild(launcher);
  return {
    root,
    panel,
    launcher,
    launcherBadge,
    closeButton,
    statusLine,
    offline,
    log,
    typing,
    inputLabel,
    input,
    sendButton,
    form
  };
}

/** Keep the newest message in view. */
export function scrollToEnd(ui) {
  ui.log.scrollTop = ui.log.scrollHeight;
}

/** "text" or "email": an email field brings the right keyboard and autofill on phones. */
export function setInputMode(widget, mode) {
  const { input, inputLabel } = widget.ui;
  widget.state.inputMode = mode;
  if (mode === "email") {
    input.type = "email";
    input.setAttribute("autocomplete", "email");
    input.setAttribute("inputmode", "email");
    input.placeholder = "name@company.com";
    inputLabel.textContent = "Your email address";
  } else {
    input.type = "text";
    input.setAttribute("autocomplete", "off");
    input.removeAttribute("inputmode");
    input.placeholder = TEXT_PLACEHOLDER;
    inputLabel.textContent = "Your message";
  }
}

/** Quick replies answer the newest question only: older groups are greyed out. */
export function disableOldButtons(ui) {
  const groups = ui.log.querySelectorAll(".ca-quick-replies");
  Array.prototype.forEach.call(groups, (group) => {
    Array.prototype.forEach.call(group.querySelectorAll("button"), (button) => {
      button.disabled = true;
    });
    group.classList.add("ca-used");
  });
}
