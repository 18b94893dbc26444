/*
 * Cloud advisor chat widget: the entry module. scripts/build-widget.mjs bundles it with
 * the modules it imports into ../widget.js, one classic script, which is what sites
 * embed; no third-party requests: the socket.io client and the stylesheet are loaded
 * from the assistant that serves widget.js.
 *
 * Embed it on any page whose origin is in the assistant's ALLOWED_ORIGINS:
 *
 *   <script>
 *     window.CloudAdvisorConfig = {
 *       serverUrl: "https://assistant.example.com", // default: where widget.js came from
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
 * Custom payloads understood (send them with `dispatcher.utter_message(json_message=...)`
 * or a response's `custom:` key):
 *   { "scorecard": { "verdict": "container" | "vm" | "hybrid", "title": "Containers",
 *                    "hybrid_kind": null, "confidence": 0.8,
 *                    "factors": [{ "fact": "startup", "label": "...", "contribution": -1.5,
 *                                  "assumed": false }],
 *                    "offering": { "name": "...", "summary": "..." },
 *                    "pull": { "vm": 5, "container": 5.5 }, "balance": "...",
 *                    "sides": { "vm": ["..."], "container": ["..."] },
 *                    "understood": [{ "label": "...", "source": "said", "options": [] }] } }
 *       -> the recommendation card (scorecard.js) and "What I understood" (understood.js)
 *   { "input": "email" }                      -> the next answer is typed in an email field
 * The same email field is used after the response `utter_ask_email`.
 * During a live handoff to a person, their messages carry `engineer: "<name>"`, and the
 * event `handoff {status: "waiting" | "live" | "ended" | "timed_out", engineer?}` says
 * where it stands: the header then reads "You're talking to <name>" (handoff.js).
 *
 * Security: every piece of text from the server or the visitor is inserted with
 * textContent / createElement, never innerHTML (dom.js); links are limited to http(s)
 * and mailto (links.js).
 *
 * Only this module does anything when the script runs; the others only define.
 */
import { readConfig, scriptUrlOf, staticBaseOf } from "./config.js";
import { el } from "./dom.js";
import { sendMessage } from "./messages.js";
import { buildPanel, scrollToEnd } from "./panel.js";
import { connect, loadSocketClient } from "./socket.js";
import { setOnline } from "./status.js";
import { createStorage } from "./storage.js";

function start() {
  // The script tag may appear twice (a site template and a tag manager): one widget.
  if (window.__cloudAdvisorWidgetLoaded) {
    return;
  }
  window.__cloudAdvisorWidgetLoaded = true;

  // Read now: `document.currentScript` is only set while the script itself runs.
  const scriptUrl = scriptUrlOf(document.currentScript, location.href);
  const config = readConfig(window.CloudAdvisorConfig, scriptUrl);
  const storage = createStorage(window);
  // Per assistant: two widgets of different assistants on one site keep apart.
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
  // What every other module is handed: the settings, the state and the elements.
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
  // Whether the panel was open survives a reload of this tab only (sessionStorage).
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
    if (state.socket?.connected && state.confirmed) {
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
      // A returning visitor: connect now so replies and history are ready on open.
      loadSocketClient(widget, () => connect(widget));
    }
  }

  // For the embedding page: e.g. its own "Ask the advisor" button calls open().
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
