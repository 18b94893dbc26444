"""The benchmark compares like with like: a turn where the two assistants ran different
actions gets no ratio, and the report says which turn and what each side ran (issue 14)."""

from __future__ import annotations

from typing import Any

from bench import visitor
from bench.run import Sequential, compare, refusals

FORM = visitor.Turn(visitor.FORM_START, "I'd like a recommendation for my workload")
FAQ = visitor.Turn(visitor.FAQ, "what is a container?")


def run_of(ours: list[list[str]], stock: list[list[str]], ok_stock: bool = True,
           latency: tuple[float, float] = (0.02, 0.2)) -> Sequential:
    """Two conversations of the turns (FAQ, FORM) with the given actions per turn."""
    turns = (FAQ, FORM)
    return Sequential(
        conversations=[turns, turns],
        latency={"ours": [[latency[0]] * 2] * 2, "stock": [[latency[1]] * 2] * 2},
        ok={"ours": [[True, True]] * 2, "stock": [[True, ok_stock]] * 2},
        actions={"ours": [ours] * 2, "stock": [stock] * 2},
    )


def test_turns_with_the_same_actions_are_compared() -> None:
    run = run_of([["utter_ask_x"], ["utter_advisor_start", "advisor_form"]],
                 [["utter_ask_x"], ["utter_advisor_start", "advisor_form"]])
    stats = run.stats(visitor.FORM_START)
    assert (stats["turns"], stats["compared"], stats["left_out"]) == (2, 2, [])
    assert stats["sides"]["ours"]["p50_ms"] == 20.0


def test_a_turn_with_other_actions_is_left_out_and_named() -> None:
    run = run_of([["utter_ask_x"], ["utter_advisor_start", "advisor_form"]],
                 [["utter_ask_x"], ["utter_out_of_scope"]])
    stats = run.stats(visitor.FORM_START)
    assert stats["compared"] == 0
    assert stats["left_out"] == [{
        "kind": visitor.FORM_START, "text": FORM.text, "times": 2,
        "actions": {"ours": "utter_advisor_start advisor_form",
                    "stock": "utter_out_of_scope"}}]
    assert run.stats(visitor.FAQ)["compared"] == 2  # the other turns still count


def test_a_failed_turn_is_never_compared() -> None:
    same = [["utter_ask_x"], ["advisor_form"]]
    stats = run_of(same, same, ok_stock=False).stats(visitor.FORM_START)
    assert stats["compared"] == 0
    assert stats["left_out"][0]["actions"]["stock"] == "(failed)"


def _figures(run: Sequential) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    per_kind = {kind: run.stats(kind) for kind in visitor.KINDS}
    faq = run.stats(visitor.FAQ)
    sides = {}
    for name in ("ours", "stock"):
        sides[name] = {
            "parse": {"p50_ms": 4.0}, "parse_new_text": {"p50_ms": 9.0},
            "faq_turn_new_text": faq["sides"][name], "faq_turn_repeated_text":
                faq["sides"][name],
            "turns": {kind: stats["sides"][name] for kind, stats in per_kind.items()},
            "load": [{"concurrency": c, "turns_per_s": 10.0, "errors": 0,
                      "latency": {"p95_ms": 50.0}} for c in (1, 8, 32)],
            "cold_start_s": 10.0, "peak_rss_mb": {"rasa": 500.0, "actions": 80.0},
            "intents": None,
        }
    fairness = {"faq_turn_new_text": faq, "faq_turn_repeated_text": faq,
                **{k: {kk: vv for kk, vv in v.items() if kk != "sides"}
                   for k, v in per_kind.items()}}
    return sides["ours"], sides["stock"], fairness


def test_the_table_refuses_a_ratio_and_says_why() -> None:
    run = run_of([["utter_ask_x"], ["utter_advisor_start", "advisor_form"]],
                 [["utter_ask_x"], ["utter_out_of_scope"]])
    ours, stock, fairness = _figures(run)
    rows = {r["metric"]: r for r in compare(ours, stock, fairness)}
    form_p95 = rows[f"visit: {visitor.FORM_START} p95"]
    assert form_p95["ratio"] is None and form_p95["pass"] is None
    assert "no ratio" in form_p95["note"]
    faq_p95 = rows[f"visit: {visitor.FAQ} p95"]
    assert faq_p95["ratio"] == 0.1 and faq_p95["pass"] is True
    lines = refusals(fairness)
    assert any("utter_out_of_scope" in line and FORM.text in line for line in lines)


def test_faq_questions_do_not_repeat_within_a_run() -> None:
    texts = [visitor.faq_question(n) for n in range(visitor.distinct_faq_questions())]
    assert len(set(texts)) == len(texts)
    first, second = visitor.conversation(1), visitor.conversation(2)
    assert [t.kind for t in first] == [t.kind for t in second]
    assert first[1].text != second[1].text
    assert sum(t.kind == visitor.LEAD_FIELD for t in first) == 3
