/*!
 * Cloud advisor chat widget. Plain JavaScript, no build step, no third-party requests:
 * the socket.io client and the stylesheet are loaded from the assistant that serves
 * this file.
 *
 * Embed it on any page whose origin is in the assistant's ALLOWED_ORIGINS:
 *
 *   <script>
 *     window.CloudAdvisorConfig = {
 *       serverUrl: "https://assistant.example.com", // default: where this file came from
 *       title: "Cloud advisor",
 *       subtitle: "Virtual machines or containers? Ask me.",
 *       greeting: "Hi! How can I help with your workload?",
 *       suggestions: [{ title: "VMs vs containers?", payload: "/ask_difference" }],
 *       position: "right",                         // or "left"
 *       colors: { primary: "#0b57d0", onPrimary: "#ffffff" },
 *       openOnLoad: false
 *     };
 *   </script>
 *   <script src="https://assistant.example.com/webhooks/widget/static/widget.js" defer></script>
 *
 * Behind several assistant replicas, the load balancer must keep a socket's requests on
 * one replica by the `affinity` query parameter this widget sends (deploy/README.md,
 * "The widget on another site").
 *
 * Messages from the assistant (event `bot_uttered`) look like
 *   { text?, buttons?: [{title, payload}], custom?: {...}, image?, utter_action?, timestamp? }
 * Custom payloads understood here (send them with `dispatcher.utter_message(json_message=...)`
 * or a response's `custom:` key):
 *   { "scorecard": { "verdict": "container" | "vm" | "hybrid", "title": "Containers",
 *                    "hybrid_kind": null, "confidence": 0.8,
 *                    "factors": [{ "fact": "startup", "label": "...", "contribution": -1.5,
 *                                  "assumed": false }],
 *                    "offering": { "name": "...", "summary": "..." },
 *                    "pull": { "vm": 5, "container": 5.5 }, "balance": "...",
 *                    "sides": { "vm": ["..."], "container": ["..."] } } }
 *       -> drawn as a scorecard: the verdict, the confidence, both sides (each pull with
 *          its reasons, and why the verdict falls where it does) and one bar per factor
 *          (contribution < 0 leans to containers, > 0 to virtual machines, as the
 *          advisor engine signs it; `offering` may also be a plain string)
 *   { "input": "email" }                      -> the next answer is typed in an email field
 * During a live handoff to a person, their messages carry `engineer: "<name>"`, and the
 * event `handoff {status: "waiting" | "live" | "ended" | "timed_out", engineer?}` says
 * where it stands: the header then reads "You're talking to <name>".
 * The same email field is used after the response `utter_ask_email`.
 *
 * Security: every piece of text from the server or the visitor is inserted with
 * textContent / createElement, never innerHTML; links are limited to http(s) and mailto.
 */
(function () {
  "use strict";

  if (window.__cloudAdvisorWidgetLoaded) {
    return;
  }
  window.__cloudAdvisorWidgetLoaded = true;

  var script = document.currentScript;
  var scriptUrl = new URL(script ? script.src : "/webhooks/widget/static/widget.js", location.href);
  var staticBase = new URL(".", scriptUrl).href;
  var channelPathFromScript = scriptUrl.pathname.replace(/\/static\/widget\.js$/, "");

  var userConfig = window.CloudAdvisorConfig || {};
  var config = {
    serverUrl: userConfig.serverUrl || scriptUrl.origin,
    channelPath: userConfig.channelPath || channelPathFromScript || "/webhooks/widget",
    socketPath: userConfig.socketPath || "/socket.io",
    title: userConfig.title || "Cloud advisor",
    subtitle: userConfig.subtitle || "Virtual assistant",
    greeting:
      userConfig.greeting ||
      "Hi! I can explain virtual machines and containers and recommend one for your workload.",
    suggestions: Array.isArray(userConfig.suggestions) ? userConfig.suggestions : [],
    position: userConfig.position === "left" ? "left" : "right",
    colors: userConfig.colors || {},
    openOnLoad: Boolean(userConfig.openOnLoad),
    storageKey: userConfig.storageKey || "cloud-advisor-session",
    maxLength: Number(userConfig.maxLength) || 2000
  };
  config.serverUrl = config.serverUrl.replace(/\/+$/, "");

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
  var VERDICT_NAMES = {
    vm: "Virtual machines",
    vms: "Virtual machines",
    virtual_machines: "Virtual machines",
    container: "Containers",
    containers: "Containers",
    hybrid: "Hybrid: containers and virtual machines"
  };
  var EMAIL_RESPONSES = { utter_ask_email: true, utter_ask_lead_email: true };
  var TYPING_TIMEOUT_MS = 30000;

  // ---------------------------------------------------------------- storage
  var memoryStore = {};
  function storageGet(store, key) {
    try {
      return window[store].getItem(key);
    } catch (e) {
      return memoryStore[store + key] || null;
    }
  }
  function storageSet(store, key, value) {
    try {
      window[store].setItem(key, value);
    } catch (e) {
      memoryStore[store + key] = value;
    }
  }
  var sessionKey = config.storageKey + ":" + config.serverUrl;
  var affinityStorageKey = sessionKey + ":affinity";

  // ---------------------------------------------------------------- DOM helpers
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (name) {
        var value = attrs[name];
        if (value === null || value === undefined || value === false) {
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
    (children || []).forEach(function (child) {
      if (child !== null && child !== undefined) {
        node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
      }
    });
    return node;
  }

  // A speech-bubble icon drawn as SVG, so it needs no icon font or emoji support.
  function chatIcon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "ca-launcher-icon");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
    path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    return svg;
  }

  function safeHref(url) {
    try {
      var parsed = new URL(url, location.href);
      if (parsed.protocol === "http:" || parsed.protocol === "https:" || parsed.protocol === "mailto:") {
        return parsed.href;
      }
    } catch (e) {
      /* not a URL: shown as text */
    }
    return null;
  }

  function link(label, url) {
    var href = safeHref(url);
    if (!href) {
      return document.createTextNode(label);
    }
    var a = el("a", { href: href, rel: "noopener noreferrer nofollow", text: label });
    if (!/^mailto:/.test(href)) {
      a.setAttribute("target", "_blank");
    }
    return a;
  }

  // Inline markup: [label](url), bare http(s) URLs and **bold**. Everything else is text.
  var INLINE = /\[([^\]\n]{1,200})\]\(([^)\s]{1,2000})\)|(https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"])|\*\*([^*\n]{1,200})\*\*/g;
  function appendInline(parent, text) {
    var last = 0;
    var match;
    INLINE.lastIndex = 0;
    while ((match = INLINE.exec(text)) !== null) {
      if (match.index > last) {
        parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      }
      if (match[1] !== undefined) {
        parent.appendChild(link(match[1], match[2]));
      } else if (match[3] !== undefined) {
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
    var wrapper = el("div", { className: "ca-text" });
    String(text)
      .replace(/\r\n?/g, "\n")
      .split(/\n\s*\n/)
      .forEach(function (block) {
        var lines = block.split("\n").filter(function (line) {
          return line.trim() !== "";
        });
        if (!lines.length) {
          return;
        }
        var isList = lines.every(function (line) {
          return /^\s*[-*•]\s+/.test(line);
        });
        if (isList) {
          var list = el("ul");
          lines.forEach(function (line) {
            var item = el("li");
            appendInline(item, line.replace(/^\s*[-*•]\s+/, ""));
            list.appendChild(item);
          });
          wrapper.appendChild(list);
          return;
        }
        var paragraph = el("p");
        lines.forEach(function (line, index) {
          if (index > 0) {
            paragraph.appendChild(el("br"));
          }
          appendInline(paragraph, line);
        });
        wrapper.appendChild(paragraph);
      });
    return wrapper;
  }

  function humanise(value) {
    var text = String(value).replace(/[_-]+/g, " ").trim();
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  function formatNumber(value) {
    var rounded = Math.round(value * 10) / 10;
    return (rounded > 0 ? "+" : rounded < 0 ? "\u2212" : "") + Math.abs(rounded).toFixed(1);
  }

  function offeringParts(offering) {
    if (!offering) {
      return null;
    }
    if (typeof offering === "string") {
      return { name: offering, summary: "" };
    }
    return { name: String(offering.name || ""), summary: String(offering.summary || "") };
  }

  // The advisor's result: the verdict, the confidence and one bar per deciding factor.
  // A factor's contribution is signed as the advisor engine defines it: negative pushes
  // toward containers (bar to the left), positive toward virtual machines (to the right).
  function scorecard(card) {
    var verdictKey = String(card.verdict || "").toLowerCase();
    var verdict = card.title ? String(card.title) : VERDICT_NAMES[verdictKey] || humanise(card.verdict || "Recommendation");
    var titleId = "ca-sc-" + Math.random().toString(36).slice(2);
    var figure = el("figure", {
      className: "ca-scorecard",
      "aria-labelledby": titleId,
      "data-verdict": verdictKey
    });
    var caption = el("figcaption", { id: titleId }, [
      el("span", { className: "ca-scorecard-kicker", text: "Our recommendation" }),
      el("strong", { className: "ca-verdict", text: verdict })
    ]);
    if (card.hybrid_kind && !card.title) {
      caption.appendChild(el("span", { className: "ca-hybrid-kind", text: humanise(card.hybrid_kind) }));
    }
    figure.appendChild(caption);

    var confidence = Number(card.confidence);
    if (card.confidence !== null && card.confidence !== undefined && isFinite(confidence)) {
      var percent = Math.round(Math.max(0, Math.min(1, confidence)) * 100);
      figure.appendChild(
        el("div", { className: "ca-confidence" }, [
          el("span", { text: "Confidence" }),
          el("meter", { min: "0", max: "100", value: String(percent), "aria-label": "Confidence" }, [percent + "%"]),
          el("span", { className: "ca-confidence-value", text: percent + "%" })
        ])
      );
    }

    // Both sides (advisor engine v2): how hard the workload pulls toward each, what
    // makes up each pull, and why the verdict falls where it does. Cards without
    // `pull` (older payloads) skip this part.
    var pull = card.pull && typeof card.pull === "object" ? card.pull : null;
    var sides = card.sides && typeof card.sides === "object" ? card.sides : {};
    if (pull) {
      var pullVms = Math.max(0, Number(pull.vm) || 0);
      var pullContainers = Math.max(0, Number(pull.container) || 0);
      var strongest = Math.max(pullVms, pullContainers) || 1;
      var sideList = el("div", { className: "ca-sides", "aria-label": "What pulls each way" });
      [
        { key: "vm", name: "Toward virtual machines", value: pullVms, color: "var(--ca-vms)" },
        { key: "container", name: "Toward containers", value: pullContainers, color: "var(--ca-containers)" }
      ].forEach(function (side) {
        var fill = el("span", { className: "ca-side-fill" });
        fill.style.display = "block";
        fill.style.height = "100%";
        fill.style.background = side.color;
        fill.style.width = Math.round((side.value / strongest) * 100) + "%";
        var track = el("span", {
          className: "ca-side-bar",
          role: "img",
          "aria-label": side.name + ": pull " + side.value.toFixed(1)
        }, [fill]);
        track.style.display = "block";
        track.style.height = "6px";
        track.style.margin = "2px 0 4px";
        track.style.background = "#e7ebf0";
        var reasons = (Array.isArray(sides[side.key]) ? sides[side.key] : [])
          .filter(function (reason) {
            return typeof reason === "string" && reason.trim() !== "";
          })
          .slice(0, 3);
        var section = el("div", { className: "ca-side ca-side-" + side.key }, [
          el("strong", { className: "ca-side-name", text: side.name + " " + side.value.toFixed(1) }),
          track
        ]);
        if (reasons.length) {
          var reasonList = el("ul", { className: "ca-side-reasons" });
          reasons.forEach(function (reason) {
            reasonList.appendChild(el("li", { text: reason }));
          });
          section.appendChild(reasonList);
        } else {
          section.appendChild(el("p", { className: "ca-side-none", text: "Nothing pulls this way." }));
        }
        sideList.appendChild(section);
      });
      figure.appendChild(sideList);
      if (typeof card.balance === "string" && card.balance.trim() !== "") {
        figure.appendChild(el("p", { className: "ca-balance", text: card.balance }));
      }
    }

    var factors = (Array.isArray(card.factors) ? card.factors : [])
      .filter(function (factor) {
        return factor && typeof factor === "object";
      })
      .map(function (factor) {
        return { factor: factor, value: Number(factor.contribution) || 0 };
      })
      .filter(function (item) {
        return item.value !== 0; // only what weighed in decided it
      })
      .sort(function (a, b) {
        return Math.abs(b.value) - Math.abs(a.value);
      })
      .slice(0, 6);
    if (factors.length) {
      var largest = factors.reduce(function (max, item) {
        return Math.max(max, Math.abs(item.value));
      }, 0) || 1;
      figure.appendChild(
        el("div", { className: "ca-axis", "aria-hidden": "true" }, [
          el("span", { text: "\u25C0 Containers" }),
          el("span", { text: "Virtual machines \u25B6" })
        ])
      );
      var list = el("ul", { className: "ca-factors", "aria-label": "What decided it" });
      factors.forEach(function (item) {
        var factor = item.factor;
        var value = item.value;
        var label = String(factor.label || humanise(factor.fact || factor.name || "factor"));
        var side = value < 0 ? "containers" : value > 0 ? "vms" : "neutral";
        var towards = value < 0 ? "favours containers" : value > 0 ? "favours virtual machines" : "no effect";
        var fill = el("span", { className: "ca-bar-fill" });
        fill.style.width = Math.max(4, Math.round((Math.abs(value) / largest) * 50)) + "%";
        var labelNode = el("span", { className: "ca-factor-label", text: label });
        if (factor.assumed) {
          labelNode.appendChild(el("span", { className: "ca-assumed", text: " (assumed)" }));
        }
        list.appendChild(
          el("li", { className: "ca-factor ca-toward-" + side, "data-factor": factor.fact || factor.name || null }, [
            labelNode,
            el(
              "span",
              { className: "ca-bar", role: "img", "aria-label": label + ": " + towards + ", weight " + formatNumber(value) },
              [fill]
            ),
            el("span", { className: "ca-factor-value", "aria-hidden": "true", text: formatNumber(value) })
          ])
        );
      });
      figure.appendChild(list);
    }
    var offering = offeringParts(card.offering);
    if (offering && offering.name) {
      var offer = el("p", { className: "ca-offering" }, [el("span", { text: "Suggested offering: " }), el("strong", { text: offering.name })]);
      if (offering.summary) {
        offer.appendChild(el("span", { className: "ca-offering-summary", text: offering.summary }));
      }
      figure.appendChild(offer);
    }
    return figure;
  }

  // ---------------------------------------------------------------- the widget
  var state = {
    open: false,
    socket: null,
    sessionId: storageGet("localStorage", sessionKey),
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

  var root = el("div", { className: "ca-root ca-" + config.position, "data-cloud-advisor": "" });
  Object.keys(COLOR_VARS).forEach(function (name) {
    if (typeof config.colors[name] === "string") {
      root.style.setProperty(COLOR_VARS[name], config.colors[name]);
    }
  });

  var panelId = "ca-panel";
  var titleId = "ca-title";
  var launcherBadge = el("span", { className: "ca-badge", hidden: true, "aria-hidden": "true" });
  var launcher = el(
    "button",
    {
      type: "button",
      className: "ca-launcher",
      "aria-expanded": "false",
      "aria-controls": panelId,
      "aria-label": "Open chat: " + config.title
    },
    [
      chatIcon(),
      el("span", { className: "ca-launcher-text", text: "Ask our advisor" }),
      launcherBadge
    ]
  );

  var closeButton = el("button", { type: "button", className: "ca-close", "aria-label": "Close chat", text: "\u00D7" });
  var statusLine = el("p", { className: "ca-subtitle", text: config.subtitle });
  var offline = el("div", { className: "ca-offline", role: "status", hidden: true });
  var log = el("div", {
    className: "ca-log",
    role: "log",
    "aria-live": "polite",
    "aria-relevant": "additions",
    "aria-label": "Conversation with " + config.title,
    tabindex: "0"
  });
  var typing = el("div", { className: "ca-typing", hidden: true, role: "status" }, [
    el("span", { className: "ca-sr-only", text: config.title + " is typing" }),
    el("span", { className: "ca-dot", "aria-hidden": "true" }),
    el("span", { className: "ca-dot", "aria-hidden": "true" }),
    el("span", { className: "ca-dot", "aria-hidden": "true" })
  ]);
  var inputLabel = el("label", { className: "ca-sr-only", for: "ca-input", text: "Your message" });
  var input = el("input", {
    id: "ca-input",
    className: "ca-input",
    type: "text",
    autocomplete: "off",
    maxlength: String(config.maxLength),
    placeholder: "Type your question\u2026",
    "aria-describedby": "ca-hint"
  });
  var sendButton = el("button", { type: "submit", className: "ca-send", text: "Send" });
  // noValidate: an email field must still accept "why do you need it?" or "no thanks".
  var form = el("form", { className: "ca-form", novalidate: true }, [inputLabel, input, sendButton]);
  var hint = el("p", { id: "ca-hint", className: "ca-hint", text: "Automated assistant. Please don't share passwords or secrets." });

  var panel = el(
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

  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  function setInputMode(mode) {
    state.inputMode = mode;
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
      input.placeholder = "Type your question\u2026";
      inputLabel.textContent = "Your message";
    }
  }

  function disableOldButtons() {
    var groups = log.querySelectorAll(".ca-quick-replies");
    Array.prototype.forEach.call(groups, function (group) {
      Array.prototype.forEach.call(group.querySelectorAll("button"), function (button) {
        button.disabled = true;
      });
      group.classList.add("ca-used");
    });
  }

  function addUserBubble(text) {
    disableOldButtons();
    log.appendChild(el("div", { className: "ca-msg ca-user" }, [el("span", { className: "ca-sr-only", text: "You: " }), el("div", { className: "ca-bubble", text: text })]));
    scrollToEnd();
  }

  // "What I understood": the profile the recommendation used, one item a field, marked
  // "you said" or "assumed". A click on an item opens its options; choosing one says it
  // in words ("Actually, everything runs on Windows"), which the assistant reads as a
  // correction like any other (the channel only accepts payloads of offered buttons).
  function understoodList(items) {
    var list = el("ul", { className: "ca-understood-items" });
    items.forEach(function (item) {
      if (!item || typeof item.label !== "string") {
        return;
      }
      var source = item.source === "said" ? "you said" : item.source === "not_sure" ? "not sure, assumed" : "assumed";
      var entry = el("li", { className: "ca-understood-item ca-understood-" + String(item.source) });
      var options = Array.isArray(item.options) ? item.options : [];
      var head = el(options.length ? "button" : "span", {
        type: options.length ? "button" : undefined,
        className: "ca-understood-label",
        text: item.label + " (" + source + ")",
        "aria-expanded": options.length ? "false" : undefined
      });
      entry.appendChild(head);
      if (options.length) {
        var choices = el("div", { className: "ca-understood-options", role: "group", hidden: "hidden" });
        options.forEach(function (option) {
          if (option.value === item.value || typeof option.label !== "string") {
            return;
          }
          var choice = el("button", { type: "button", className: "ca-quick-reply", text: String(option.label) });
          choice.addEventListener("click", function () {
            choices.setAttribute("hidden", "hidden");
            head.setAttribute("aria-expanded", "false");
            sendMessage("Actually, " + option.label);
          });
          choices.appendChild(choice);
        });
        head.addEventListener("click", function () {
          var open = choices.hasAttribute("hidden");
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
    return el("details", { className: "ca-understood" }, [
      el("summary", { text: "What I understood" }),
      list
    ]);
  }

  function addBotMessage(message, live) {
    var parts = [];
    if (typeof message.engineer === "string" && message.engineer) {
      // A person from the team, not the assistant: say who.
      parts.push(el("span", { className: "ca-from", text: message.engineer + ": " }));
    } else {
      parts.push(el("span", { className: "ca-sr-only", text: config.title + ": " }));
    }
    if (message.text) {
      parts.push(el("div", { className: "ca-bubble" + (message.notice ? " ca-notice" : "") }, [richText(message.text)]));
    }
    var custom = message.custom || {};
    if (custom.scorecard && typeof custom.scorecard === "object") {
      parts.push(scorecard(custom.scorecard));
      if (Array.isArray(custom.scorecard.understood) && custom.scorecard.understood.length) {
        parts.push(understoodList(custom.scorecard.understood));
      }
    }
    if (message.image && safeHref(message.image)) {
      parts.push(el("img", { className: "ca-image", src: safeHref(message.image), alt: "" }));
    }
    if (Array.isArray(message.buttons) && message.buttons.length) {
      disableOldButtons();
      var group = el("div", { className: "ca-quick-replies", role: "group", "aria-label": "Suggested replies" });
      message.buttons.forEach(function (button) {
        var quick = el("button", { type: "button", className: "ca-quick-reply", text: String(button.title) });
        quick.addEventListener("click", function () {
          if (quick.disabled) {
            return;
          }
          sendMessage(String(button.payload), String(button.title));
          input.focus();
        });
        group.appendChild(quick);
      });
      parts.push(group);
    }
    if (parts.length === 1) {
      return;
    }
    log.appendChild(el("div", { className: "ca-msg ca-bot" }, parts));
    if (custom.input === "email" || EMAIL_RESPONSES[message.utter_action]) {
      setInputMode("email");
    }
    if (typeof message.timestamp === "number" && message.timestamp > state.lastTimestamp) {
      state.lastTimestamp = message.timestamp;
    }
    if (live && !state.open) {
      state.unread += 1;
      launcherBadge.textContent = String(state.unread);
      launcherBadge.hidden = false;
      launcher.setAttribute("aria-label", "Open chat: " + config.title + " (" + state.unread + " new)");
    }
    scrollToEnd();
  }

  // The greeting is local (not part of the stored conversation); its suggestions are
  // only offered before the conversation has started.
  function showGreeting(withSuggestions) {
    addBotMessage({ text: config.greeting, buttons: withSuggestions ? config.suggestions : [] }, false);
  }

  function setTyping(on) {
    clearTimeout(state.typingTimer);
    typing.hidden = !on;
    if (on) {
      state.typingTimer = setTimeout(function () {
        typing.hidden = true;
      }, TYPING_TIMEOUT_MS);
      scrollToEnd();
    }
  }

  function showHandoff(data) {
    var status = data && data.status;
    state.handoff = status === "waiting" || status === "live" || status === "requested";
    root.classList.toggle("ca-is-handoff", state.handoff);
    setTyping(false);
    if (status === "live" && typeof data.engineer === "string" && data.engineer) {
      state.handoffLine = "You're talking to " + data.engineer;
    } else if (state.handoff) {
      state.handoffLine = "Waiting for a person from our team\u2026";
    } else {
      state.handoffLine = "";
    }
    statusLine.textContent = state.handoffLine || config.subtitle;
  }

  function setOnline(online) {
    var ready = online && state.confirmed;
    sendButton.disabled = !ready;
    input.setAttribute("aria-disabled", ready ? "false" : "true");
    root.classList.toggle("ca-is-offline", !online);
    if (online) {
      offline.hidden = true;
      offline.textContent = "";
      statusLine.textContent = state.handoffLine || config.subtitle;
    } else {
      offline.hidden = false;
      offline.textContent = "You're offline. Reconnecting\u2026 Your conversation is kept.";
      statusLine.textContent = "Offline";
    }
  }

  function sendMessage(text, displayText) {
    var message = String(text).trim();
    if (!message || !state.socket || !state.socket.connected || !state.confirmed) {
      return false;
    }
    var shown = displayText || message;
    addUserBubble(shown);
    state.pendingEcho.push(shown);
    if (state.pendingEcho.length > 20) {
      state.pendingEcho.shift();
    }
    var metadata = displayText ? { display_text: displayText } : {};
    state.socket.emit("user_uttered", { message: message, session_id: state.sessionId, metadata: metadata });
    setInputMode("text");
    // While a person has the conversation, nothing is typing until they answer.
    setTyping(!state.handoff);
    return true;
  }

  function historyUrl() {
    return config.serverUrl + config.channelPath + "/history";
  }

  function renderHistory(messages, onlyNewer) {
    var since = state.lastTimestamp;
    log.setAttribute("aria-busy", "true");
    messages.forEach(function (message) {
      var ts = typeof message.timestamp === "number" ? message.timestamp : 0;
      if (onlyNewer && ts <= since) {
        return;
      }
      if (message.sender === "user") {
        var pending = state.pendingEcho.indexOf(message.text);
        if (onlyNewer && pending !== -1) {
          state.pendingEcho.splice(pending, 1);
        } else {
          addUserBubble(message.text);
        }
        if (ts > state.lastTimestamp) {
          state.lastTimestamp = ts;
        }
      } else {
        addBotMessage(message, false);
      }
    });
    log.removeAttribute("aria-busy");
  }

  function loadHistory() {
    var onlyNewer = state.historyLoaded;
    // The session id goes in the body, never in the URL, which proxies log. As
    // text/plain the cross-site request needs no preflight.
    return fetch(historyUrl(), {
      method: "POST",
      credentials: "omit",
      cache: "no-store",
      headers: { "Content-Type": "text/plain" },
      body: JSON.stringify({ session_id: state.sessionId })
    })
      .then(function (res) {
        if (!res.ok) {
          throw new Error("history " + res.status);
        }
        return res.json();
      })
      .then(function (body) {
        if (body.max_message_chars) {
          input.setAttribute("maxlength", String(body.max_message_chars));
        }
        var messages = Array.isArray(body.messages) ? body.messages : [];
        if (!onlyNewer) {
          log.textContent = "";
          showGreeting(messages.length === 0);
        }
        renderHistory(messages, onlyNewer);
        state.historyLoaded = true;
        // Joined in the middle of a turn (a reload or a new tab while the assistant was
        // answering): the turn's messages are not stored yet, so draw the whole history
        // again once the turn is over.
        clearTimeout(state.busyTimer);
        if (body.busy && state.busyPolls < 40) {
          state.busyPolls += 1;
          setTyping(true);
          state.busyTimer = setTimeout(function () {
            state.historyLoaded = false;
            loadHistory();
          }, 1500);
        } else if (state.busyPolls) {
          state.busyPolls = 0;
          setTyping(false);
        }
      })
      .catch(function () {
        if (!state.historyLoaded) {
          log.textContent = "";
          showGreeting(true);
          state.historyLoaded = true;
        }
      });
  }

  // A random key that keeps this browser's socket requests on one replica; shared by
  // its tabs (so that one turn's replies reach them all) and unrelated to the session id,
  // which must stay out of URLs.
  function affinityKey() {
    var key = storageGet("localStorage", affinityStorageKey);
    if (!key || !/^[0-9a-f]{16,64}$/.test(key)) {
      var bytes = new Uint8Array(16);
      window.crypto.getRandomValues(bytes);
      key = Array.prototype.map.call(bytes, function (b) {
        return ("0" + b.toString(16)).slice(-2);
      }).join("");
      storageSet("localStorage", affinityStorageKey, key);
    }
    return key;
  }

  function connect() {
    if (state.socket || typeof window.io !== "function") {
      return;
    }
    // Websocket first: one connection carries the whole session, so any replica can
    // hold it. Long-polling is the fallback for networks that block websockets
    // (tryAllTransports: after a failed websocket, try polling before giving up). Its
    // requests are separate HTTP requests that must all reach the replica holding the
    // session. A cookie cannot be relied on for that here: on another site it is a
    // third-party cookie, which many browsers block. So every request carries the
    // affinity key in its URL and the load balancer hashes it (deploy/README.md).
    // withCredentials still lets a load balancer that can only pin by cookie work where
    // the browser allows it (the server answers credentialed requests for allowed
    // origins only).
    var socket = window.io(config.serverUrl, {
      path: config.socketPath,
      transports: ["websocket", "polling"],
      tryAllTransports: true,
      withCredentials: true,
      query: { affinity: affinityKey() },
      reconnection: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 4000
    });
    state.socket = socket;
    socket.on("connect", function () {
      state.confirmed = false;
      socket.emit("session_request", { session_id: state.sessionId });
    });
    socket.on("session_confirm", function (sessionId) {
      var id = typeof sessionId === "string" ? sessionId : sessionId && sessionId.session_id;
      if (id !== state.sessionId) {
        // A new conversation (first visit, or the server refused the stored id).
        state.historyLoaded = false;
        state.lastTimestamp = 0;
        state.sessionId = id;
        storageSet("localStorage", sessionKey, id);
      }
      // Sending is enabled only once the history is drawn, so that a message typed
      // meanwhile cannot be wiped or shown out of order.
      loadHistory().then(function () {
        state.confirmed = true;
        setOnline(true);
      });
    });
    socket.on("bot_uttered", function (message) {
      if (message && typeof message === "object") {
        addBotMessage(message, true);
      }
    });
    socket.on("handoff", showHandoff);
    socket.on("bot_typing", function (data) {
      setTyping(Boolean(data && data.typing));
    });
    socket.on("user_echo", function (data) {
      if (data && typeof data.text === "string") {
        addUserBubble(data.text);
      }
    });
    socket.on("disconnect", function () {
      state.confirmed = false;
      setTyping(false);
      setOnline(false);
    });
    socket.on("connect_error", function () {
      state.confirmed = false;
      setOnline(false);
    });
  }

  function loadSocketClient(done) {
    if (typeof window.io === "function") {
      done();
      return;
    }
    var tag = el("script", { src: staticBase + "socket.io.min.js", async: true });
    tag.addEventListener("load", done);
    tag.addEventListener("error", function () {
      setOnline(false);
    });
    document.head.appendChild(tag);
  }

  function openPanel(focusInput) {
    state.open = true;
    panel.hidden = false;
    root.classList.add("ca-is-open");
    launcher.setAttribute("aria-expanded", "true");
    state.unread = 0;
    launcherBadge.hidden = true;
    launcher.setAttribute("aria-label", "Close chat: " + config.title);
    storageSet("sessionStorage", sessionKey + ":open", "1");
    loadSocketClient(connect);
    scrollToEnd();
    if (focusInput !== false) {
      input.focus();
    }
  }

  function closePanel() {
    state.open = false;
    panel.hidden = true;
    root.classList.remove("ca-is-open");
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-label", "Open chat: " + config.title);
    storageSet("sessionStorage", sessionKey + ":open", "0");
    launcher.focus();
  }

  launcher.addEventListener("click", function () {
    if (state.open) {
      closePanel();
    } else {
      openPanel(true);
    }
  });
  closeButton.addEventListener("click", closePanel);
  root.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && state.open) {
      event.preventDefault();
      closePanel();
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (sendMessage(input.value)) {
      input.value = "";
    }
    input.focus();
  });
  window.addEventListener("offline", function () {
    setOnline(false);
  });
  window.addEventListener("online", function () {
    if (state.socket && state.socket.connected && state.confirmed) {
      setOnline(true);
    }
  });

  function mount() {
    var css = el("link", { rel: "stylesheet", href: staticBase + "widget.css" });
    document.head.appendChild(css);
    document.body.appendChild(root);
    setOnline(true);
    sendButton.disabled = true;
    var reopen = storageGet("sessionStorage", sessionKey + ":open") === "1";
    if (config.openOnLoad || reopen) {
      openPanel(false);
    } else if (state.sessionId) {
      // A returning visitor: connect now so replies and history are ready on open.
      loadSocketClient(connect);
    }
  }

  window.CloudAdvisor = {
    open: function () {
      openPanel(true);
    },
    close: closePanel,
    send: function (text) {
      return sendMessage(text);
    },
    sessionId: function () {
      return state.sessionId;
    }
  };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mount);
  } else {
    mount();
  }
})();
