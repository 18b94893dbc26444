// Where the widget finds its server (src/config.js) and how it keeps values when the
// browser refuses storage (src/storage.js).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { readConfig, scriptUrlOf, staticBaseOf } from "../../bot/channels/widget/static/src/config.js";
import { createStorage } from "../../bot/channels/widget/static/src/storage.js";

const PAGE = "https://shop.example.com/products";
const EMBED = { src: "https://assistant.example.com/webhooks/widget/static/widget.js" };

describe("config", () => {
  test("an embed with no settings talks to where the script came from", () => {
    const url = scriptUrlOf(EMBED, PAGE);
    const config = readConfig(undefined, url);
    assert.equal(config.serverUrl, "https://assistant.example.com");
    assert.equal(config.channelPath, "/webhooks/widget");
    assert.equal(config.socketPath, "/socket.io");
    assert.equal(staticBaseOf(url), "https://assistant.example.com/webhooks/widget/static/");
  });

  test("a channel served under another prefix keeps its prefix", () => {
    const url = scriptUrlOf({ src: "https://a.example/bot/webhooks/widget/static/widget.js" }, PAGE);
    assert.equal(readConfig({}, url).channelPath, "/bot/webhooks/widget");
  });

  test("an injected script (no currentScript) assumes the assistant is the page's origin", () => {
    const url = scriptUrlOf(null, PAGE);
    assert.equal(url.href, "https://shop.example.com/webhooks/widget/static/widget.js");
  });

  test("the page's settings win, cleaned", () => {
    const config = readConfig(
      { serverUrl: "https://other.example//", position: "middle", maxLength: "abc", suggestions: "x", openOnLoad: 1 },
      scriptUrlOf(EMBED, PAGE)
    );
    assert.equal(config.serverUrl, "https://other.example");
    assert.equal(config.position, "right");
    assert.equal(config.maxLength, 2000);
    assert.deepEqual(config.suggestions, []);
    assert.equal(config.openOnLoad, true);
    assert.equal(readConfig({ position: "left" }, scriptUrlOf(EMBED, PAGE)).position, "left");
  });
});

describe("storage", () => {
  test("uses the browser's storage when it works", () => {
    const saved = new Map();
    const win = { localStorage: { getItem: (k) => saved.get(k) ?? null, setItem: (k, v) => saved.set(k, v) } };
    const storage = createStorage(win);
    storage.set("localStorage", "key", "value");
    assert.equal(saved.get("key"), "value");
    assert.equal(storage.get("localStorage", "key"), "value");
  });

  test("falls back to memory, per store, when storage throws", () => {
    const refusing = {
      getItem() {
        throw new Error("SecurityError");
      },
      setItem() {
        throw new Error("QuotaExceededError");
      }
    };
    const storage = createStorage({ localStorage: refusing, sessionStorage: refusing });
    assert.equal(storage.get("localStorage", "key"), null);
    storage.set("localStorage", "key", "kept");
    assert.equal(storage.get("localStorage", "key"), "kept");
    assert.equal(storage.get("sessionStorage", "key"), null);
  });
});
