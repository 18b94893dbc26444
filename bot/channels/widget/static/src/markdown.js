// The small part of Markdown that the assistant's responses use: paragraphs, line
// breaks, bulleted lists, [label](url), bare URLs and **bold**. Anything else stays
// literal text; there is deliberately no HTML path (see dom.js).
import { el } from "./dom.js";
import { link } from "./links.js";

// One alternative per inline kind, bounded in length so that a long message cannot make
// the expression backtrack for long. A bare URL does not take the sentence's final
// punctuation ("see https://example.com.").
const INLINE =
  /\[([^\]\n]{1,200})\]\(([^)\s]{1,2000})\)|(https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"])|\*\*([^*\n]{1,200})\*\*/g;
const BULLET = /^\s*[-*•]\s+/;

function appendInline(parent, text) {
  let last = 0;
  INLINE.lastIndex = 0; // shared, global expression: start each text at its beginning
  for (let match = INLINE.exec(text); match !== null; match = INLINE.exec(text)) {
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

/**
 * A message's text as a `div.ca-text`: blocks split by blank lines; a block whose every
 * line starts with a bullet is a list, any other block a paragraph with line breaks.
 */
export function richText(text) {
  const wrapper = el("div", { className: "ca-text" });
  String(text)
    .replace(/\r\n?/g, "\n")
    .split(/\n\s*\n/)
    .forEach((block) => {
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
