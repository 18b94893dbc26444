from bot.topics import TOPIC_TITLES, suggest_topics


def test_suggests_the_two_most_likely_known_topics() -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.3},
        {"name": "ask_cost", "confidence": 0.2},
        {"name": "greet", "confidence": 0.19},
        {"name": "ask_os_support", "confidence": 0.25},
        {"name": "ask_portability", "confidence": 0.1},
    ]
    suggestions = suggest_topics(ranking)
    assert [s.intent for s in suggestions] == ["ask_os_support", "ask_cost"]
    assert suggestions[0].title == TOPIC_TITLES["ask_os_support"]


def test_weak_guesses_are_not_offered() -> None:
    ranking = [
        {"name": "ask_cost", "confidence": 0.05},
        {"name": "ask_difference", "confidence": 0.01},
    ]
    assert suggest_topics(ranking) == []


def test_handles_missing_fields() -> None:
    assert suggest_topics([{"name": "ask_cost"}, {"confidence": 0.9}]) == []
