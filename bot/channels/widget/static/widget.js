/*!
 * Cloud advisor chat widget. Built from bot/channels/widget/static/src/ by
 * scripts/build-widget.mjs (npm run build:widget): edit those modules, not this file.
 * Embedding, payloads and security: the comment at the top of src/main.js.
 */
"use strict";
(() => {
  // bot/channels/widget/static/src/config.js
  var DEFAULT_SCRIPT_PATH = "/webhooks/widget/static/widget.js";
  function scriptUrlOf(currentScript, pageHref) {
    return new URL(currentScript ? currentScript.src : DEFAULT_SCRIPT_PATH, pageHref);
  }
  function staticBaseOf(scriptUrl) {
    return new URL(".", scriptUrl).href;
  }
  function readConfig(userConfig, scriptUrl) {
    const user = userConfig || {};
    const channelPathFromScript = scriptUrl.pathname.replace(/\/static\/widget\.js$/, "");
    const config = {
      serverUrl: user.serverUrl || scriptUrl.origin,
      channelPath: user.channelPath || channelPathFromScript || "/webhooks/widget",
      socketPath: user.socketPath || "/socket.io",
      title: user.title || "Cloud advisor",
      subtitle: user.subtitle || "Virtual assistant",
      greeting: user.greeting || "Hi! I can explain virtual machines and containers and recommend one for your workload.",
      suggestions: Array.isArray(user.suggestions) ? user.suggestions : [],
      position: user.position === "left" ? "left" : "right",
      colors: user.colors || {},
      openOnLoad: Boolean(user.openOnLoad),
      storageKey: user.storageKey || "cloud-advisor-session",
      maxLength: Number(user.maxLength) || 2e3
    };
    config.serverUrl = config.serverUrl.replace(/\/+$/, "");
    return config;
  }

  // bot/channels/widget/static/src/dom.js
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach((name) => {
        const value = attrs[name];
        if (value === null || value === void 0 || value === false) {
          return;
        }
        if (name === "text") {
          node.textContent = value;
        } else if (name === "className") {
          node.className = value;
        } else {
          node.setAttribute(name, value === true ? "" : String(value));
        }
      });
    }
    (children || []).forEach((child) => {
      if (child !== null && child !== void 0) {
        node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
      }
    });
    return node;
  }
  function chatIcon() {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "ca-launcher-icon");
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
    path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    return svg;
  }

  // bot/channels/widget/static/src/links.js
  function safeHref(url) {
    try {
      const parsed = new URL(url, location.href);
      if (parsed.protocol === "http:" || parsed.protocol === "https:" || parsed.protocol === "mailto:") {
        return parsed.href;
      }
    } catch (e) {
    }
    return null;
  }
  function link(label, url) {
    const href = safeHref(url);
    if (!href) {
      return document.createTextNode(label);
    }
    const a = el("a", { href, rel: "noopener noreferrer nofollow", text: label });
    if (!/^mailto:/.test(href)) {
      a.setAttribute("target", "_blank");
    }
    return a;
  }

  // bot/channels/widget/static/src/markdown.js
  var INLINE = /\[([^\]\n]{1,200})\]\(([^)\s]{1,2000})\)|(https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"])|\*\*([^*\n]{1,200})\*\*/g;
  var BULLET = /^\s*[-*•]\s+/;
  function appendInline(parent, text) {
    let last = 0;
    INLINE.lastIndex = 0;
    for (let match = INLINE.exec(text); match !== null; match = INLINE.exec(text)) {
      if (match.index > last) {
        parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      }
      if (match[1] !== void 0) {
        parent.appendChild(link(match[1], match[2]));
      } else if (match[3] !== void 0) {
        parent.appendChild(link(match[3], match[3]));
      } else {
        parent.appendChild(el("strong", { text: match[4] }));
      }
      last = INLINE.lastIndex;
    }
    if (last < text.length) {
      parent.appendChild(document.createTextNode(text.slice(last)));
    }
  }
  function richText(text) {
    const wrapper = el("div", { className: "ca-text" });
    String(text).replace(/\r\n?/g, "\n").split(/\n\s*\n/).forEach((block) => {
      const lines = block.split("\n").filter((line) => line.trim() !== "");
      if (!lines.length) {
        return;
      }
      if (lines.every((line) => BULLET.test(line))) {
        const list = el("ul");
        lines.forEach((line) => {
          const item = el("li");
          appendInline(item, line.replace(BULLET, ""));
          list.appendChild(item);
        });
        wrapper.appendChild(list);
        return;
      }
      const paragraph = el("p");
      lines.forEach((line, index) => {
        if (index > 0) {
          paragraph.appendChild(el("br"));
        }
        appendInline(paragraph, line);
      });
      wrapper.appendChild(paragraph);
    });
    return wrapper;
  }

  // bot/channels/widget/static/src/panel.js
  var COLOR_VARS = {
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
  var TEXT_PLACEHOLDER = "Type your question\u2026";
  function buildPanel(config) {
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
    const closeButton = el("button", { type: "button", className: "ca-close", "aria-label": "Close chat", text: "\xD7" });
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
  function scrollToEnd(ui) {
    ui.log.scrollTop = ui.log.scrollHeight;
  }
  function setInputMode(widget, mode) {
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
  function disableOldButtons(ui) {
    const groups = ui.log.querySelectorAll(".ca-quick-replies");
    Array.prototype.forEach.call(groups, (group) => {
      Array.prototype.forEach.call(group.querySelectorAll("button"), (button) => {
        button.disabled = true;
      });
      group.classList.add("ca-used");
    });
  }

  // bot/channels/widget/static/src/format.js
  function humanise(value) {
    const text = String(value).replace(/[_-]+/g, " ").trim();
    return text.charAt(0).toUpperCase() + text.slice(1);
  }
  function formatNumber(value) {
    const rounded = Math.round(value * 10) / 10;
    return (rounded > 0 ? "+" : rounded < 0 ? "\u2212" : "") + Math.abs(rounded).toFixed(1);
  }

  // bot/channels/widget/static/src/scorecard.js
  var VERDICT_NAMES = {
    vm: "Virtual machines",
    vms: "Virtual machines",
    virtual_machines: "Virtual machines",
    container: "Containers",
    containers: "Containers",
    hybrid: "Hybrid: containers and virtual machines"
  };
  var MOST_FACTORS = 6;
  var MOST_REASONS = 3;
  function offeringParts(offering) {
    if (!offering) {
      return null;
    }
    if (typeof offering === "string") {
      return { name: offering, summary: "" };
    }
    return { name: String(offering.name || ""), summary: String(offering.summary || "") };
  }
  function caption(card, titleId, verdictKey) {
    const verdict = card.title ? String(card.title) : VERDICT_NAMES[verdictKey] || humanise(card.verdict || "Recommendation");
    const node = el("figcaption", { id: titleId }, [
      el("span", { className: "ca-scorecard-kicker", text: "Our recommendation" }),
      el("strong", { className: "ca-verdict", text: verdict })
    ]);
    if (card.hybrid_kind && !card.title) {
      node.appendChild(el("span", { className: "ca-hybrid-kind", text: humanise(card.hybrid_kind) }));
    }
    return node;
  }
  function confidenceMeter(card) {
    const confidence = Number(card.confidence);
    if (card.confidence === null || card.confidence === void 0 || !Number.isFinite(confidence)) {
      return null;
    }
    const percent = Math.round(Math.max(0, Math.min(1, confidence)) * 100);
    return el("div", { className: "ca-confidence" }, [
      el("span", { text: "Confidence" }),
      el("meter", { min: "0", max: "100", value: String(percent), "aria-label": "Confidence" }, [`${percent}%`]),
      el("span", { className: "ca-confidence-value", text: `${percent}%` })
    ]);
  }
  function sideSections(card, pull) {
    const sides = card.sides && typeof card.sides === "object" ? card.sides : {};
    const pullVms = Math.max(0, Number(pull.vm) || 0);
    const pullContainers = Math.max(0, Number(pull.container) || 0);
    const strongest = Math.max(pullVms, pullContainers) || 1;
    const sideList = el("div", { className: "ca-sides", "aria-label": "What pulls each way" });
    [
      { key: "vm", name: "Toward virtual machines", value: pullVms, color: "var(--ca-vms)" },
      { key: "container", name: "Toward containers", value: pullContainers, color: "var(--ca-containers)" }
    ].forEach((side) => {
      const fill = el("span", { className: "ca-side-fill" });
      fill.style.display = "block";
      fill.style.height = "100%";
      fill.style.background = side.color;
      fill.style.width = `${Math.round(side.value / strongest * 100)}%`;
      const track = el(
        "span",
        { className: "ca-side-bar", role: "img", "aria-label": `${side.name}: pull ${side.value.toFixed(1)}` },
        [fill]
      );
      track.style.display = "block";
      track.style.height = "6px";
      track.style.margin = "2px 0 4px";
      track.style.background = "#e7ebf0";
      const reasons = (Array.isArray(sides[side.key]) ? sides[side.key] : []).filter((reason) => typeof reason === "string" && reason.trim() !== "").slice(0, MOST_REASONS);
      const section = el("div", { className: `ca-side ca-side-${side.key}` }, [
        el("strong", { className: "ca-side-name", text: `${side.name} ${side.value.toFixed(1)}` }),
        track
      ]);
      if (reasons.length) {
        const reasonList = el("ul", { className: "ca-side-reasons" });
        reasons.forEach((reason) => {
          reasonList.appendChild(el("li", { text: reason }));
        });
        section.appendChild(reasonList);
      } else {
        section.appendChild(el("p", { className: "ca-side-none", text: "Nothing pulls this way." }));
      }
      sideList.appendChild(section);
    });
    return sideList;
  }
  function decidingFactors(card) {
    return (Array.isArray(card.factors) ? card.factors : []).filter((factor) => factor && typeof factor === "object").map((factor) => ({ factor, value: Number(factor.contribution) || 0 })).filter((item) => item.value !== 0).sort((a, b) => Math.abs(b.value) - Math.abs(a.value)).slice(0, MOST_FACTORS);
  }
  function factorBars(factors) {
    const largest = factors.reduce((max, item) => Math.max(max, Math.abs(item.value)), 0) || 1;
    const list = el("ul", { className: "ca-factors", "aria-label": "What decided it" });
    factors.forEach((item) => {
      const factor = item.factor;
      const value = item.value;
      const label = String(factor.label || humanise(factor.fact || factor.name || "factor"));
      const side = value < 0 ? "containers" : value > 0 ? "vms" : "neutral";
      const towards = value < 0 ? "favours containers" : value > 0 ? "favours virtual machines" : "no effect";
      const fill = el("span", { className: "ca-bar-fill" });
      fill.style.width = `${Math.max(4, Math.round(Math.abs(value) / largest * 50))}%`;
      const labelNode = el("span", { className: "ca-factor-label", text: label });
      if (factor.assumed) {
        labelNode.appendChild(el("span", { className: "ca-assumed", text: " (assumed)" }));
      }
      list.appendChild(
        el("li", { className: `ca-factor ca-toward-${side}`, "data-factor": factor.fact || factor.name || null }, [
          labelNode,
          el(
            "span",
            { className: "ca-bar", role: "img", "aria-label": `${label}: ${towards}, weight ${formatNumber(value)}` },
            [fill]
          ),
          el("span", { className: "ca-factor-value", "aria-hidden": "true", text: formatNumber(value) })
        ])
      );
    });
    return list;
  }
  function offeringLine(card) {
    const offering = offeringParts(card.offering);
    if (!(offering == null ? void 0 : offering.name)) {
      return null;
    }
    const offer = el("p", { className: "ca-offering" }, [
      el("span", { text: "Suggested offering: " }),
      el("strong", { text: offering.name })
    ]);
    if (offering.summary) {
      offer.appendChild(el("span", { className: "ca-offering-summary", text: offering.summary }));
    }
    return offer;
  }
  function scorecard(card) {
    const verdictKey = String(card.verdict || "").toLowerCase();
    const titleId = `ca-sc-${Math.random().toString(36).slice(2)}`;
    const figure = el("figure", {
      className: "ca-scorecard",
      "aria-labelledby": titleId,
      "data-verdict": verdictKey
    });
    figure.appendChild(caption(card, titleId, verdictKey));
    const confidence = confidenceMeter(card);
    if (confidence) {
      figure.appendChild(confidence);
    }
    const pull = card.pull && typeof card.pull === "object" ? card.pull : null;
    if (pull) {
      figure.appendChild(sideSections(card, pull));
      if (typeof card.balance === "string" && card.balance.trim() !== "") {
        figure.appendChild(el("p", { className: "ca-balance", text: card.balance }));
      }
    }
    const factors = decidingFactors(card);
    if (factors.length) {
      figure.appendChild(
        el("div", { className: "ca-axis", "aria-hidden": "true" }, [
          el("span", { text: "\u25C0 Containers" }),
          el("span", { text: "Virtual machines \u25B6" })
        ])
      );
      figure.appendChild(factorBars(factors));
    }
    const offer = offeringLine(card);
    if (offer) {
      figure.appendChild(offer);
    }
    return figure;
  }

  // bot/channels/widget/static/src/status.js
  var TYPING_TIMEOUT_MS = 3e4;
  function setTyping(widget, on) {
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
  function setOnline(widget, online) {
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

  // bot/channels/widget/static/src/understood.js
  function sourceLabel(source) {
    return source === "said" ? "you said" : source === "not_sure" ? "not sure, assumed" : "assumed";
  }
  function understoodList(items, say) {
    const list = el("ul", { className: "ca-understood-items" });
    items.forEach((item) => {
      if (!item || typeof item.label !== "string") {
        return;
      }
      const entry = el("li", { className: `ca-understood-item ca-understood-${String(item.source)}` });
      const options = Array.isArray(item.options) ? item.options : [];
      const head = el(options.length ? "button" : "span", {
        type: options.length ? "button" : void 0,
        className: "ca-understood-label",
        text: `${item.label} (${sourceLabel(item.source)})`,
        "aria-expanded": options.length ? "false" : void 0
      });
      entry.appendChild(head);
      if (options.length) {
        const choices = el("div", { className: "ca-understood-options", role: "group", hidden: "hidden" });
        options.forEach((option) => {
          if (option.value === item.value || typeof option.label !== "string") {
            return;
          }
          const choice = el("button", { type: "button", className: "ca-quick-reply", text: String(option.label) });
          choice.addEventListener("click", () => {
            choices.setAttribute("hidden", "hidden");
            head.setAttribute("aria-expanded", "false");
            say(`Actually, ${option.label}`);
          });
          choices.appendChild(choice);
        });
        head.addEventListener("click", () => {
          const open = choices.hasAttribute("hidden");
          if (open) {
            choices.removeAttribute("hidden");
          } else {
            choices.setAttribute("hidden", "hidden");
          }
          head.setAttribute("aria-expanded", open ? "true" : "false");
        });
        entry.appendChild(choices);
      }
      list.appendChild(entry);
    });
    return el("details", { className: "ca-understood" }, [el("summary", { text: "What I understood" }), list]);
  }

  // bot/channels/widget/static/src/messages.js
  var EMAIL_RESPONSES = { utter_ask_email: true, utter_ask_lead_email: true };
  var MOST_PENDING_ECHOES = 20;
  function addUserBubble(widget, text) {
    const { ui } = widget;
    disableOldButtons(ui);
    ui.log.appendChild(
      el("div", { className: "ca-msg ca-user" }, [
        el("span", { className: "ca-sr-only", text: "You: " }),
        el("div", { className: "ca-bubble", text })
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
  function countUnread(widget) {
    const { config, state, ui } = widget;
    state.unread += 1;
    ui.launcherBadge.textContent = String(state.unread);
    ui.launcherBadge.hidden = false;
    ui.launcher.setAttribute("aria-label", `Open chat: ${config.title} (${state.unread} new)`);
  }
  function addBotMessage(widget, message, live) {
    const { config, state, ui } = widget;
    const parts = [];
    if (typeof message.engineer === "string" && message.engineer) {
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
      return;
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
  function showGreeting(widget, withSuggestions) {
    const { config } = widget;
    addBotMessage(widget, { text: config.greeting, buttons: withSuggestions ? config.suggestions : [] }, false);
  }
  function sendMessage(widget, text, displayText) {
    var _a;
    const { state } = widget;
    const message = String(text).trim();
    if (!message || !((_a = state.socket) == null ? void 0 : _a.connected) || !state.confirmed) {
      return false;
    }
    const shown = displayText || message;
    addUserBubble(widget, shown);
    state.pendingEcho.push(shown);
    if (state.pendingEcho.length > MOST_PENDING_ECHOES) {
      state.pendingEcho.shift();
    }
    const metadata = displayText ? { display_text: displayText } : {};
    state.socket.emit("user_uttered", { message, session_id: state.sessionId, metadata });
    setInputMode(widget, "text");
    setTyping(widget, !state.handoff);
    return true;
  }

  // bot/channels/widget/static/src/handoff.js
  function showHandoff(widget, data) {
    const { config, state, ui } = widget;
    const status = data == null ? void 0 : data.status;
    state.handoff = status === "waiting" || status === "live" || status === "requested";
    ui.root.classList.toggle("ca-is-handoff", state.handoff);
    setTyping(widget, false);
    if (status === "live" && typeof data.engineer === "string" && data.engineer) {
      state.handoffLine = `You're talking to ${data.engineer}`;
    } else if (state.handoff) {
      state.handoffLine = "Waiting for a person from our team\u2026";
    } else {
      state.handoffLine = "";
    }
    ui.statusLine.textContent = state.handoffLine || config.subtitle;
  }

  // bot/channels/widget/static/src/history.js
  var BUSY_POLL_MS = 1500;
  var MOST_BUSY_POLLS = 40;
  function historyUrl(config) {
    return `${config.serverUrl}${config.channelPath}/history`;
  }
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
  function loadHistory(widget) {
    const { config, state, ui } = widget;
    const onlyNewer = state.historyLoaded;
    return fetch(historyUrl(config), {
      method: "POST",
      credentials: "omit",
      cache: "no-store",
      headers: { "Content-Type": "text/plain" },
      body: JSON.stringify({ session_id: state.sessionId })
    }).then((res) => {
      if (!res.ok) {
        throw new Error(`history ${res.status}`);
      }
      return res.json();
    }).then((body) => {
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
    }).catch(() => {
      if (!state.historyLoaded) {
        ui.log.textContent = "";
        showGreeting(widget, true);
        state.historyLoaded = true;
      }
    });
  }

  // bot/channels/widget/static/src/socket.js
  function storedAffinityKey(storage, storageKey) {
    let key = storage.get("localStorage", storageKey);
    if (!key || !/^[0-9a-f]{16,64}$/.test(key)) {
      const bytes = new Uint8Array(16);
      window.crypto.getRandomValues(bytes);
      key = Array.prototype.map.call(bytes, (b) => `0${b.toString(16)}`.slice(-2)).join("");
      storage.set("localStorage", storageKey, key);
    }
    return key;
  }
  function connect(widget) {
    const { config, state, storage, sessionKey, affinityStorageKey } = widget;
    if (state.socket || typeof window.io !== "function") {
      return;
    }
    const affinityKey = () => storedAffinityKey(storage, affinityStorageKey);
    const socket = window.io(config.serverUrl, {
      path: config.socketPath,
      transports: ["websocket", "polling"],
      tryAllTransports: true,
      withCredentials: true,
      query: { affinity: affinityKey() },
      reconnection: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 4e3
    });
    state.socket = socket;
    socket.on("connect", () => {
      state.confirmed = false;
      socket.emit("session_request", { session_id: state.sessionId });
    });
    socket.on("session_confirm", (sessionId) => {
      const id = typeof sessionId === "string" ? sessionId : sessionId == null ? void 0 : sessionId.session_id;
      if (id !== state.sessionId) {
        state.historyLoaded = false;
        state.lastTimestamp = 0;
        state.sessionId = id;
        storage.set("localStorage", sessionKey, id);
      }
      loadHistory(widget).then(() => {
        state.confirmed = true;
        setOnline(widget, true);
      });
    });
    socket.on("bot_uttered", (message) => {
      if (message && typeof message === "object") {
        addBotMessage(widget, message, true);
      }
    });
    socket.on("handoff", (data) => showHandoff(widget, data));
    socket.on("bot_typing", (data) => {
      setTyping(widget, Boolean(data == null ? void 0 : data.typing));
    });
    socket.on("user_echo", (data) => {
      if (data && typeof data.text === "string") {
        addUserBubble(widget, data.text);
      }
    });
    socket.on("disconnect", () => {
      state.confirmed = false;
      setTyping(widget, false);
      setOnline(widget, false);
    });
    socket.on("connect_error", () => {
      state.confirmed = false;
      setOnline(widget, false);
    });
  }
  function loadSocketClient(widget, done) {
    if (typeof window.io === "function") {
      done();
      return;
    }
    const tag = el("script", { src: `${widget.staticBase}socket.io.min.js`, async: true });
    tag.addEventListener("load", done);
    tag.addEventListener("error", () => {
      setOnline(widget, false);
    });
    document.head.appendChild(tag);
  }

  // bot/channels/widget/static/src/storage.js
  function createStorage(win) {
    const memory = {};
    return {
      get(store, key) {
        try {
          return win[store].getItem(key);
        } catch (e) {
          return memory[store + key] || null;
        }
      },
      set(store, key, value) {
        try {
          win[store].setItem(key, value);
        } catch (e) {
          memory[store + key] = value;
        }
      }
    };
  }

  // bot/channels/widget/static/src/main.js
  function start() {
    if (window.__cloudAdvisorWidgetLoaded) {
      return;
    }
    window.__cloudAdvisorWidgetLoaded = true;
    const scriptUrl = scriptUrlOf(document.currentScript, location.href);
    const config = readConfig(window.CloudAdvisorConfig, scriptUrl);
    const storage = createStorage(window);
    const sessionKey = `${config.storageKey}:${config.serverUrl}`;
    const state = {
      open: false,
      socket: null,
      sessionId: storage.get("localStorage", sessionKey),
      confirmed: false,
      historyLoaded: false,
      lastTimestamp: 0,
      pendingEcho: [],
      inputMode: "text",
      typingTimer: null,
      busyTimer: null,
      busyPolls: 0,
      unread: 0,
      handoff: false,
      handoffLine: ""
    };
    const widget = {
      config,
      staticBase: staticBaseOf(scriptUrl),
      storage,
      sessionKey,
      affinityStorageKey: `${sessionKey}:affinity`,
      state,
      ui: buildPanel(config)
    };
    const { ui } = widget;
    const openKey = `${sessionKey}:open`;
    function openPanel(focusInput) {
      state.open = true;
      ui.panel.hidden = false;
      ui.root.classList.add("ca-is-open");
      ui.launcher.setAttribute("aria-expanded", "true");
      state.unread = 0;
      ui.launcherBadge.hidden = true;
      ui.launcher.setAttribute("aria-label", `Close chat: ${config.title}`);
      storage.set("sessionStorage", openKey, "1");
      loadSocketClient(widget, () => connect(widget));
      scrollToEnd(ui);
      if (focusInput !== false) {
        ui.input.focus();
      }
    }
    function closePanel() {
      state.open = false;
      ui.panel.hidden = true;
      ui.root.classList.remove("ca-is-open");
      ui.launcher.setAttribute("aria-expanded", "false");
      ui.launcher.setAttribute("aria-label", `Open chat: ${config.title}`);
      storage.set("sessionStorage", openKey, "0");
      ui.launcher.focus();
    }
    ui.launcher.addEventListener("click", () => {
      if (state.open) {
        closePanel();
      } else {
        openPanel(true);
      }
    });
    ui.closeButton.addEventListener("click", closePanel);
    ui.root.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && state.open) {
        event.preventDefault();
        closePanel();
      }
    });
    ui.form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (sendMessage(widget, ui.input.value)) {
        ui.input.value = "";
      }
      ui.input.focus();
    });
    window.addEventListener("offline", () => {
      setOnline(widget, false);
    });
    window.addEventListener("online", () => {
      var _a;
      if (((_a = state.socket) == null ? void 0 : _a.connected) && state.confirmed) {
        setOnline(widget, true);
      }
    });
    function mount() {
      document.head.appendChild(el("link", { rel: "stylesheet", href: `${widget.staticBase}widget.css` }));
      document.body.appendChild(ui.root);
      setOnline(widget, true);
      ui.sendButton.disabled = true;
      const reopen = storage.get("sessionStorage", openKey) === "1";
      if (config.openOnLoad || reopen) {
        openPanel(false);
      } else if (state.sessionId) {
        loadSocketClient(widget, () => connect(widget));
      }
    }
    window.CloudAdvisor = {
      open: () => {
        openPanel(true);
      },
      close: closePanel,
      send: (text) => sendMessage(widget, text),
      sessionId: () => state.sessionId
    };
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", mount);
    } else {
      mount();
    }
  }
  start();
})();
