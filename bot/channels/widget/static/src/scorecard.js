// The advisor's recommendation card (custom payload `{"scorecard": {...}}`, made by
// bot.advisor.report.scorecard): the verdict, the confidence, both sides and one bar per
// deciding factor. Every part is optional so that older payloads, and a card another
// action fills only partly, still draw what they have.
import { el } from "./dom.js";
import { formatNumber, humanise } from "./format.js";

const VERDICT_NAMES = {
  vm: "Virtual machines",
  vms: "Virtual machines",
  virtual_machines: "Virtual machines",
  container: "Containers",
  containers: "Containers",
  hybrid: "Hybrid: containers and virtual machines"
};
// More would turn the card into a table nobody reads in a chat bubble.
const MOST_FACTORS = 6;
const MOST_REASONS = 3;

function offeringParts(offering) {
  if (!offering) {
    return null;
  }
  if (typeof offering === "string") {
    return { name: offering, summary: "" };
  }
  return { name: String(offering.name || ""), summary: String(offering.summary || "") };
}

function caption(card, titleId, verdictKey) {
  const verdict = card.title
    ? String(card.title)
    : VERDICT_NAMES[verdictKey] || humanise(card.verdict || "Recommendation");
  const node = el("figcaption", { id: titleId }, [
    el("span", { className: "ca-scorecard-kicker", text: "Our recommendation" }),
    el("strong", { className: "ca-verdict", text: verdict })
  ]);
  if (card.hybrid_kind && !card.title) {
    node.appendChild(el("span", { className: "ca-hybrid-kind", text: humanise(card.hybrid_kind) }));
  }
  return node;
}

function confidenceMeter(card) {
  const confidence = Number(card.confidence);
  if (card.confidence === null || card.confidence === undefined || !Number.isFinite(confidence)) {
    return null;
  }
  const percent = Math.round(Math.max(0, Math.min(1, confidence)) * 100);
  return el("div", { className: "ca-confidence" }, [
    el("span", { text: "Confidence" }),
    el("meter", { min: "0", max: "100", value: String(percent), "aria-label": "Confidence" }, [`${percent}%`]),
    el("span", { className: "ca-confidence-value", text: `${percent}%` })
  ]);
}

// Both sides (advisor engine v2): how hard the workload pulls toward each, what makes up
// each pull, and why the verdict falls where it does. The bars carry their own inline
// style: widget.css has no rules for them.
function sideSections(card, pull) {
  const sides = card.sides && typeof card.sides === "object" ? card.sides : {};
  const pullVms = Math.max(0, Number(pull.vm) || 0);
  const pullContainers = Math.max(0, Number(pull.container) || 0);
  const strongest = Math.max(pullVms, pullContainers) || 1;
  const sideList = el("div", { className: "ca-sides", "aria-label": "What pulls each way" });
  [
    { key: "vm", name: "Toward virtual machines", value: pullVms, color: "var(--ca-vms)" },
    { key: "container", name: "Toward containers", value: pullContainers, color: "var(--ca-containers)" }
  ].forEach((side) => {
    const fill = el("span", { className: "ca-side-fill" });
    fill.style.display = "block";
    fill.style.height = "100%";
    fill.style.background = side.color;
    fill.style.width = `${Math.round((side.value / strongest) * 100)}%`;
    const track = el(
      "span",
      { className: "ca-side-bar", role: "img", "aria-label": `${side.name}: pull ${side.value.toFixed(1)}` },
      [fill]
    );
    track.style.display = "block";
    track.style.height = "6px";
    track.style.margin = "2px 0 4px";
    track.style.background = "#e7ebf0";
    const reasons = (Array.isArray(sides[side.key]) ? sides[side.key] : [])
      .filter((reason) => typeof reason === "string" && reason.trim() !== "")
      .slice(0, MOST_REASONS);
    const section = el("div", { className: `ca-side ca-side-${side.key}` }, [
      el("strong", { className: "ca-side-name", text: `${side.name} ${side.value.toFixed(1)}` }),
      track
    ]);
    if (reasons.length) {
      const reasonList = el("ul", { className: "ca-side-reasons" });
      reasons.forEach((reason) => {
        reasonList.appendChild(el("li", { text: reason }));
      });
      section.appendChild(reasonList);
    } else {
      section.appendChild(el("p", { className: "ca-side-none", text: "Nothing pulls this way." }));
    }
    sideList.appendChild(section);
  });
  return sideList;
}

// The factors that weighed in, largest first. A contribution is signed as the advisor
// engine defines it: negative pushes toward containers (bar to the left), positive
// toward virtual machines (to the right).
function decidingFactors(card) {
  return (Array.isArray(card.factors) ? card.factors : [])
    .filter((factor) => factor && typeof factor === "object")
    .map((factor) => ({ factor: factor, value: Number(factor.contribution) || 0 }))
    .filter((item) => item.value !== 0) // only what weighed in decided it
    .sort((a, b) => Math.abs(b.value) - Math.abs(a.value))
    .slice(0, MOST_FACTORS);
}

function factorBars(factors) {
  const largest = factors.reduce((max, item) => Math.max(max, Math.abs(item.value)), 0) || 1;
  const list = el("ul", { className: "ca-factors", "aria-label": "What decided it" });
  factors.forEach((item) => {
    const factor = item.factor;
    const value = item.value;
    const label = String(factor.label || humanise(factor.fact || factor.name || "factor"));
    const side = value < 0 ? "containers" : value > 0 ? "vms" : "neutral";
    const towards = value < 0 ? "favours containers" : value > 0 ? "favours virtual machines" : "no effect";
    const fill = el("span", { className: "ca-bar-fill" });
    // Half the track at most: the bar grows from the middle toward its side.
    fill.style.width = `${Math.max(4, Math.round((Math.abs(value) / largest) * 50))}%`;
    const labelNode = el("span", { className: "ca-factor-label", text: label });
    if (factor.assumed) {
      labelNode.appendChild(el("span", { className: "ca-assumed", text: " (assumed)" }));
    }
    list.appendChild(
      el("li", { className: `ca-factor ca-toward-${side}`, "data-factor": factor.fact || factor.name || null }, [
        labelNode,
        el(
          "span",
          { className: "ca-bar", role: "img", "aria-label": `${label}: ${towards}, weight ${formatNumber(value)}` },
          [fill]
        ),
        el("span", { className: "ca-factor-value", "aria-hidden": "true", text: formatNumber(value) })
      ])
    );
  });
  return list;
}

function offeringLine(card) {
  const offering = offeringParts(card.offering);
  if (!offering?.name) {
    return null;
  }
  const offer = el("p", { className: "ca-offering" }, [
    el("span", { text: "Suggested offering: " }),
    el("strong", { text: offering.name })
  ]);
  if (offering.summary) {
    offer.appendChild(el("span", { className: "ca-offering-summary", text: offering.summary }));
  }
  return offer;
}

/** The recommendation card as a `figure.ca-scorecard`. */
export function scorecard(card) {
  const verdictKey = String(card.verdict || "").toLowerCase();
  // Unique per card: a conversation can hold several, each labelled by its own caption.
  const titleId = `ca-sc-${Math.random().toString(36).slice(2)}`;
  const figure = el("figure", {
    className: "ca-scorecard",
    "aria-labelledby": titleId,
    "data-verdict": verdictKey
  });
  figure.appendChild(caption(card, titleId, verdictKey));
  const confidence = confidenceMeter(card);
  if (confidence) {
    figure.appendChild(confidence);
  }
  // Cards without `pull` (older payloads) skip the sides.
  const pull = card.pull && typeof card.pull === "object" ? card.pull : null;
  if (pull) {
    figure.appendChild(sideSections(card, pull));
    if (typeof card.balance === "string" && card.balance.trim() !== "") {
      figure.appendChild(el("p", { className: "ca-balance", text: card.balance }));
    }
  }
  const factors = decidingFactors(card);
  if (factors.length) {
    figure.appendChild(
      el("div", { className: "ca-axis", "aria-hidden": "true" }, [
        el("span", { text: "\u25C0 Containers" }),
        el("span", { text: "Virtual machines \u25B6" })
      ])
    );
    figure.appendChild(factorBars(factors));
  }
  const offer = offeringLine(card);
  if (offer) {
    figure.appendChild(offer);
  }
  return figure;
}
