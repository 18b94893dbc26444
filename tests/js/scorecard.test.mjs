// The recommendation card (src/scorecard.js) and "What I understood" (src/understood.js):
// what the advisor's payload turns into, including partial and odd payloads.
import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { formatNumber, humanise } from "../../bot/channels/widget/static/src/format.js";
import { scorecard } from "../../bot/channels/widget/static/src/scorecard.js";
import { understoodList } from "../../bot/channels/widget/static/src/understood.js";
import { byClass, byTag, installDocument } from "./dom-stub.mjs";

beforeEach(() => installDocument());

const one = (root, name) => {
  const found = byClass(root, name);
  assert.equal(found.length, 1, `expected one .${name}, found ${found.length}`);
  return found[0];
};

describe("the verdict", () => {
  const cases = [
    [{ verdict: "vm" }, "Virtual machines"],
    [{ verdict: "Containers" }, "Containers"],
    [{ verdict: "hybrid" }, "Hybrid: containers and virtual machines"],
    [{ verdict: "container", title: "Serverless containers" }, "Serverless containers"],
    [{ verdict: "bare_metal-servers" }, "Bare metal servers"],
    [{}, "Recommendation"]
  ];
  for (const [card, expected] of cases) {
    test(`${JSON.stringify(card)} reads "${expected}"`, () => {
      assert.equal(one(scorecard(card), "ca-verdict").textContent, expected);
    });
  }

  test("the figure is labelled by its own caption and tagged with the verdict", () => {
    const figure = scorecard({ verdict: "VM" });
    const [caption] = byTag(figure, "figcaption");
    assert.equal(figure.getAttribute("data-verdict"), "vm");
    assert.match(caption.getAttribute("id"), /^ca-sc-[0-9a-z]+$/);
    assert.equal(figure.getAttribute("aria-labelledby"), caption.getAttribute("id"));
    assert.notEqual(caption.getAttribute("id"), byTag(scorecard({}), "figcaption")[0].getAttribute("id"));
  });

  test("a hybrid's kind is shown unless the card has its own title", () => {
    assert.equal(one(scorecard({ verdict: "hybrid", hybrid_kind: "vm_nodes" }), "ca-hybrid-kind").textContent, "Vm nodes");
    assert.equal(byClass(scorecard({ verdict: "hybrid", hybrid_kind: "vm_nodes", title: "Both" }), "ca-hybrid-kind").length, 0);
  });
});

describe("the confidence", () => {
  const cases = [
    [0.834, "83"],
    [1.7, "100"],
    [-0.2, "0"],
    ["0.5", "50"],
    [0, "0"]
  ];
  for (const [confidence, percent] of cases) {
    test(`${JSON.stringify(confidence)} is shown as ${percent}%`, () => {
      const block = one(scorecard({ verdict: "vm", confidence }), "ca-confidence");
      assert.equal(byTag(block, "meter")[0].getAttribute("value"), percent);
      assert.equal(one(block, "ca-confidence-value").textContent, `${percent}%`);
    });
  }
  for (const confidence of [undefined, null, "high", Number.NaN]) {
    test(`${String(confidence)} shows no meter`, () => {
      assert.equal(byClass(scorecard({ verdict: "vm", confidence }), "ca-confidence").length, 0);
    });
  }
});

describe("the deciding factors", () => {
  const factors = [
    { fact: "startup", label: "Fast startup", contribution: -1.5 },
    { fact: "kernel", contribution: 3, assumed: true },
    { fact: "nothing", label: "Weighs nothing", contribution: 0 },
    "not an object",
    null,
    { name: "gpu", contribution: "0.25" }
  ];

  test("only factors that weighed in, largest first, on their side", () => {
    const items = byClass(scorecard({ factors }), "ca-factor");
    assert.deepEqual(
      items.map((item) => [item.getAttribute("data-factor"), item.className]),
      [
        ["kernel", "ca-factor ca-toward-vms"],
        ["startup", "ca-factor ca-toward-containers"],
        ["gpu", "ca-factor ca-toward-vms"]
      ]
    );
  });

  test("labels, values and bar widths", () => {
    const items = byClass(scorecard({ factors }), "ca-factor");
    const row = (item) => [
      one(item, "ca-factor-label").textContent,
      one(item, "ca-factor-value").textContent,
      one(item, "ca-bar-fill").style.width,
      one(item, "ca-bar").getAttribute("aria-label")
    ];
    assert.deepEqual(row(items[0]), ["Kernel (assumed)", "+3.0", "50%", "Kernel: favours virtual machines, weight +3.0"]);
    assert.deepEqual(row(items[1]), ["Fast startup", "\u22121.5", "25%", "Fast startup: favours containers, weight \u22121.5"]);
    // A small factor keeps a visible bar.
    assert.deepEqual(row(items[2]), ["Gpu", "+0.3", "4%", "Gpu: favours virtual machines, weight +0.3"]);
  });

  test("at most six, and the axis only when there are any", () => {
    const many = Array.from({ length: 9 }, (_, i) => ({ fact: `f${i}`, contribution: i + 1 }));
    const figure = scorecard({ factors: many });
    assert.deepEqual(
      byClass(figure, "ca-factor").map((item) => item.getAttribute("data-factor")),
      ["f8", "f7", "f6", "f5", "f4", "f3"]
    );
    assert.equal(byClass(figure, "ca-axis").length, 1);
    assert.equal(byClass(scorecard({ factors: [{ fact: "x", contribution: 0 }] }), "ca-axis").length, 0);
    assert.equal(byClass(scorecard({ factors: "junk" }), "ca-factors").length, 0);
  });
});

describe("both sides", () => {
  const card = {
    verdict: "container",
    pull: { vm: 2, container: 5.5 },
    balance: "Containers win on startup and density.",
    sides: { vm: ["Runs Windows", "", 7, "   "], container: ["Starts in a second", "Scales to zero", "Dense", "Cheap"] }
  };

  test("each pull with its strength, the stronger one full width", () => {
    const vm = one(scorecard(card), "ca-side-vm");
    const container = one(scorecard(card), "ca-side-container");
    assert.equal(one(vm, "ca-side-name").textContent, "Toward virtual machines 2.0");
    assert.equal(one(container, "ca-side-name").textContent, "Toward containers 5.5");
    assert.equal(one(vm, "ca-side-fill").style.width, "36%");
    assert.equal(one(container, "ca-side-fill").style.width, "100%");
    assert.equal(one(vm, "ca-side-bar").getAttribute("aria-label"), "Toward virtual machines: pull 2.0");
  });

  test("reasons: text only, at most three, or a line saying there are none", () => {
    const figure = scorecard(card);
    const reasons = (side) => byTag(one(figure, `ca-side-${side}`), "li").map((li) => li.textContent);
    assert.deepEqual(reasons("vm"), ["Runs Windows"]);
    assert.deepEqual(reasons("container"), ["Starts in a second", "Scales to zero", "Dense"]);
    const empty = scorecard({ pull: { vm: 0, container: 1 } });
    assert.equal(one(one(empty, "ca-side-vm"), "ca-side-none").textContent, "Nothing pulls this way.");
    assert.equal(one(one(empty, "ca-side-vm"), "ca-side-fill").style.width, "0%");
  });

  test("the balance is shown with the sides, and neither without a pull", () => {
    assert.equal(one(scorecard(card), "ca-balance").textContent, card.balance);
    const older = scorecard({ ...card, pull: undefined });
    assert.equal(byClass(older, "ca-sides").length + byClass(older, "ca-balance").length, 0);
  });
});

describe("the offering", () => {
  test("a name and a summary", () => {
    const line = one(scorecard({ offering: { name: "Nimbus Containers", summary: " Managed." } }), "ca-offering");
    assert.equal(line.textContent, "Suggested offering: Nimbus Containers Managed.");
    assert.equal(byTag(line, "strong")[0].textContent, "Nimbus Containers");
  });

  test("a plain string is a name without a summary", () => {
    const line = one(scorecard({ offering: "Nimbus VMs" }), "ca-offering");
    assert.equal(line.textContent, "Suggested offering: Nimbus VMs");
    assert.equal(byClass(line, "ca-offering-summary").length, 0);
  });

  test("no name, no line", () => {
    assert.equal(byClass(scorecard({ offering: { summary: "orphan" } }), "ca-offering").length, 0);
  });
});

test("text from the payload stays text", () => {
  const figure = scorecard({ title: "<img src=x onerror=alert(1)>", factors: [{ label: "<b>x</b>", contribution: 1 }] });
  assert.equal(byTag(figure, "img").length + byTag(figure, "b").length, 0);
  assert.equal(one(figure, "ca-verdict").textContent, "<img src=x onerror=alert(1)>");
});

describe("numbers and names", () => {
  test("formatNumber: one decimal, a sign, a real minus", () => {
    assert.deepEqual([1.25, -0.04, 0, -2].map(formatNumber), ["+1.3", "0.0", "0.0", "\u22122.0"]);
  });

  test("humanise: words from an identifier", () => {
    assert.deepEqual(["lift_and-shift", "  gpu "].map(humanise), ["Lift and shift", "Gpu"]);
  });
});

describe("what I understood", () => {
  const items = [
    { label: "Runs on Linux", source: "said", value: "linux", options: [
      { value: "linux", label: "runs on Linux" },
      { value: "windows", label: "everything runs on Windows" },
      { value: "odd", label: 3 }
    ] },
    { label: "Steady traffic", source: "assumed" },
    { label: "Team size", source: "not_sure", options: "junk" },
    { source: "said" },
    null
  ];

  test("one entry per labelled item, marked by where it came from", () => {
    const details = understoodList(items, () => {});
    assert.equal(byTag(details, "summary")[0].textContent, "What I understood");
    assert.deepEqual(
      byClass(details, "ca-understood-label").map((label) => [label.tagName, label.textContent]),
      [
        ["button", "Runs on Linux (you said)"],
        ["span", "Steady traffic (assumed)"],
        ["span", "Team size (not sure, assumed)"]
      ]
    );
    assert.equal(byClass(details, "ca-understood-item")[0].className, "ca-understood-item ca-understood-said");
  });

  test("the other options, hidden until the item is clicked", () => {
    const details = understoodList(items, () => {});
    const head = byClass(details, "ca-understood-label")[0];
    const choices = one(details, "ca-understood-options");
    // The current value and a non-text label are not offered.
    assert.deepEqual(byTag(choices, "button").map((b) => b.textContent), ["everything runs on Windows"]);
    assert.equal(choices.hasAttribute("hidden"), true);
    head.dispatch("click");
    assert.equal(choices.hasAttribute("hidden"), false);
    assert.equal(head.getAttribute("aria-expanded"), "true");
    head.dispatch("click");
    assert.equal(choices.hasAttribute("hidden"), true);
    assert.equal(head.getAttribute("aria-expanded"), "false");
  });

  test("choosing an option says the correction in words and folds the options", () => {
    const said = [];
    const details = understoodList(items, (text) => said.push(text));
    const head = byClass(details, "ca-understood-label")[0];
    const choices = one(details, "ca-understood-options");
    head.dispatch("click");
    byTag(choices, "button")[0].dispatch("click");
    assert.deepEqual(said, ["Actually, everything runs on Windows"]);
    assert.equal(choices.hasAttribute("hidden"), true);
    assert.equal(head.getAttribute("aria-expanded"), "false");
  });
});
