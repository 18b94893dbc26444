// The socket.io connection: loading the client, the session handshake and the events
// the assistant sends. Event names and payloads are those of the widget channel
// (bot/channels/widget/channel.py).
import { el } from "./dom.js";
import { showHandoff } from "./handoff.js";
import { loadHistory } from "./history.js";
import { addBotMessage, addUserBubble } from "./messages.js";
import { setOnline, setTyping } from "./status.js";

/**
 * A random key that keeps this browser's socket requests on one replica; shared by its
 * tabs (so that one turn's replies reach them all) and unrelated to the session id,
 * which must stay out of URLs.
 */
export function storedAffinityKey(storage, storageKey) {
  let key = storage.get("localStorage", storageKey);
  if (!key || !/^[0-9a-f]{16,64}$/.test(key)) {
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    key = Array.prototype.map.call(bytes, (b) => `0${b.toString(16)}`.slice(-2)).join("");
    storage.set("localStorage", storageKey, key);
  }
  return key;
}

/** Open the socket once (later calls do nothing) and handle its events. */
export function connect(widget) {
  const { config, state, storage, sessionKey, affinityStorageKey } = widget;
  if (state.socket || typeof window.io !== "function") {
    return;
  }
  // The load balancer's configuration is checked against the parameter this key is sent
  // as (`affinity`, tests/unit/test_deploy_files.py).
  const affinityKey = () => storedAffinityKey(storage, affinityStorageKey);
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
  const socket = window.io(config.serverUrl, {
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
  socket.on("connect", () => {
    state.confirmed = false;
    socket.emit("session_request", { session_id: state.sessionId });
  });
  socket.on("session_confirm", (sessionId) => {
    const id = typeof sessionId === "string" ? sessionId : sessionId?.session_id;
    if (id !== state.sessionId) {
      // A new conversation (first visit, or the server refused the stored id).
      state.historyLoaded = false;
      state.lastTimestamp = 0;
      state.sessionId = id;
      storage.set("localStorage", sessionKey, id);
    }
    // Sending is enabled only once the history is drawn, so that a message typed
    // meanwhile cannot be wiped or shown out of order.
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
    setTyping(widget, Boolean(data?.typing));
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

/**
 * Load the socket.io client from next to widget.js (never from a CDN: the widget makes
 * no third-party requests), unless the page already has one; then call `done`.
 */
export function loadSocketClient(widget, done) {
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
