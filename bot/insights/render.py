"""The insight page as HTML, its charts as inline SVG drawn here: no script, no CDN.

Every text that comes from the data is escaped. The figures carry `data-figure`
attributes (`funnel.leads`, `feedback.helpful`), so tests and scrapers read numbers
without depending on the layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from urllib.parse import urlencode

from bot.insights.model import DAILY_SERIES, DayFigures, FunnelStep, Insights

CHART_WIDTH, CHART_HEIGHT, MARGIN = 560, 140, 28
SERIES_TITLES = {
    "conversations": "Conversations",
    "recommendations": "Recommendations",
    "expert_requests": '"Talk to an expert"',
    "leads": "Leads",
    "fallbacks": "Not understood (fallbacks)",
    "helpful": "Thumbs up",
    "not_helpful": "Thumbs down",
}
FUNNEL_KEYS = ("conversations", "recommendations", "expert", "consent", "leads", "delivered")

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1d2433;max-width:1180px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.muted{color:#667085}.grid{display:grid;grid-template-columns:repeat(auto-fill,
minmax(560px,1fr));gap:16px}table{border-collapse:collapse;min-width:320px}
td,th{padding:4px 10px;border-bottom:1px solid #e4e7ec;text-align:left}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.bar{background:#3b82f6;height:12px;display:inline-block;vertical-align:middle}
form{margin:12px 0}input{font:inherit;padding:2px 6px}
figure{margin:0;border:1px solid #e4e7ec;border-radius:6px;padding:8px}
figcaption{font-weight:600;margin-bottom:4px}.note{background:#fff7e6;padding:6px 10px}
"""


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _funnel(steps: Sequence[FunnelStep]) -> str:
    top = max((s.count for s in steps), default=0) or 1
    rows = []
    for key, step in zip(FUNNEL_KEYS, steps, strict=True):
        width = round(200 * step.count / top)
        rows.append(
            f"<tr><td>{escape(step.label)}</td>"
            f'<td class="n" data-figure="funnel.{key}">{step.count}</td>'
            f'<td class="n">{_pct(step.rate_from_previous)}</td>'
            f'<td class="n">{_pct(step.rate_from_start)}</td>'
            f'<td><span class="bar" style="width:{width}px"></span></td></tr>')
    return ("<table><tr><th>Step</th><th class=n>Count</th><th class=n>From previous</th>"
            "<th class=n>From conversations</th><th></th></tr>" + "".join(rows) + "</table>")


def _counts(title: str, key: str, pairs: Sequence[tuple[str, int]], empty: str) -> str:
    if not pairs:
        return f"<h3>{escape(title)}</h3><p class=muted>{escape(empty)}</p>"
    total = sum(count for _, count in pairs) or 1
    rows = "".join(
        f'<tr><td>{escape(name)}</td><td class="n" data-figure="{key}.{escape(name)}">'
        f'{count}</td><td class="n">{_pct(count / total)}</td></tr>' for name, count in pairs)
    return f"<h3>{escape(title)}</h3><table>{rows}</table>"


def line_chart(title: str, days: Sequence[DayFigures], series: str) -> str:
    """One daily series as an SVG line with dots, its maximum on the axis."""
    values = [int(getattr(day, series)) for day in days]
    top = max(values, default=0) or 1
    inner_w, inner_h = CHART_WIDTH - 2 * MARGIN, CHART_HEIGHT - 2 * MARGIN
    step = inner_w / max(len(values) - 1, 1)
    points = [(MARGIN + i * step, MARGIN + inner_h - inner_h * v / top)
              for i, v in enumerate(values)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3"><title>{days[i].day.isoformat()}: '
        f"{values[i]}</title></circle>" for i, (x, y) in enumerate(points))
    labels = ""
    if days:
        labels = (f'<text x="{MARGIN}" y="{CHART_HEIGHT - 8}">{days[0].day:%d %b}</text>'
                  f'<text x="{CHART_WIDTH - MARGIN}" y="{CHART_HEIGHT - 8}" '
                  f'text-anchor="end">{days[-1].day:%d %b}</text>')
    return (
        f'<figure><figcaption>{escape(title)} <span class=muted>(total '
        f'<span data-figure="daily.{series}">{sum(values)}</span>)</span></figcaption>'
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{CHART_WIDTH}" '
        f'height="{CHART_HEIGHT}" viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}" '
        f'font-size="11" fill="#667085" aria-label="{escape(title)} per day">'
        f'<line x1="{MARGIN}" y1="{MARGIN + inner_h}" x2="{CHART_WIDTH - MARGIN}" '
        f'y2="{MARGIN + inner_h}" stroke="#d0d5dd"/>'
        f'<text x="4" y="{MARGIN + 4}">{top}</text><text x="4" y="{MARGIN + inner_h}">0</text>'
        f'<polyline points="{path}" fill="none" stroke="#3b82f6" stroke-width="2"/>'
        f'<g fill="#3b82f6">{dots}</g>{labels}</svg></figure>')


def render_page(insights: Insights, query: dict[str, str]) -> str:
    """The whole page for `insights`; `query` is the period as asked (for the form)."""
    period, timing = insights.period, insights.lead_timing
    notes = "".join(f"<p class=note>{escape(n)}</p>" for n in insights.notes)
    feedback_rows = "".join(
        f"<tr><td>{escape(f.subject)}</td><td class=n>{f.helpful}</td>"
        f"<td class=n>{f.not_helpful}</td></tr>" for f in insights.feedback)
    groups = []
    for index, group in enumerate(insights.fallback_groups, 1):
        examples = "".join(f"<li>{escape(text)}</li>" for text in group.examples)
        groups.append(
            f'<tr><td class=n>{index}</td><td class="n" data-figure="fallback_group.{index}">'
            f"{group.count}</td><td>{escape(group.nearest)}</td>"
            f"<td>{f'<ul>{examples}</ul>' if insights.details else ''}</td></tr>")
    details_link = ("" if insights.details else
                    f'<a href="?{escape(urlencode({**query, "details": "1"}))}">show the '
                    "messages (visitors' own words, scrubbed of emails and numbers)</a>")
    charts = "".join(line_chart(SERIES_TITLES[s], insights.daily, s) for s in DAILY_SERIES)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Assistant insights</title>
<meta name="robots" content="noindex"><style>{_STYLE}</style></head><body>
<h1>Assistant insights</h1>
<p class=muted>From {period.start:%Y-%m-%d %H:%M} to {period.end:%Y-%m-%d %H:%M} UTC.
No personal data is shown unless asked for.</p>
<form method="get"><label>Last <input name="since" size="4"
value="{escape(query.get("since", ""))}" placeholder="7d"></label> or from
<input name="from" type="date" value="{escape(query.get("from", ""))}"> to
<input name="to" type="date" value="{escape(query.get("to", ""))}">
<button>Show</button></form>{notes}
<h2>Funnel</h2>{_funnel(insights.funnel)}
<div class=grid><div>
<h2>Recommendations</h2>
{_counts("Verdicts", "verdict", insights.verdicts, "No recommendation in this period.")}
{_counts("Hybrid kinds", "hybrid", insights.hybrid_kinds, "No hybrid recommendation.")}
</div><div>
<h2>Leads</h2>{_counts("Tiers", "tier", insights.tiers, "No lead in this period.")}
<h3>Time to first contact</h3>
<p>Taken by a sales engineer: <b data-figure="leads.taken">{timing.taken}</b> of
{timing.leads}; median wait <b data-figure="leads.median_wait">{_duration(
        timing.median_seconds)}</b>, 90th percentile {_duration(timing.p90_seconds)}
(from the lead to "I'll take it").</p>
</div><div>
<h2>Channels and handoffs</h2>
{_counts("Conversations by channel", "channel", insights.channels, "")}
<p>Handoffs to a person: <b data-figure="handoffs">{insights.handoffs}</b>
<span class=muted>(live handoff is counted once it is enabled: conversations paused for
a person)</span>. Requests for a person: <b data-figure="person_requests">{
        insights.person_requests}</b>.</p>
</div><div>
<h2>Was this helpful?</h2>
<p>Helpful: <b data-figure="feedback.helpful">{insights.helpful}</b> &nbsp;
Not helpful: <b data-figure="feedback.not_helpful">{insights.not_helpful}</b>
<span class=muted>(one rating per answer and conversation: the latest)</span></p>
<table><tr><th>Answer or recommendation</th><th class=n>Helpful</th>
<th class=n>Not helpful</th></tr>
{feedback_rows}</table></div></div>
<h2>Not understood: <span data-figure="fallbacks">{insights.fallbacks}</span> fallbacks in
<span data-figure="fallback_groups">{len(insights.fallback_groups)}</span> groups</h2>
<p class=muted>Messages alike in meaning are grouped; the topic is the nearest one the
assistant knows. {details_link}</p>
<table><tr><th class=n>#</th><th class=n>Messages</th><th>Nearest topic</th>
<th>{"Examples" if insights.details else ""}</th></tr>{"".join(groups)}</table>
<h2>Per day</h2><div class=grid>{charts}</div>
</body></html>"""
