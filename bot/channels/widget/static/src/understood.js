// "What I understood" under the recommendation: the profile the advisor used, one item
// a field, marked "you said" or "assumed". A click on an item opens its other options;
// choosing one says it in words ("Actually, everything runs on Windows"), which the
// assistant reads as a correction like any other: the channel only accepts the payloads
// of buttons it offered, and these are not offered buttons.
import { el } from "./dom.js";

function sourceLabel(source) {
  return source === "said" ? "you said" : source === "not_sure" ? "not sure, assumed" : "assumed";
}

/** A `details.ca-understood` for `items`; `say(text)` sends a correction. */
export function understoodList(items, say) {
  const list = el("ul", { className: "ca-understood-items" });
  items.forEach((item) => {
    if (!item || typeof item.label !== "string") {
      return;
    }
    const entry = el("li", { className: `ca-understood-item ca-understood-${String(item.source)}` });
    const options = Array.isArray(item.options) ? item.options : [];
    const head = el(options.length ? "button" : "span", {
      type: options.length ? "button" : undefined,
      className: "ca-understood-label",
      text: `${item.label} (${sourceLabel(item.source)})`,
      "aria-expanded": options.length ? "false" : undefined
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
