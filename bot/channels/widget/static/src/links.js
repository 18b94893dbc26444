// Links and images come from the server's text, which a visitor's own words can reach
// (an echoed answer). Only http(s) and mailto are followed: a `javascript:` or `data:`
// URL would run or show something on the embedding page.
import { el } from "./dom.js";

/** The absolute URL when it is http(s) or mailto; null otherwise (shown as text). */
export function safeHref(url) {
  try {
    const parsed = new URL(url, location.href);
    if (parsed.protocol === "http:" || parsed.protocol === "https:" || parsed.protocol === "mailto:") {
      return parsed.href;
    }
  } catch {
    /* not a URL: shown as text */
  }
  return null;
}

/** An `<a>` that opens in a new tab without access to this page, or the bare label. */
export function link(label, url) {
  const href = safeHref(url);
  if (!href) {
    return document.createTextNode(label);
  }
  const a = el("a", { href: href, rel: "noopener noreferrer nofollow", text: label });
  if (!/^mailto:/.test(href)) {
    a.setAttribute("target", "_blank");
  }
  return a;
}
