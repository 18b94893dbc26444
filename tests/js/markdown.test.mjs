// The Markdown subset of the assistant's messages (src/markdown.js), and that nothing in
// a message can become markup or an unsafe link on the embedding page.
import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { richText } from "../../bot/channels/widget/static/src/markdown.js";
import { byTag, installDocument, toHTML } from "./dom-stub.mjs";

beforeEach(() => installDocument());

const html = (text) => toHTML(richText(text));

describe("blocks", () => {
  const cases = [
    ["one line", "Hello", '<div class="ca-text"><p>Hello</p></div>'],
    ["line breaks within a paragraph", "one\ntwo", '<div class="ca-text"><p>one<br>two</p></div>'],
    ["blank lines split paragraphs", "one\n\n  \ntwo", '<div class="ca-text"><p>one</p><p>two</p></div>'],
    ["Windows line ends", "one\r\ntwo\r\n\r\nthree", '<div class="ca-text"><p>one<br>two</p><p>three</p></div>'],
    [
      "every line a bullet: a list, each bullet kind",
      "- one\n* two\n• three",
      '<div class="ca-text"><ul><li>one</li><li>two</li><li>three</li></ul></div>'
    ],
    [
      "a list after a paragraph",
      "Pros:\n\n- fast\n- cheap",
      '<div class="ca-text"><p>Pros:</p><ul><li>fast</li><li>cheap</li></ul></div>'
    ],
    ["one line without a bullet keeps a paragraph", "- one\ntwo", '<div class="ca-text"><p>- one<br>two</p></div>'],
    ["a bullet needs a space after it", "-one", '<div class="ca-text"><p>-one</p></div>'],
    ["empty text", "", '<div class="ca-text"></div>']
  ];
  for (const [name, text, expected] of cases) {
    test(name, () => assert.equal(html(text), expected));
  }

  test("non-string text is shown as text", () => {
    assert.equal(html(42), '<div class="ca-text"><p>42</p></div>');
  });
});

describe("inline markup", () => {
  test("a [label](url) link opens in a new tab without access to the page", () => {
    assert.equal(
      html("See [the docs](https://example.com/docs?a=1&b=2)."),
      '<div class="ca-text"><p>See <a href="https://example.com/docs?a=1&amp;b=2" ' +
        'rel="noopener noreferrer nofollow" target="_blank">the docs</a>.</p></div>'
    );
  });

  test("a bare URL is linked without the sentence's final punctuation", () => {
    const [a] = byTag(richText("Go to https://example.com/x. Then ask."), "a");
    assert.equal(a.getAttribute("href"), "https://example.com/x");
    assert.equal(a.textContent, "https://example.com/x");
  });

  test("mailto links stay in the page (no new tab)", () => {
    const [a] = byTag(richText("[Write to us](mailto:sales@example.com)"), "a");
    assert.equal(a.getAttribute("href"), "mailto:sales@example.com");
    assert.equal(a.getAttribute("target"), null);
  });

  test("a relative link resolves against the embedding page", () => {
    const [a] = byTag(richText("[pricing](/pricing)"), "a");
    assert.equal(a.getAttribute("href"), "https://shop.example.com/pricing");
  });

  test("**bold** becomes strong", () => {
    assert.equal(html("It is **much** faster"), '<div class="ca-text"><p>It is <strong>much</strong> faster</p></div>');
  });

  test("several kinds on one line, in order", () => {
    const paragraph = byTag(richText("**A** then [b](https://b.example) then https://c.example"), "p")[0];
    assert.deepEqual(
      paragraph.childNodes.map((node) => node.tagName || "#text"),
      ["strong", "#text", "a", "#text", "a"]
    );
  });
});

describe("nothing becomes markup or a dangerous link", () => {
  for (const url of ["javascript:alert%281%29", "data:text/html,<b>x</b>", "vbscript:msgbox"]) {
    test(`a ${url.split(":")[0]}: link is shown as its label only`, () => {
      const wrapper = richText(`[click me](${url})`);
      assert.equal(byTag(wrapper, "a").length, 0);
      assert.equal(wrapper.textContent, "click me");
    });
  }

  test("HTML in a message stays text", () => {
    const text = '<img src=x onerror="alert(1)"> <script>alert(2)</script>';
    const wrapper = richText(text);
    assert.equal(byTag(wrapper, "img").length + byTag(wrapper, "script").length, 0);
    assert.equal(wrapper.textContent, text);
  });

  test("an unclosed link or bold is left as typed", () => {
    assert.equal(richText("[half](https://x.example and **open").textContent, "[half](https://x.example and **open");
    assert.equal(byTag(richText("**open"), "strong").length, 0);
  });
});
