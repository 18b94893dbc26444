"""The insight figures: pure computations over plain rows (bot/insights/)."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.channels.insights import presented_token, token_matches
from bot.insights.cli import figure_rows, write_csv
from bot.insights.fallbacks import group_by_similarity, scrub
from bot.insights.feedback import (
    feedback_buttons,
    rated_answer_key,
    read_feedback,
    recommendation_subject,
)
from bot.insights.figures import (
    channel_of,
    compute_insights,
    fallback_messages,
    funnel,
    lead_timing,
    percentile,
)
from bot.insights.model import EventRow, FallbackMessage, LeadRow, Period
from bot.insights.period import PeriodError, parse_period
from bot.insights.render import render_page
from bot.settings import SettingsError, load_settings

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
PERIOD = Period(datetime(2026, 11, 28, tzinfo=timezone.utc),
                datetime(2026, 12, 1, tzinfo=timezone.utc))
DAY1 = datetime(2026, 11, 28, 10, tzinfo=timezone.utc).timestamp()
DAY3 = datetime(2026, 11, 30, 10, tzinfo=timezone.utc).timestamp()
WIDGET = "0123456789abcdef0123456789abcdef"
SLACK = "U0ABCDEF1_C0GHIJKL2"
REST = "rest:visitor-1"


# ---- where a conversation came from ------------------------------------------------------

@pytest.mark.parametrize(("conversation_id", "channel"), [
    ("rest:abc", "rest"),
    ("rest:0123456789abcdef0123456789abcdef", "rest"),
    (WIDGET, "widget"),
    ("0123456789ABCDEF0123456789ABCDEF", "other"),  # widget ids are lowercase
    ("U0ABCDEF1", "slack"),
    (SLACK, "slack"),
    ("U0ABCDEF1_C0GHIJKL2_1700000000.000100", "slack"),
    ("default", "other"),
    ("", "other"),
])
def test_channel_of(conversation_id: str, channel: str) -> None:
    assert channel_of(conversation_id) == channel


# ---- the period ---------------------------------------------------------------------------

@pytest.mark.parametrize(("since", "start", "end", "expected"), [
    ("7d", None, None, (NOW - timedelta(days=7), NOW)),
    ("24h", None, None, (NOW - timedelta(hours=24), NOW)),
    (None, None, None, (NOW - timedelta(days=7), NOW)),
    (" 30D ", None, None, (NOW - timedelta(days=30), NOW)),
    (None, "2026-11-01", "2026-11-03", (datetime(2026, 11, 1, tzinfo=timezone.utc),
                                        datetime(2026, 11, 4, tzinfo=timezone.utc))),
    (None, "2026-11-29", None, (datetime(2026, 11, 29, tzinfo=timezone.utc),
                                datetime(2026, 12, 1, tzinfo=timezone.utc))),
    ("7d", "2026-11-30", "2026-11-30", (datetime(2026, 11, 30, tzinfo=timezone.utc),
                                        datetime(2026, 12, 1, tzinfo=timezone.utc))),
])
def test_parse_period(since: str | None, start: str | None, end: str | None,
                      expected: tuple[datetime, datetime]) -> None:
    period = parse_period(since, start, end, NOW)
    assert (period.start, period.end) == expected


@pytest.mark.parametrize(("since", "start", "end", "message"), [
    ("7x", None, None, "7d or 24h"),
    ("0d", None, None, "more than 0"),
    ("400d", None, None, "at most 366 days"),
    (None, "30/11/2026", None, "from must be a date"),
    (None, "2026-11-30", "2026-11-01", "not be before"),
])
def test_parse_period_refuses(since: str | None, start: str | None, end: str | None,
                              message: str) -> None:
    with pytest.raises(PeriodError, match=message):
        parse_period(since, start, end, NOW)


def test_period_days_cover_partial_days() -> None:
    period = Period(datetime(2026, 11, 28, 18, tzinfo=timezone.utc),
                    datetime(2026, 11, 30, 6, tzinfo=timezone.utc))
    assert period.days() == [date(2026, 11, 28), date(2026, 11, 29), date(2026, 11, 30)]
    assert PERIOD.days() == [date(2026, 11, 28), date(2026, 11, 29), date(2026, 11, 30)]


# ---- funnel rates and percentiles ---------------------------------------------------------

@pytest.mark.parametrize(("counts", "from_previous", "from_start"), [
    ([10, 5, 2], [None, 0.5, 0.4], [1.0, 0.5, 0.2]),
    ([4, 0, 0], [None, 0.0, None], [1.0, 0.0, 0.0]),
    ([0, 0], [None, None], [None, None]),
    ([3, 3, 1], [None, 1.0, 1 / 3], [1.0, 1.0, 1 / 3]),
])
def test_funnel_rates(counts: list[int], from_previous: list[float | None],
                      from_start: list[float | None]) -> None:
    steps = funnel([(f"s{i}", c) for i, c in enumerate(counts)])
    assert [s.count for s in steps] == counts
    assert [s.rate_from_previous for s in steps] == pytest.approx(from_previous)
    assert [s.rate_from_start for s in steps] == pytest.approx(from_start)


@pytest.mark.parametrize(("values", "fraction", "expected"), [
    ([], 0.5, None),
    ([7.0], 0.5, 7.0),
    ([1.0, 2.0, 3.0], 0.5, 2.0),
    ([4.0, 1.0, 3.0, 2.0], 0.5, 2.0),  # nearest rank: the lower middle, never 2.5
    ([float(n) for n in range(1, 11)], 0.9, 9.0),
    ([float(n) for n in range(1, 11)], 1.0, 10.0),
    ([5.0, 100.0], 0.9, 100.0),
])
def test_percentile(values: list[float], fraction: float, expected: float | None) -> None:
    assert percentile(values, fraction) == expected


def _lead(tier: str, created: datetime, taken_after: timedelta | None = None,
          delivered: bool = False, conversation: str = "c") -> LeadRow:
    return LeadRow(conversation_id=conversation, tier=tier, created_at=created,
                   taken_at=None if taken_after is None else created + taken_after,
                   delivered=delivered)


def test_lead_timing_counts_only_taken_leads() -> None:
    created = datetime(2026, 11, 29, 9, tzinfo=timezone.utc)
    timing = lead_timing([
        _lead("hot", created, timedelta(minutes=5)),
        _lead("hot", created, timedelta(minutes=30)),
        _lead("warm", created, timedelta(hours=2)),
        _lead("cold", created),
    ])
    assert (timing.leads, timing.taken) == (4, 3)
    assert timing.median_seconds == 30 * 60
    assert timing.p90_seconds == 2 * 3600


# ---- the whole page's figures from rows ---------------------------------------------------

class Conversation:
    """Writes a conversation's rows as the tracker store holds them."""

    next_id = 1

    def __init__(self, rows: list[EventRow], conversation_id: str, at: float) -> None:
        self.rows, self.conversation_id, self.at = rows, conversation_id, at

    def _add(self, kind: str, name: str | None, data: Mapping[str, Any] | None = None) -> None:
        self.rows.append(EventRow(Conversation.next_id, self.conversation_id, kind, self.at,
                                  name, data))
        Conversation.next_id += 1
        self.at += 1

    def says(self, intent: str, text: str = "", entities: list[dict[str, Any]] | None = None,
             ranking: list[str] | None = None) -> Conversation:
        self._add("user", intent, {"text": text, "parse_data": {
            "intent": {"name": intent}, "entities": entities or [],
            "intent_ranking": [{"name": n} for n in (ranking or [intent])]}})
        return self

    def runs(self, action: str) -> Conversation:
        self._add("action", action)
        return self

    def sets(self, slot: str, value: Any) -> Conversation:
        self._add("slot", slot, {"value": value})
        return self

    def loop(self, form: str | None) -> Conversation:
        self._add("active_loop", form)
        return self

    def event(self, kind: str) -> Conversation:
        self._add(kind, None)
        return self

    def rates(self, helpful: str, about: str) -> Conversation:
        return self.says("feedback", f'/feedback{{"helpful":"{helpful}"}}', [
            {"entity": "helpful", "value": helpful}, {"entity": "about", "value": about}])


def scripted_rows() -> list[EventRow]:
    rows: list[EventRow] = []
    # Widget: a hybrid recommendation, the expert, consent, a lead; rates it twice.
    (Conversation(rows, WIDGET, DAY1).runs("action_session_start").runs("action_listen")
     .says("ask_use_case_recommendation").runs("action_recommend")
     .sets("recommendation", {"verdict": "hybrid", "hybrid_kind": "vm_and_containers"})
     .rates("no", "recommendation/hybrid").runs("utter_feedback_thanks")
     .rates("yes", "recommendation/hybrid")  # changed its mind: the latest counts
     .says("contact_sales").runs("lead_form").loop("lead_form")
     .sets("lead_consent", True).loop(None))
    # REST: a fallback (the message stays, then a rewind), an out-of-scope question,
    # a new session that carries the old recommendation over (not a new one).
    (Conversation(rows, REST, DAY3).says("nlu_fallback", "how do I pay by invoice?",
                                         ranking=["nlu_fallback", "ask_cost", "greet"])
     .runs("action_default_fallback_with_topics").event("rewind")
     .says("out_of_scope", "best pizza near me").runs("action_out_of_scope")
     .runs("action_session_start").sets("recommendation", {"verdict": "vm"})
     .sets("lead_consent", True)
     .rates("yes", "ask_cost/general").rates("maybe", "ask_cost/general")
     .says("ask_cost").runs("action_recommend").sets("recommendation", {"verdict": "vm"}))
    # Slack: asks for a person; a paused conversation (a live handoff).
    Conversation(rows, SLACK, DAY3).says("contact_sales").event("pause")
    # A refused consent is no consent.
    Conversation(rows, "rest:refuser", DAY3).says("affirm").sets("lead_consent", False)
    return rows


def scripted_leads() -> list[LeadRow]:
    created = datetime(2026, 11, 28, 10, 5, tzinfo=timezone.utc)
    return [_lead("hot", created, timedelta(minutes=12), delivered=True, conversation=WIDGET),
            _lead("warm", created + timedelta(days=2), delivered=False, conversation=REST)]


def test_compute_insights_from_scripted_conversations() -> None:
    insights = compute_insights(PERIOD, scripted_rows(), scripted_leads())
    assert [(s.label, s.count) for s in insights.funnel] == [
        ("Conversations", 4), ("Recommendations", 2), ('"Talk to an expert"', 1),
        ("Consent", 1), ("Leads", 2), ("Delivered to the CRM", 1)]
    assert [s.rate_from_previous for s in insights.funnel] == pytest.approx(
        [None, 0.5, 0.5, 1.0, 2.0, 0.5])
    assert insights.verdicts == (("hybrid", 1), ("vm", 1))
    assert insights.hybrid_kinds == (("vm_and_containers", 1),)
    assert insights.tiers == (("hot", 1), ("warm", 1), ("cold", 0), ("unqualified", 0))
    assert insights.lead_timing.taken == 1
    assert insights.lead_timing.median_seconds == 12 * 60
    assert insights.fallbacks == 2
    assert [(f.subject, f.helpful, f.not_helpful) for f in insights.feedback] == [
        ("ask_cost/general", 1, 0), ("recommendation/hybrid", 1, 0)]
    assert (insights.helpful, insights.not_helpful) == (2, 0)
    assert insights.channels == (("widget", 1), ("slack", 1), ("rest", 2), ("other", 0))
    assert (insights.handoffs, insights.person_requests) == (1, 2)
    by_day = {d.day: d for d in insights.daily}
    assert [d.day for d in insights.daily] == PERIOD.days()
    assert (by_day[date(2026, 11, 28)].conversations,
            by_day[date(2026, 11, 28)].recommendations,
            by_day[date(2026, 11, 28)].expert_requests,
            by_day[date(2026, 11, 28)].leads,
            by_day[date(2026, 11, 28)].helpful) == (1, 1, 1, 1, 1)
    assert (by_day[date(2026, 11, 30)].conversations, by_day[date(2026, 11, 30)].fallbacks,
            by_day[date(2026, 11, 30)].leads, by_day[date(2026, 11, 30)].helpful) == (3, 2, 1, 1)
    assert by_day[date(2026, 11, 29)].conversations == 0


def test_fallback_messages_are_the_messages_before_the_fallback_actions() -> None:
    messages = fallback_messages(scripted_rows())
    assert [(m.text, m.nearest) for m in messages] == [
        ("how do I pay by invoice?", "ask_cost"), ("best pizza near me", "out_of_scope")]


def test_a_fallback_without_a_message_in_the_period_is_counted_but_not_listed() -> None:
    rows = [EventRow(1, REST, "action", DAY3, "action_out_of_scope")]
    assert fallback_messages(rows) == []
    assert compute_insights(PERIOD, rows, []).fallbacks == 1


# ---- fallbacks: grouping and scrubbing ----------------------------------------------------

def _unit(*values: float) -> list[float]:
    vector = np.array(values, dtype=np.float32)
    return list(vector / np.linalg.norm(vector))


def test_group_by_similarity_groups_near_vectors_and_orders_by_size() -> None:
    messages = [FallbackMessage(i, text, nearest) for i, (text, nearest) in enumerate([
        ("pizza?", "out_of_scope"), ("invoice please", "ask_cost"),
        ("pay by invoice", "ask_cost"), ("can I get an invoice", "greet"),
        ("weather", "out_of_scope")])]
    vectors = [_unit(0, 1, 0), _unit(1, 0.05, 0), _unit(1, 0, 0.05), _unit(1, 0.1, 0.1),
               _unit(0, 0, 1)]
    groups = group_by_similarity(messages, vectors, threshold=0.9)
    assert [(g.count, g.nearest) for g in groups] == [
        (3, "ask_cost"), (1, "out_of_scope"), (1, "out_of_scope")]
    assert all(g.examples == () for g in groups)  # no texts unless asked for
    detailed = group_by_similarity(messages, vectors, threshold=0.9, with_examples=True)
    assert detailed[0].examples == ("invoice please", "pay by invoice", "can I get an invoice")
    # A low threshold puts everything together.
    assert [g.count for g in group_by_similarity(messages, vectors, threshold=-1.0)] == [5]


@pytest.mark.parametrize(("text", "scrubbed"), [
    ("mail me at jane.doe+x@acme.co.uk please", "mail me at [email] please"),
    ("call +44 20 7946 0958 tomorrow", "call [number] tomorrow"),
    ("my number is 0791-234-5678", "my number is [number]"),
    ("see https://example.com/a?b=1 ok", "see [link] ok"),
    ("we run 120 VMs on 3 hosts", "we run 120 VMs on 3 hosts"),
    ("  spaces \n and lines ", "spaces and lines"),
    ("x" * 200, "x" * 159 + "…"),
])
def test_scrub(text: str, scrubbed: str) -> None:
    assert scrub(text) == scrubbed


# ---- feedback buttons ---------------------------------------------------------------------

@pytest.mark.parametrize(("response", "key"), [
    ("utter_ask_cost/general", "ask_cost/general"),
    ("utter_ask_difference/shared_kernel", "ask_difference/shared_kernel"),
    ("utter_ask_isolation", None),  # a form question, not an answer
    ("utter_advisor_result", None),  # rated by action_recommend itself
    ("utter_greet", None),
])
def test_rated_answer_key(response: str, key: str | None) -> None:
    assert rated_answer_key(response) == key


def test_feedback_buttons_send_what_read_feedback_reads() -> None:
    up, down = feedback_buttons(recommendation_subject("hybrid"))
    assert up["payload"] == '/feedback{"helpful":"yes","about":"recommendation/hybrid"}'
    assert down["payload"] == '/feedback{"helpful":"no","about":"recommendation/hybrid"}'


@pytest.mark.parametrize(("entities", "expected"), [
    ([{"entity": "helpful", "value": "yes"}, {"entity": "about", "value": "ask_cost/x"}],
     ("yes", "ask_cost/x")),
    ([{"entity": "helpful", "value": "no"}, {"entity": "about", "value": "recommendation/vm"}],
     ("no", "recommendation/vm")),
    ([{"entity": "helpful", "value": "maybe"}, {"entity": "about", "value": "a"}], None),
    ([{"entity": "helpful", "value": "yes"}], None),
    ([], None),
])
def test_read_feedback(entities: list[dict[str, Any]], expected: tuple[str, str] | None) -> None:
    assert read_feedback(entities) == expected


# ---- the admin token ----------------------------------------------------------------------

def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(("header", "token"), [
    ("Bearer abc123", "abc123"),
    ("bearer   abc123  ", "abc123"),
    (_basic("admin", "s3cret:with:colons"), "s3cret:with:colons"),
    (_basic("", "pw"), "pw"),
    ("Basic !!!notbase64", ""),
    ("Token abc", ""),
    ("", ""),
])
def test_presented_token(header: str, token: str) -> None:
    assert presented_token(header) == token


def test_token_matches_only_the_exact_token_and_never_an_unset_one() -> None:
    assert token_matches("x" * 24, "x" * 24)
    assert not token_matches("x" * 23, "x" * 24)
    assert not token_matches("", "")
    assert not token_matches("anything", "")


def test_admin_token_must_not_be_guessable() -> None:
    with pytest.raises(SettingsError, match="ADMIN_TOKEN must be at least 16"):
        load_settings({"ADMIN_TOKEN": "short"}).check()
    load_settings({"ADMIN_TOKEN": "a" * 16}).check()


# ---- the page and the CSV -----------------------------------------------------------------

def test_page_shows_the_figures_and_escapes_what_visitors_typed() -> None:
    rows = scripted_rows()
    rows.append(EventRow(10_000, REST, "user", DAY3, "nlu_fallback",
                         {"text": "<script>alert(1)</script> mail a@b.io"}))
    rows.append(EventRow(10_001, REST, "action", DAY3, "action_default_fallback_with_topics"))
    messages = fallback_messages(rows)
    vectors = [_unit(1, i, 0) for i in range(len(messages))]
    page_without = render_page(compute_insights(
        PERIOD, rows, scripted_leads(), group_by_similarity(messages, vectors, 0.99)), {})
    assert 'data-figure="funnel.conversations">4<' in page_without
    assert 'data-figure="funnel.delivered">1<' in page_without
    assert 'data-figure="feedback.helpful">2<' in page_without
    assert 'data-figure="fallbacks">3<' in page_without
    assert "pizza" not in page_without and "script>alert" not in page_without
    assert "<svg" in page_without and "<script" not in page_without
    page_with = render_page(compute_insights(
        PERIOD, rows, scripted_leads(),
        group_by_similarity(messages, vectors, 0.99, with_examples=True), details=True), {})
    assert "best pizza near me" in page_with
    assert "&lt;script&gt;alert(1)&lt;/script&gt; mail [email]" in page_with
    assert "<script>" not in page_with


def test_csv_has_every_figure_and_defuses_formulas(tmp_path: Path) -> None:
    rows = scripted_rows()
    rows.append(EventRow(10_000, REST, "user", DAY3, "nlu_fallback", {"text": "=HYPERLINK(1)"}))
    rows.append(EventRow(10_001, REST, "action", DAY3, "action_out_of_scope"))
    messages = fallback_messages(rows)
    insights = compute_insights(
        PERIOD, rows, scripted_leads(),
        group_by_similarity(messages, [_unit(1, 0, i) for i in range(len(messages))], 2.0,
                            with_examples=True), details=True)
    figures = {(section, name): value for section, name, value, _ in figure_rows(insights)}
    assert figures[("funnel", "Leads")] == "2"
    assert figures[("lead_tier", "hot")] == "1"
    assert figures[("lead_taken", "median_seconds")] == "720"
    assert figures[("channel", "rest")] == "2"
    assert figures[("daily:2026-11-30", "fallbacks")] == "3"
    path = tmp_path / "insights.csv"
    write_csv(insights, path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("section,name,value,detail")
    assert "'=HYPERLINK(1)" in text


# ---- the thumbs on retrieval answers (Rasa's response generator) --------------------------

def test_answers_get_thumbs_after_their_own_buttons_but_not_in_a_form() -> None:
    import asyncio

    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActiveLoop
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.insights.feedback_nlg import FeedbackButtonsNLG

    domain = Domain.from_dict({
        "intents": ["ask_cost"],
        "responses": {
            "utter_ask_cost/general": [{"text": "It depends.",
                                        "buttons": [{"title": "More", "payload": "/more"}]}],
            "utter_greet": [{"text": "Hi"}]}})
    nlg = FeedbackButtonsNLG(domain=domain)
    talking = DialogueStateTracker.from_events("s", [])
    in_form = DialogueStateTracker.from_events("s", [ActiveLoop("lead_form")])

    def titles(response: str, tracker: DialogueStateTracker) -> list[str]:
        message = asyncio.run(nlg.generate(response, tracker, "rest")) or {}
        return [b["title"] for b in message.get("buttons") or []]

    assert titles("utter_ask_cost/general", talking) == ["More", "👍 Helpful", "👎 Not helpful"]
    assert titles("utter_ask_cost/general", in_form) == ["More"]
    assert titles("utter_greet", talking) == []
    # The domain's own response is left as it was.
    assert titles("utter_ask_cost/general", talking) == ["More", "👍 Helpful", "👎 Not helpful"]


def test_the_page_is_not_served_without_an_admin_token() -> None:
    from bot.channels.insights import InsightsInput

    async def ignore(_: Any) -> None:
        return None

    off = InsightsInput(load_settings({})).blueprint(ignore)
    on = InsightsInput(load_settings({"ADMIN_TOKEN": "t" * 20})).blueprint(ignore)
    assert [route.uri for route in off._future_routes] == []
    assert [route.uri for route in on._future_routes] == ["/insights"]
    assert InsightsInput(load_settings({})).url_prefix() == "/admin"
