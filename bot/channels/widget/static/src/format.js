// How the scorecard words the advisor's identifiers and numbers.

/** `hybrid_kind` -> "Hybrid kind": an identifier the card has no label for. */
export function humanise(value) {
  const text = String(value).replace(/[_-]+/g, " ").trim();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** One decimal with its sign ("+1.5", "−0.5", "0.0"); a real minus sign, as it reads. */
export function formatNumber(value) {
  const rounded = Math.round(value * 10) / 10;
  return (rounded > 0 ? "+" : rounded < 0 ? "\u2212" : "") + Math.abs(rounded).toFixed(1);
}
