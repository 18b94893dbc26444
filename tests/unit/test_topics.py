from bot.topics import (
    MIN_ANSWER_CONFIDENCE,
    TOPIC_TITLES,
    show_answer_payload,
    suggest_answers,
)


def _answer(key: str, confidence: float, title: str = "") -> dict[str, object]:
    return {"intent_response_key": key, "confidence": confidence, "title": title or key}


def test_offers_the_two_likeliest_specific_answers_with_their_titles() -> None:
    answers = [_answer("ask_cost/esxi_free", 0.4, "Is ESXi still free?"),
               _answer("ask_cost/vmware_broadcom", 0.3, "VMware after Broadcom"),
               _answer("ask_cost/general", 0.1, "Costs and licensing")]
    suggestions = suggest_answers(answers, [])
    assert [s.title for s in suggestions] == ["Is ESXi still free?", "VMware after Broadcom"]
    assert suggestions[0].payload == '/show_answer{"answer_key": "ask_cost/esxi_free"}'


def test_an_intent_that_is_not_an_answer_competes_on_confidence() -> None:
    answers = [_answer("ask_cost/esxi_free", 0.2)]
    intents = [{"name": "contact_sales", "confidence": 0.5}, {"name": "greet", "confidence": 0.9}]
    suggestions = suggest_answers(answers, intents)
    assert [s.payload for s in suggestions] == ["/contact_sales", show_answer_payload(
        "ask_cost/esxi_free")]


def test_the_workload_answer_starts_the_questionnaire() -> None:
    [suggestion] = suggest_answers(
        [_answer("ask_use_case_recommendation/my_workload", 0.5)], [], limit=1)
    assert suggestion.payload == "/ask_use_case_recommendation"
    assert suggestion.title == TOPIC_TITLES["ask_use_case_recommendation"]


def test_titles_given_by_the_caller_win_over_the_ranking() -> None:
    [suggestion] = suggest_answers([_answer("ask_offerings/vms", 0.5)], [],
                                   {"ask_offerings/vms": "Our Cloud Compute VMs"})
    assert suggestion.title == "Our Cloud Compute VMs"


def test_nothing_is_offered_below_the_floor_or_for_malformed_entries() -> None:
    assert suggest_answers([_answer("ask_cost/esxi_free", MIN_ANSWER_CONFIDENCE / 2)], []) == []
    assert suggest_answers([{"confidence": 0.9}, {"intent_response_key": "ask_cost/x"}],
                           [{"name": "ask_cost"}]) == []
