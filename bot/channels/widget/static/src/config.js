// The widget's settings: the embedding page's `window.CloudAdvisorConfig`, with defaults
// taken from the URL the script was loaded from. That is what lets an embed be a single
// script tag: the server, the channel's path and the stylesheet default to wherever
// widget.js itself came from.

// Used when `document.currentScript` is unknown (the script was injected by other code
// after the page loaded): the path the assistant serves the widget at.
const DEFAULT_SCRIPT_PATH = "/webhooks/widget/static/widget.js";

/** The URL the widget was loaded from, resolved against the page's own URL. */
export function scriptUrlOf(currentScript, pageHref) {
  return new URL(currentScript ? currentScript.src : DEFAULT_SCRIPT_PATH, pageHref);
}

/** The folder of widget.js: the socket.io client and the stylesheet are next to it. */
export function staticBaseOf(scriptUrl) {
  return new URL(".", scriptUrl).href;
}

/** The page's settings completed with the defaults (see the embed example in main.js). */
export function readConfig(userConfig, scriptUrl) {
  const user = userConfig || {};
  const channelPathFromScript = scriptUrl.pathname.replace(/\/static\/widget\.js$/, "");
  const config = {
    serverUrl: user.serverUrl || scriptUrl.origin,
    channelPath: user.channelPath || channelPathFromScript || "/webhooks/widget",
    socketPath: user.socketPath || "/socket.io",
    title: user.title || "Cloud advisor",
    subtitle: user.subtitle || "Virtual assistant",
    greeting:
      user.greeting ||
      "Hi! I can explain virtual machines and containers and recommend one for your workload.",
    suggestions: Array.isArray(user.suggestions) ? user.suggestions : [],
    position: user.position === "left" ? "left" : "right",
    colors: user.colors || {},
    openOnLoad: Boolean(user.openOnLoad),
    storageKey: user.storageKey || "cloud-advisor-session",
    maxLength: Number(user.maxLength) || 2000
  };
  // A trailing slash would double the one every path starts with.
  config.serverUrl = config.serverUrl.replace(/\/+$/, "");
  return config;
}
